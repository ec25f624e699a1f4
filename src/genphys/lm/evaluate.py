"""Bits per byte and next-token accuracy of a trained model on any text (chapter 7).

Each story is scored on its own: the model reads ``<eot> story``, and is charged for every token
of the story and the closing ``<eot>``.  Bits per byte is tokenizer-independent:

    bpb = (sum of -ln p over scored tokens) / ln 2 / (UTF-8 bytes of the stories).

Command line (last line ``bits_per_byte=<float> accuracy=<float>``)::

    python -m genphys.lm.evaluate --run runs/NAME --text FILE [--unit paragraph] [--max-stories N]

A text without ``<|endoftext|>`` separators is refused unless ``--unit paragraph`` says to cut it
at blank lines.
"""

from __future__ import annotations

import argparse
import itertools
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from genphys import cli, validate
from genphys.lm.checkpoint import RunError, load_run
from genphys.lm.data import utf8_bytes
from genphys.stories import UNITS, read_stories

__all__ = ["evaluate", "source_bits_per_byte"]


@torch.no_grad()
def evaluate(model, tokenizer, texts: list[str], *, batch_size: int = 16, device=None, window: int | None = None,
             mentions: list | None = None) -> dict:
    """``bits_per_byte``, ``accuracy``, ``nll_nats``, ``tokens``, ``bytes`` and ``stories`` of ``model`` on ``texts``.

    ``window``: the trained length.  A token predicted from more than ``window`` positions (the
    j-th scored token of a story, j >= window, counting from 0) lies beyond what the model was
    trained on; those tokens are left out of the headline numbers and reported apart under
    ``"beyond"`` (``tokens``, ``nll_nats``, ``bits_per_byte``).  ``mentions``: per text, the
    ``(start, end)`` character spans of its repeat mentions (:func:`genphys.stories.sample_with_mentions`);
    the result then has ``"recall"`` (tokens overlapping a span) and ``"other"`` (the rest), each with
    ``tokens`` and ``nats_per_token``, inside the window.  Bytes are counted per token
    (:meth:`~genphys.lm.tokenizer.Tokenizer.byte_lengths`), so they add up to the stories' UTF-8 bytes.
    """
    if isinstance(texts, (str, bytes)) or not isinstance(texts, (list, tuple)) \
            or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a list of strings (stories)")
    if not texts:
        raise ValueError("texts is empty: nothing to evaluate")
    if not any(texts):
        raise ValueError("texts hold no characters: bits per byte is undefined")
    batch_size = validate.integer(batch_size, "batch_size", low=1)
    window = None if window is None else validate.integer(window, "window", low=1)
    if mentions is not None and (not isinstance(mentions, (list, tuple)) or len(mentions) != len(texts)):
        raise ValueError(f"mentions must be a list of span lists, one per text ({len(texts)})")
    vocab = getattr(getattr(model, "cfg", None), "vocab_size", None)
    if vocab is not None and tokenizer.vocab_size > vocab:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens, the model only {vocab}: "
                         "token ids >= the model's vocabulary cannot be scored")
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    nbytes = torch.tensor(tokenizer.byte_lengths(), dtype=torch.float64)
    rows = sorted(((tokenizer.encode_with_offsets(t), i) for i, t in enumerate(texts)), key=lambda r: len(r[0][0]))
    sums = {k: torch.zeros(5, dtype=torch.float64) for k in ("inside", "beyond", "recall", "other")}  # nll, right, n, bytes
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        width = max(len(ids) for (ids, _), _ in chunk) + 2
        idx = torch.full((len(chunk), width), tokenizer.eot, dtype=torch.long)
        scored = torch.zeros(len(chunk), width - 1, dtype=torch.bool)
        recall = torch.zeros(len(chunk), width - 1, dtype=torch.bool)
        for r, ((ids, offsets), i) in enumerate(chunk):
            idx[r, 1:len(ids) + 1] = torch.tensor(ids, dtype=torch.long)
            scored[r, :len(ids) + 1] = True                     # the story's tokens and its closing <eot>
            if mentions is not None:
                recall[r, :len(ids)] = torch.tensor(_overlaps(offsets, mentions[i]), dtype=torch.bool)
        logits = model(idx[:, :-1].to(device)).double().cpu()
        target = idx[:, 1:]
        losses = F.cross_entropy(logits.transpose(1, 2), target, reduction="none")
        right = (logits.argmax(-1) == target).double()
        inside = scored & (torch.arange(width - 1) < window) if window else scored
        for key, mask in (("inside", inside), ("beyond", scored & ~inside), ("recall", inside & recall),
                          ("other", inside & ~recall)):
            sums[key] += torch.stack([losses[mask].sum(), right[mask].sum(), mask.sum(), nbytes[target[mask]].sum(),
                                      torch.zeros((), dtype=torch.float64)])
    model.train(was_training)
    nll, right, count, total_bytes = sums["inside"][:4].tolist()
    beyond = sums["beyond"][:4].tolist()
    out = {"bits_per_byte": nll / math.log(2) / total_bytes, "accuracy": right / count, "nll_nats": nll,
           "tokens": int(count), "bytes": int(total_bytes), "stories": len(texts),
           "beyond": {"tokens": int(beyond[2]), "nll_nats": beyond[0],
                      "bits_per_byte": beyond[0] / math.log(2) / beyond[3] if beyond[3] else None}}
    if mentions is not None:
        for key in ("recall", "other"):
            n = sums[key][2].item()
            out[key] = {"tokens": int(n), "nats_per_token": sums[key][0].item() / n if n else None}
    return out


def _overlaps(offsets, spans) -> list[bool]:
    """Per token ``(start, end)``, whether it overlaps one of the character ``spans``."""
    return [any(a < e and s < b for s, e in spans) for a, b in offsets]


def source_bits_per_byte(texts: list[str]) -> float:
    """The story source's exact -sum log p(story) / ln 2 / bytes on these stories: the floor (chapter 1)."""
    from genphys import stories

    return -sum(stories.log_prob(t) for t in texts) / math.log(2) / utf8_bytes(texts)


def main(argv=None) -> dict:
    prog = "python -m genphys.lm.evaluate"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="run folder written by genphys.lm.train")
    parser.add_argument("--text", required=True, help="text file in TinyStories format")
    parser.add_argument("--unit", default="story", choices=UNITS,
                        help="story: stories separated by <|endoftext|> lines; paragraph: by blank lines")
    parser.add_argument("--max-stories", type=cli.integer(1), default=None, help="score the first N stories")
    parser.add_argument("--batch-size", type=cli.integer(1), default=16)
    args = parser.parse_args(argv)
    try:
        texts = list(itertools.islice(read_stories(Path(args.text), args.unit), args.max_stories))
        if not texts:
            raise ValueError(f"{args.text} holds no stories")
        model, tok, _ = load_run(args.run)
        res = evaluate(model, tok, texts, batch_size=args.batch_size)
    except (RunError, ValueError, FileNotFoundError) as err:
        cli.fail(prog, err)
    print(f"stories={res['stories']} tokens={res['tokens']} bytes={res['bytes']}")
    print(f"bits_per_byte={res['bits_per_byte']:.6f} accuracy={res['accuracy']:.6f}")
    return res


if __name__ == "__main__":
    main()
