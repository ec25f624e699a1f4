"""Training and validation text for chapter 7, tokenised and packed.

Three sources, named by ``spec``:

* ``"stories"`` - the offline story source of chapter 1 (:mod:`genphys.stories`), unlimited and
  seeded; validation stories come from a seed range disjoint from every training seed;
* ``"tinystories"`` - ``datasets.load_dataset("roneneldan/TinyStories")`` (cached by ``datasets``),
  shuffled by seed; validation is its validation split.  When the hub cannot be reached, one
  line says so and the story source is used instead (``strict=True`` raises
  :class:`SourceUnavailable` instead: a caller that names TinyStories gets it or nothing);
* a path to a text file in TinyStories format (stories separated by ``<|endoftext|>`` lines):
  every 20th story is held out for validation; training order is shuffled by seed (and epoch)
  in a streaming buffer.  The file is checked before any training (:func:`check_file`): UTF-8
  (an error names the byte offset), separators present, at least 20 stories (one held out).

Training text is streamed, tokenised story by story and packed into fixed-length rows of
``seq_len + 1`` tokens (stories joined by the end-of-text token); nothing is loaded whole.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from genphys import stories, validate

__all__ = ["VALID_SEED", "HOLDOUT_EVERY", "SHUFFLE_BUFFER", "SourceUnavailable", "Source", "check_file", "source",
           "StreamEnded", "PackedStream", "utf8_bytes"]

VALID_SEED = 2**31 - 1            #: story-source seed of the validation text; training seeds stay below it
HOLDOUT_EVERY = 20                 #: text files: story i is validation when i % 20 == 19
SHUFFLE_BUFFER = 2048              #: stories held by the streaming shuffle of a training text


def _shuffled(stream: Iterator[str], seed: int, buffer: int = SHUFFLE_BUFFER) -> Iterator[str]:
    """A seeded streaming shuffle (reservoir of ``buffer`` items)."""
    rng = random.Random(seed)
    pool: list[str] = []
    for item in stream:
        if len(pool) < buffer:
            pool.append(item)
            continue
        i = rng.randrange(buffer)
        yield pool[i]
        pool[i] = item
    rng.shuffle(pool)
    yield from pool


def _load_tinystories(split: str):
    import datasets

    return datasets.load_dataset("roneneldan/TinyStories", split=split)


class SourceUnavailable(RuntimeError):
    """A strict :func:`source` could not reach the dataset it names (no fallback was taken)."""


@dataclass(frozen=True)
class Source:
    """Where text comes from: ``train(seed)`` streams training stories, ``validation(n)`` gives held-out ones.

    ``name`` says what the text actually is (``"stories"`` also when ``"tinystories"`` fell back to
    the story source; ``note`` then says why).
    """

    name: str
    train: Callable[[int], Iterator[str]]
    validation: Callable[[int], list[str]]
    note: str = ""


def check_file(path, unit: str = "story") -> int:
    """The number of stories of a text file, read once; ValueError naming the file if it cannot be trained on.

    Refused: a file that is not UTF-8 (the byte offset is named), one without story separators
    (``unit="story"``), and one with fewer than :data:`HOLDOUT_EVERY` stories (none would be held out).
    """
    count = sum(1 for _ in stories.read_stories(path, unit))
    if count < HOLDOUT_EVERY:
        raise ValueError(f"{path} holds {count} stories; at least {HOLDOUT_EVERY} are needed "
                         f"(every {HOLDOUT_EVERY}th story is held out for validation)")
    return count


def _validation_size(n) -> int:
    return validate.integer(n, "n", low=1)


def source(spec: str, *, loader: Callable | None = None, log: Callable[[str], None] = print,
           strict: bool = False) -> Source:
    """The text source named by ``spec``: ``"stories"``, ``"tinystories"`` or a path to a text file.

    ``loader(split)`` loads a TinyStories split (default :func:`_load_tinystories`, looked up at the call).
    When it fails, the story source stands in with a ``note``; with ``strict=True``
    :class:`SourceUnavailable` is raised instead, in one line.
    """
    strict = validate.flag(strict, "strict")
    if not isinstance(spec, (str, Path)):
        raise TypeError(f"data spec must be 'stories', 'tinystories' or a file path, got {type(spec).__name__}")
    spec = str(spec)

    def train_seed(seed) -> int:
        return validate.integer(seed, "training seed", low=0, high=VALID_SEED, high_open=True)

    if spec == "stories":
        st = stories
        return Source("stories", lambda seed: st.stream(train_seed(seed)),
                      lambda n: st.sample(_validation_size(n), VALID_SEED))
    if spec == "tinystories":
        loader = loader or _load_tinystories
        try:
            train_split, valid_split = loader("train"), loader("validation")
        except Exception as err:  # noqa: BLE001 - any failure to reach the hub means: fall back
            if strict:
                reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
                raise SourceUnavailable(f"TinyStories could not be loaded ({type(err).__name__}"
                                        f"{': ' + reason if reason else ''}); no other text stands in "
                                        "for data named 'tinystories'") from None
            note = f"TinyStories unavailable ({type(err).__name__}); using the offline story source (genphys.stories) instead."
            log(note)
            return Source(**{**source("stories").__dict__, "note": note})
        return Source("tinystories",
                      lambda seed: _epochs(lambda epoch: (row["text"].strip() for row in
                                                          train_split.shuffle(seed=train_seed(seed) + 7919 * epoch))),
                      lambda n: [row["text"].strip() for row in
                                 valid_split.select(range(min(_validation_size(n), len(valid_split))))])
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"data must be 'stories', 'tinystories' or an existing text file; {spec!r} is none of these")
    check_file(path)

    def train_file(seed):
        seed = train_seed(seed)
        return _epochs(lambda epoch: _shuffled((s for i, s in enumerate(stories.read_stories(path))
                                                if i % HOLDOUT_EVERY != HOLDOUT_EVERY - 1), seed + 7919 * epoch))

    def valid_file(n):
        held = (s for i, s in enumerate(stories.read_stories(path)) if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1)
        return list(itertools.islice(held, _validation_size(n)))

    return Source(f"file:{path.name}", train_file, valid_file)


def _epochs(make: Callable[[int], Iterator[str]]) -> Iterator[str]:
    """``make(0)``, then ``make(1)``, ...: epoch after epoch (a file is finite; training may want more)."""
    for epoch in itertools.count():
        empty = True
        for item in make(epoch):
            empty = False
            yield item
        if empty:
            raise ValueError("the training text holds no stories")


class StreamEnded(ValueError):
    """A finite story stream ran out before the rows asked for were filled."""


class PackedStream:
    """Rows of ``seq_len + 1`` token ids packed from a story stream; ``position`` rows consumed so far.

    Deterministic: the same source, seed and tokenizer give the same rows, so a run resumes by
    skipping ``position`` rows.  The sources of :func:`source` never end (files repeat epoch after
    epoch); a finite stream that runs out raises :class:`StreamEnded`.
    """

    def __init__(self, stories: Iterable[str], tokenizer, seq_len: int, position: int = 0):
        if isinstance(stories, (str, bytes)) or not isinstance(stories, Iterable):
            raise TypeError(f"stories must be an iterable of str, got {type(stories).__name__}")
        self.seq_len = validate.integer(seq_len, "seq_len", low=1)
        position = validate.integer(position, "position", low=0)
        self.stories, self.tok = iter(stories), tokenizer
        self.buffer: list[int] = []
        self.position = 0
        for _ in range(position):
            self._row()

    def _row(self) -> list[int]:
        need = self.seq_len + 1
        while len(self.buffer) < need:
            batch = list(itertools.islice(self.stories, 64))
            if not batch:
                raise StreamEnded(f"the story stream ended after {self.position} rows of {need} tokens; "
                                  "give PackedStream an endless stream (the sources of genphys.lm.data are)")
            if not all(isinstance(t, str) for t in batch):
                raise TypeError("stories must yield str")
            for ids in self.tok.encode_batch(batch):
                self.buffer.extend(ids)
                self.buffer.append(self.tok.eot)
        row, self.buffer = self.buffer[:need], self.buffer[need:]
        self.position += 1
        return row

    def batch(self, size: int) -> np.ndarray:
        """The next ``size`` rows as an int64 array of shape (size, seq_len + 1)."""
        size = validate.integer(size, "size", low=1)
        return np.array([self._row() for _ in range(size)], dtype=np.int64)


def utf8_bytes(texts) -> int:
    """Total UTF-8 bytes of ``texts`` (the denominator of bits per byte, as in chapter 1)."""
    return sum(map(stories.n_bytes, texts))
