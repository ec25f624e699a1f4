"""Byte-level BPE trained locally with HF ``tokenizers`` (chapter 7).

Byte-level: every UTF-8 byte is in the base alphabet, so any text encodes, and decoding the ids
gives the text back exactly.  The end-of-text token ``<|endoftext|>`` separates stories.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from genphys.histories import EOT

FILE = "tokenizer.json"


class Tokenizer:
    """A thin wrapper: ``encode(text) -> list[int]``, ``decode(ids) -> str``, ``eot``, ``vocab_size``."""

    def __init__(self, hf):
        self.hf = hf
        self.eot = hf.token_to_id(EOT)
        if self.eot is None:
            raise ValueError(f"tokenizer has no {EOT!r} token")

    @property
    def vocab_size(self) -> int:
        return self.hf.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return self.hf.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.hf.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids) -> str:
        return self.hf.decode(list(map(int, ids)), skip_special_tokens=False)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self.hf.save(str(path))
        return path

    @classmethod
    def load(cls, folder: str | Path) -> "Tokenizer":
        from tokenizers import Tokenizer as HFTokenizer

        path = Path(folder) / FILE
        if not path.is_file():
            raise FileNotFoundError(f"no {FILE} in {folder}")
        return cls(HFTokenizer.from_file(str(path)))


def train(texts: Iterable[str], vocab_size: int) -> Tokenizer:
    """Train a byte-level BPE with ``vocab_size`` tokens (256 bytes + EOT + merges) on ``texts``."""
    from tokenizers import Tokenizer as HFTokenizer, decoders, models, pre_tokenizers, trainers

    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 258:
        raise ValueError(f"vocab_size must be an int >= 258 (256 bytes, EOT, one merge), got {vocab_size!r}")
    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    hf.train_from_iterator(texts, trainer=trainer)
    return Tokenizer(hf)
