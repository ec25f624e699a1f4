"""Generation from a trained chapter-7 model by its O(1)-state recurrence (KV cache for the transformer).

Command line::

    python -m genphys.lm.sample --run runs/NAME [--prompt "Once upon a time"] [--n 3] [--max-tokens 200]
"""

from __future__ import annotations

import argparse

import torch

from genphys import cli, validate
from genphys.lm.checkpoint import RunError, load_run

__all__ = ["generate", "main"]


@torch.no_grad()
def generate(model, tokenizer, prompt: str = "", *, n: int = 1, max_new_tokens: int = 200,
             temperature: float = 1.0, top_k: int | None = None, seed: int = 0) -> list[str]:
    """``n`` continuations of ``prompt`` (each starts after an end-of-text token), stopping at end of text.

    Next token ~ softmax(logits / temperature), restricted to the ``top_k`` most likely when given;
    ``temperature=0`` takes the most likely token.  The model reads one token per step via
    ``model.step`` (recurrent state, or key/value cache for the transformer); its training mode
    is restored afterwards.
    """
    validate.text(prompt, "prompt")
    n = validate.integer(n, "n", low=1)
    max_new_tokens = validate.integer(max_new_tokens, "max_new_tokens", low=0)
    temperature = validate.real(temperature, "temperature", low=0)
    if top_k is not None:
        top_k = validate.integer(top_k, "top_k", low=1)
    seed = validate.seed(seed)
    was_training = model.training
    model.eval()
    try:
        return _generate(model, tokenizer, prompt, n, max_new_tokens, temperature, top_k, seed)
    finally:
        model.train(was_training)


def _generate(model, tokenizer, prompt, n, max_new_tokens, temperature, top_k, seed):
    device = next(model.parameters()).device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    ids = [tokenizer.eot] + tokenizer.encode(prompt)
    state = model.init_state(n)
    for t in ids:
        logits, state = model.step(torch.full((n,), t, dtype=torch.long, device=device), state)
    out = [[] for _ in range(n)]
    done = torch.zeros(n, dtype=torch.bool)
    for _ in range(max_new_tokens):
        logits = logits.float().cpu()
        if temperature == 0:
            nxt = logits.argmax(-1)
        else:
            logits = logits / temperature
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = torch.multinomial(logits.softmax(-1), 1, generator=gen)[:, 0]
        for i in range(n):
            if not done[i]:
                if nxt[i].item() == tokenizer.eot:
                    done[i] = True
                else:
                    out[i].append(nxt[i].item())
        if done.all():
            break
        logits, state = model.step(nxt.to(device), state)
    return [prompt + tokenizer.decode(o) for o in out]


def main(argv=None) -> list[str]:
    """``python -m genphys.lm.sample``: print samples of a trained run and return them (errors: one line)."""
    prog = "python -m genphys.lm.sample"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="run folder written by genphys.lm.train")
    parser.add_argument("--prompt", default="")
    parser.add_argument("--n", type=cli.integer(1), default=3)
    parser.add_argument("--max-tokens", type=cli.integer(1), default=200)
    parser.add_argument("--temperature", type=cli.real(0), default=0.8, help="0: always the most likely token")
    parser.add_argument("--top-k", type=cli.integer(1), default=None)
    parser.add_argument("--seed", type=cli.integer(0, 2**32 - 1), default=0)
    args = parser.parse_args(argv)
    try:
        model, tok, _ = load_run(args.run)
    except (RunError, FileNotFoundError) as err:
        cli.fail(prog, err)
    texts = generate(model, tok, args.prompt, n=args.n, max_new_tokens=args.max_tokens,
                     temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    for i, text in enumerate(texts):
        print(f"--- sample {i}\n{text}")
    return texts


if __name__ == "__main__":
    main()
