"""The language models of chapter 7: data, tokenizer, models, training, evaluation, spectra, sampling.

Submodules import torch; import them explicitly (``from genphys.lm import models``).
Command lines: ``python -m genphys.lm.train``, ``python -m genphys.lm.sample``,
``python -m genphys.lm.evaluate``.
"""
