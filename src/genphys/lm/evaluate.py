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


@torch.no_grad()
def evaluate(model, tokenizer, texts: list[str], *, batch_size: int = 16, device=None) -> dict:
    """``bits_per_byte``, ``accuracy``, ``nll_nats``, ``tokens``, ``bytes`` and ``stories`` of ``model`` on ``texts``."""
    if isinstance(texts, (str, bytes)) or not isinstance(texts, (list, tuple)) \
            or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a list of strings (stories)")
    if not texts:
        raise ValueError("texts is empty: nothing to evaluate")
    if not any(texts):
        raise ValueError("texts hold no characters: bits per byte is undefined")
    batch_size = validate.integer(batch_size, "batch_size", low=1)
    vocab = getattr(getattr(model, "cfg", None), "vocab_size", None)
    if vocab is not None and tokenizer.vocab_size > vocab:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens, the model only {vocab}: "
                         "token ids >= the model's vocabulary cannot be scored")
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    rows = sorted((tokenizer.encode(t) for t in texts), key=len)
    nll, correct, count = 0.0, 0, 0
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        width = max(len(r) for r in chunk) + 2
        idx = torch.full((len(chunk), width), tokenizer.eot, dtype=torch.long)
        mask = torch.zeros(len(chunk), width - 1, dtype=torch.bool)
        for i, r in enumerate(chunk):
            idx[i, 1:len(r) + 1] = torch.tensor(r, dtype=torch.long)
            mask[i, :len(r) + 1] = True                     # the story's tokens and its closing <eot>
        idx, mask = idx.to(device), mask.to(device)
        logits = model(idx[:, :-1]).double()
        target = idx[:, 1:]
        losses = F.cross_entropy(logits.transpose(1, 2), target, reduction="none")
        nll += losses[mask].double().sum().item()
        correct += (logits.argmax(-1) == target)[mask].sum().item()
        count += int(mask.sum().item())
    model.train(was_training)
    total_bytes = utf8_bytes(texts)
    return {"bits_per_byte": nll / math.log(2) / total_bytes, "accuracy": correct / count,
            "nll_nats": nll, "tokens": count, "bytes": total_bytes, "stories": len(texts)}


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
