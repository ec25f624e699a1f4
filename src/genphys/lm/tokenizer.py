"""Byte-level BPE trained locally with HF ``tokenizers`` (chapter 7).

Byte-level: every UTF-8 byte is in the base alphabet, so any text encodes, and decoding the ids
gives the text back exactly.  The end-of-text token ``<|endoftext|>`` separates stories.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from genphys import validate
from genphys.histories import EOT

__all__ = ["FILE", "Tokenizer", "train"]

#: The file a trained tokenizer is saved as.
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
        validate.text(text, "text")
        return self.hf.encode(text, add_special_tokens=False).ids

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """The ids of ``text`` and, per token, the ``(start, end)`` character span it covers."""
        validate.text(text, "text")
        enc = self.hf.encode(text, add_special_tokens=False)
        return enc.ids, [tuple(o) for o in enc.offsets]

    def byte_lengths(self) -> list[int]:
        """UTF-8 bytes of every token (0 for ``<|endoftext|>``): byte-level BPE writes one character per byte."""
        if not hasattr(self, "_bytes"):
            self._bytes = [0 if i == self.eot else len(self.hf.id_to_token(i)) for i in range(self.vocab_size)]
        return self._bytes

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        texts = list(texts) if not isinstance(texts, str) else None
        if texts is None or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be a list of str")
        return [e.ids for e in self.hf.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids) -> str:
        if isinstance(ids, (str, bytes)):
            raise TypeError("ids must be a sequence of token ids")
        ids = [validate.integer(i, "ids[i]", low=0, high=self.vocab_size, high_open=True) for i in ids]
        return self.hf.decode(ids, skip_special_tokens=False)

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

    vocab_size = validate.integer(vocab_size, "vocab_size (256 bytes, EOT and at least one merge)", low=258)
    if isinstance(texts, str):
        raise TypeError("texts must be an iterable of stories, not one str")
    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    hf.train_from_iterator(texts, trainer=trainer)
    return Tokenizer(hf)
