"""The language models of chapter 7: data, tokenizer, models, training, evaluation, spectra, sampling.

The models, training, evaluation and sampling import torch (``pip install "genphys[lm]"``); import
the submodules explicitly (``from genphys.lm import models``).  Command lines:
``python -m genphys.lm.train`` (``genphys-train``), ``python -m genphys.lm.sample`` (``genphys-sample``),
``python -m genphys.lm.evaluate`` (``genphys-evaluate``), ``python -m genphys.lm.compare``
(``genphys-compare``).
"""

__all__: list[str] = []     # the subpackage holds modules only: import them by name
