"""Chen's stochastic-attention reading of a transformer, as an instrument on token Fock space (chapter 2).

Attention that *samples* one key per head, instead of averaging the values with the softmax
weights, makes the attended positions an unobserved environment index ``s`` of the instrument
of chapter 2: ``Phi_y = sum_s K_{y,s} . K_{y,s}^dag`` (chapter 2, eq. ch2-stochastic).  This
module builds that reading for a transformer (:func:`genphys.lm.models.build_model` with ``"transformer"``), its fine-grained
Kraus operators, and the total-variation gap between the soft and the stochastic readings.
"""

from __future__ import annotations

import copy
import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from genphys import config, fock, histories, validate
from genphys.histories import GAISystem
from genphys.lm.models import LM, ModelConfig, build_model

__all__ = ["READINGS", "StochasticAttention", "environment_kraus", "attention_tv_gap", "train_tiny_transformer"]

#: How :class:`StochasticAttention` reads attention: softly, or as a sampled environment index.
READINGS = ("soft", "all_blocks", "block_per_step")


def _attention_branches(model, idx, stochastic: Sequence[int]):
    """Branches of the last position's computation: weights ``pi(s)`` and next-token probabilities ``p(y | s)``.

    In every block listed in ``stochastic`` each head of the last query attends to one
    key ``s`` drawn with its softmax weight (the value ``v_s`` replaces ``sum_s a_s v_s``);
    earlier positions keep their exact (soft) states.  Uses the model's own modules.
    """
    x = model.embed(idx)
    inputs = []
    for block in model.blocks:
        inputs.append(x)
        x = block(x)
    last, weight = inputs[0][:, -1:], torch.ones(1, dtype=x.dtype)
    T = idx.shape[1]
    for layer, block in enumerate(model.blocks):
        seq = torch.cat([inputs[layer][:, :-1].expand(last.shape[0], -1, -1), last], dim=1)
        q, k, v = block.mix.queries_keys_values(block.norm1(seq))
        a = ((q[:, :, -1:] @ k.transpose(-1, -2)).squeeze(2) / math.sqrt(q.shape[-1])).softmax(-1)  # (B, H, T)
        if layer in stochastic:
            H = a.shape[1]
            combos = torch.cartesian_prod(*[torch.arange(T)] * H).reshape(-1, H)  # (C, H)
            heads = torch.arange(H)
            w = a[:, heads, combos].prod(-1)                                       # (B, C)
            y = v[:, heads, combos]                                                # (B, C, H, dh)
            weight = (weight[:, None] * w).reshape(-1)
            last = last.repeat_interleave(len(combos), dim=0)
            y = y.reshape(last.shape[0], 1, -1)
        else:
            y = (a[..., None] * v).sum(-2).reshape(last.shape[0], 1, -1)
        last = last + block.mix.proj(y)
        last = last + block.mlp(block.norm2(last))
    probs = F.linear(model.norm(last), model.embed.weight)[:, 0].double().softmax(-1)
    return weight.double(), probs


class StochasticAttention(GAISystem):
    """Chen's reading of attention as sampling a key: a GAI system ``p_stoch(y|h) = sum_s pi(s|h) p(y|h,s)``.

    The attended positions ``s`` are an unobserved environment index of the instrument
    ``Phi_y = sum_s K_{y,s} . K_{y,s}^dag`` (chapter 2, eq. ch2-stochastic).  ``reading``:
    ``"all_blocks"`` samples in every block at every step; ``"block_per_step"`` samples only
    in block ``l mod L`` at step ``l`` (0-based); ``"soft"`` samples nowhere (the transformer).
    Input convention as :class:`genphys.histories.TorchModel`: ``bos`` (default eot) + prompt + history.
    """

    def __init__(self, model, vocab: Sequence[str], eot: int, reading: str = "all_blocks", bos: int | None = None):
        if not isinstance(model, LM) or model.kind != "transformer":
            raise TypeError(f"model must be a transformer genphys.lm.models.LM, got {getattr(model, 'kind', type(model).__name__)}")
        if reading not in READINGS:
            raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
        if len(vocab) != model.cfg.vocab_size:
            raise ValueError(f"vocab has {len(vocab)} tokens, the model's vocab_size is {model.cfg.vocab_size}")
        self.vocab, self.eot, self.reading = tuple(vocab), int(eot), reading
        self.bos = self.eot if bos is None else int(bos)
        self.model = copy.deepcopy(model).double().eval()
        self._cache: dict = {}

    def stochastic_blocks(self, step: int) -> tuple[int, ...]:
        """The blocks whose attention samples a key when generating token ``step`` (0-based)."""
        L = len(self.model.blocks)
        return {"soft": (), "all_blocks": tuple(range(L)), "block_per_step": (step % L,)}[self.reading]

    def branches(self, history: Sequence[int], prompt: Sequence[int] = ()):
        """``(pi(s), p(. | h, s))`` over the environment index ``s`` (joint key choices)."""
        idx = torch.tensor([[self.bos, *prompt, *history]], dtype=torch.long)
        with torch.no_grad(), config.one_torch_thread():
            w, p = _attention_branches(self.model, idx, self.stochastic_blocks(len(history)))
        return w.numpy(), p.numpy()

    def conditional(self, history, prompt=()):
        """``p_stoch(y | X, h) = sum_s pi(s | h) p(y | h, s)`` (cached per history: the model is frozen)."""
        key = (tuple(int(t) for t in prompt), tuple(int(t) for t in history))
        if key not in self._cache:
            w, p = self.branches(*key[::-1])
            self._cache[key] = w @ p
        return self._cache[key].copy()


def environment_kraus(system: StochasticAttention, instr: fock.Instrument) -> dict:
    """Fine-grained Kraus operators ``K_{y,s} = r*(y) sum_h sqrt(pi(s|h) p(y|h,s)) |h><h|`` (eq. ch2-stochastic).

    ``instr`` is ``instrument(system, N, prompt)``; ``s`` numbers the joint key choices of the
    history (``branches``).  Summing ``K_{y,s} . K_{y,s}^dag`` over the unobserved ``s`` gives
    ``Phi_y`` on the domain; returns ``{(y, s): K}``.
    """
    if not isinstance(system, StochasticAttention):
        raise TypeError(f"system must be a StochasticAttention, got {type(system).__name__}")
    if instr.vocab != system.vocab:
        raise ValueError("instr was built for another vocab than system's")
    space, m = instr.space, len(instr.prompt)
    entries: dict = {}
    for i in instr.conditionals:
        n = int(space.lengths[i])
        h = space.digits(np.array([i - space.offsets[n]]), n)[0, m:]
        w, p = system.branches(h.tolist(), instr.prompt)
        for s_, (ws, ps) in enumerate(zip(w, p)):
            for y in range(space.V):
                entries.setdefault((y, s_), ([], []))
                entries[(y, s_)][0].append(i)
                entries[(y, s_)][1].append(np.sqrt(ws * ps[y]))
    return {key: (fock.creation(space, key[0]) @ fock.diagonal_operator(space.dim, np.array(rows), np.array(vals))).tocsr()
            for key, (rows, vals) in entries.items()}


def attention_tv_gap(model, vocab: Sequence[str], eot: int, max_len: int, prompt: Sequence[int] = ()) -> dict:
    """TV distance between the transformer's history distribution and each stochastic-attention reading.

    Joint distributions over every history up to ``max_len`` tokens (``histories.enumerate_histories``),
    and the largest per-history next-token TV.  Returns ``{reading: {"joint": .., "worst_step": ..}}``.
    """
    exact = StochasticAttention(model, vocab, eot, "soft")
    truth = histories.enumerate_histories(exact, max_len, prompt)
    prefixes = {h[:t] for h in truth for t in range(len(h) + 1) if not (h[:t] and h[t - 1] == eot)} - set(
        h for h in truth if len(h) == max_len)
    out = {}
    for reading in ("all_blocks", "block_per_step"):
        system = StochasticAttention(model, vocab, eot, reading)
        joint = histories.enumerate_histories(system, max_len, prompt)
        worst = max(0.5 * float(np.abs(system.conditional(h, prompt) - exact.conditional(h, prompt)).sum())
                    for h in prefixes)
        out[reading] = {"joint": fock.total_variation(truth, joint), "worst_step": worst}
    return out


def train_tiny_transformer(system, n_texts: int, steps: int, seed: int, max_len: int, batch: int = 128, **overrides):
    """A transformer (:class:`genphys.lm.models.LM`) fitted in seconds to ``n_texts`` histories sampled from ``system``.

    Cross-entropy on ``bos + history`` (padded after eot with eot, padding not scored), AdamW on
    minibatches of ``batch`` texts.
    ``overrides`` change the tiny :class:`~genphys.lm.models.ModelConfig` (d_model 32, 2 layers, 2 heads).
    """
    validate.instance(system, "system", GAISystem, "a genphys.histories.GAISystem")
    config.seed_everything(seed)
    cfg = ModelConfig(**{"vocab_size": len(system.vocab), "d_model": 32, "n_layers": 2, "n_heads": 2, **overrides})
    texts = histories.sample(system, validate.integer(n_texts, "n_texts", low=1), seed, max_len=max_len)
    tokens = torch.full((len(texts), max_len + 1), system.eot, dtype=torch.long)
    scored = torch.zeros(len(texts), max_len, dtype=torch.bool)
    for row, h in enumerate(texts):
        tokens[row, 1:len(h) + 1] = torch.tensor(h, dtype=torch.long)
        scored[row, :len(h)] = True
    model = build_model("transformer", cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    with config.one_torch_thread():
        for _ in range(validate.integer(steps, "steps", low=1)):
            rows = torch.randint(len(texts), (min(batch, len(texts)),), generator=gen)
            logits = model(tokens[rows, :-1])
            loss = F.cross_entropy(logits[scored[rows]], tokens[rows, 1:][scored[rows]])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()
