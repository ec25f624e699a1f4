"""The four language models of chapter 7, from one configuration (chapter 7).

Every model maps a LongTensor ``(B, T)`` of token ids to logits ``(B, T, V)``.  They share
the embedding (tied to the output), RMSNorm, pre-norm residual blocks and a gated MLP; they
differ only in the sequence mixing of each block:

* ``dissipative`` - a complex state per layer, psi_t in C^N, with free Koopman evolution
  e^{lambda}, drive u_t = B x_t, and a weak measurement against the linear-attention context
  c_t; the filtered mean (chapter 7, eq. ch7-filter) is
  ``psi_t = (1 - g) (e^{lambda} psi_{t-1} + u_t) + g c_t``;
* ``hamiltonian`` - r = 0 and no measurement back-action: ``psi_t = e^{i w} psi_{t-1} + u_t + c_t``;
* ``no_context``  - the dissipative layer with ``c_t = 0``;
* ``transformer`` - causal softmax attention (pre-norm GPT with rotary positions).

The recurrent mixing is one linear recurrence ``psi_t = a psi_{t-1} + b_t`` with a diagonal
closed-loop multiplier ``a``; training computes it with a chunked scan (O(T)), generation
with an O(1) state (:meth:`LM.step`), and tests compare both with a plain loop in float64.
Parameter counts are matched across families by the gated-MLP width (:func:`matched_configs`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from genphys import validate

KINDS = ("dissipative", "hamiltonian", "no_context", "transformer")
RECURRENT = ("dissipative", "hamiltonian", "no_context")


@dataclass(frozen=True)
class ModelConfig:
    """Sizes shared by the four families; ``mlp_hidden=None`` means ``round(8/3 * d_model)``."""

    vocab_size: int = 512
    d_model: int = 64
    n_layers: int = 2
    n_modes: int = 64          # N, complex modes per layer (recurrent models)
    n_heads: int = 4           # attention heads (softmax or linear)
    d_feature: int = 16        # linear-attention feature size per head
    mlp_hidden: int | None = None
    chunk: int = 64            # chunk length of the parallel scan and linear attention

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "n_layers", "n_modes", "n_heads", "d_feature", "chunk"):
            object.__setattr__(self, name, validate.integer(getattr(self, name), f"ModelConfig.{name}", low=1))
        if self.mlp_hidden is not None:
            object.__setattr__(self, "mlp_hidden", validate.integer(self.mlp_hidden, "ModelConfig.mlp_hidden", low=1))
        if self.d_model % self.n_heads or self.n_modes % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} must divide d_model={self.d_model} and n_modes={self.n_modes}")
        if (self.d_model // self.n_heads) % 2:
            raise ValueError("d_model / n_heads must be even (rotary positions rotate pairs)")

    @property
    def hidden(self) -> int:
        return self.mlp_hidden if self.mlp_hidden is not None else round(8 * self.d_model / 3)

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight (Zhang & Sennrich 2019)."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class GatedMLP(nn.Module):
    """SwiGLU: W_2 (silu(W_1 x) * W_3 x) (Shazeer 2020)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w13 = nn.Linear(dim, 2 * hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        gate, up = self.w13(x).chunk(2, dim=-1)
        return self.w2(F.silu(gate) * up)


# ---------------------------------------------------------------- linear recurrence (the mixing)

def scan_sequential(log_a: torch.Tensor, b: torch.Tensor, psi0: torch.Tensor | None = None) -> torch.Tensor:
    """psi_t = a psi_{t-1} + b_t by a plain loop over t (the reference); b: (B, T, N) complex."""
    a = torch.exp(log_a)
    psi = torch.zeros_like(b[:, 0]) if psi0 is None else psi0
    out = []
    for t in range(b.shape[1]):
        psi = a * psi + b[:, t]
        out.append(psi)
    return torch.stack(out, dim=1)


def scan_chunked(log_a: torch.Tensor, b: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """psi_t = sum_{s<=t} a^{t-s} b_s in O(T * chunk) work: exact within chunks, carried across them.

    Inside a chunk, psi_j = a^{j+1} psi_prev + sum_{i<=j} a^{j-i} b_i (a lower-triangular Toeplitz
    product); the chunks' last states psi_prev follow the same recurrence with multiplier a^chunk,
    solved by the same function (depth log_chunk T).  Powers are exp(k log a), so growth
    modes (|a| > 1) never form a^{-k}.  ``log_a``: (N,) complex; ``b``: (B, T, N) complex.
    """
    batch, length, modes = b.shape
    c = min(chunk, length)
    if c == 1:
        return scan_sequential(log_a, b)
    pad = (-length) % c
    if pad:
        b = F.pad(b, (0, 0, 0, pad))
    n_chunks = b.shape[1] // c
    b = b.view(batch, n_chunks, c, modes)
    k = torch.arange(c, device=b.device)
    lag = (k[:, None] - k[None, :])                                   # j - i
    causal = lag >= 0
    powers = torch.exp(lag.clamp(min=0).to(log_a.real.dtype)[None] * log_a[:, None, None])  # (N, c, c)
    powers = powers * causal
    local = torch.einsum("nji,bcin->bcjn", powers, b)                 # zero initial state per chunk
    if n_chunks == 1:
        return local.reshape(batch, c, modes)[:, :length]
    # Chunk-end states obey the same recurrence with multiplier a^c: scan them (recursively, no loop).
    ends = scan_chunked(log_a * c, local[:, :, -1], chunk)                 # (B, n_chunks, N)
    prev = torch.cat([torch.zeros_like(ends[:, :1]), ends[:, :-1]], dim=1)
    carry = torch.exp((k + 1).to(log_a.real.dtype)[:, None] * log_a[None, :])   # a^{j+1}: (c, N)
    out = local + carry[None, None] * prev[:, :, None, :]
    return out.reshape(batch, n_chunks * c, modes)[:, :length]


def elu_feature(x: torch.Tensor) -> torch.Tensor:
    """phi(x) = elu(x) + 1 > 0, the feature map of Katharopoulos et al. (2020)."""
    return F.elu(x) + 1.0


def linear_attention(q, k, v, chunk: int = 64, eps: float = 1e-6):
    """c_t = sum_{s<=t} (q_t.k_s) v_s / (sum_{s<=t} q_t.k_s + eps), chunked (O(T)); q, k: (B, H, T, F), v: (B, H, T, D).

    q and k are already feature-mapped (positive).  Within a chunk the causal sums are a masked
    product; across chunks they use the running sums S = sum k_s v_s^T and z = sum k_s.
    """
    batch, heads, length, _ = q.shape
    c = min(chunk, length)
    pad = (-length) % c
    if pad:
        q, k, v = (F.pad(x, (0, 0, 0, pad)) for x in (q, k, v))
    n = q.shape[2] // c
    q, k, v = (x.reshape(batch, heads, n, c, x.shape[-1]) for x in (q, k, v))
    kv = torch.einsum("bhncf,bhncd->bhnfd", k, v)
    s_prev = torch.cumsum(kv, dim=2) - kv                              # exclusive sum over chunks
    z_prev = torch.cumsum(k.sum(3), dim=2) - k.sum(3)                  # (B, H, n, F)
    scores = torch.einsum("bhncf,bhnmf->bhncm", q, k).tril()
    num = scores @ v + torch.einsum("bhncf,bhnfd->bhncd", q, s_prev)
    den = scores.sum(-1) + torch.einsum("bhncf,bhnf->bhnc", q, z_prev)
    out = num / (den[..., None] + eps)
    return out.reshape(batch, heads, n * c, -1)[:, :, :length]


class RecurrentMixer(nn.Module):
    """The sequence mixing of the recurrent families (chapter 7, eqs. ch7-free, ch7-filter and ch7-ham), one per layer.

    State psi in C^N.  ``kind`` picks the closed loop:
    dissipative / no_context: a = (1 - g) e^{lambda}, b_t = (1 - g) u_t + g c_t (c = 0 without context);
    hamiltonian: a = e^{i w}, b_t = u_t + c_t.
    """

    def __init__(self, cfg: ModelConfig, kind: str):
        super().__init__()
        if kind not in RECURRENT:
            raise ValueError(f"kind must be one of {RECURRENT}, got {kind!r}")
        self.kind, self.cfg = kind, cfg
        n, h, f = cfg.n_modes, cfg.n_heads, cfg.d_feature
        self.context = kind != "no_context"
        width = 2 * n + (2 * n + 2 * h * f if self.context else 0)
        self.proj_in = nn.Linear(cfg.d_model, width, bias=False)
        self.proj_out = nn.Linear(2 * n, cfg.d_model, bias=False)
        # lambda_k = r_k + i w_k: decay times spread log-uniformly over [1, 100] tokens, w in [0, pi].
        decay = torch.exp(torch.linspace(math.log(1.0), math.log(100.0), n))
        self.freq = nn.Parameter(torch.linspace(0.0, math.pi, n))
        if kind != "hamiltonian":
            self.rate = nn.Parameter(-1.0 / decay)
            self.gain_logit = nn.Parameter(torch.full((n,), -2.0))    # g = sigmoid(-2) ~ 0.12

    # -- spectral quantities (chapter 7, spectra)
    def eigenvalues(self) -> torch.Tensor:
        """The free generator lambda_k = r_k + i w_k (r = 0 for the Hamiltonian twin)."""
        rate = self.rate if self.kind != "hamiltonian" else torch.zeros_like(self.freq)
        return torch.complex(rate, self.freq)

    def gain(self) -> torch.Tensor:
        """Measurement gain g_k in (0, 1); zero for the Hamiltonian twin (no back-action)."""
        if self.kind == "hamiltonian":
            return torch.zeros_like(self.freq)
        return torch.sigmoid(self.gain_logit)

    def log_multiplier(self) -> torch.Tensor:
        """log a_k = log(1 - g_k) + lambda_k, the closed-loop multiplier's logarithm."""
        lam = self.eigenvalues()
        if self.kind == "hamiltonian":
            return lam
        return lam + F.logsigmoid(-self.gain_logit)                   # log(1 - sigmoid(x)) = logsigmoid(-x)

    def multipliers(self) -> torch.Tensor:
        """a_k = (1 - g_k) e^{lambda_k}."""
        return torch.exp(self.log_multiplier())

    # -- the pieces of one step
    def _inputs(self, x):
        """Drive u (complex), and for context models q, k (feature-mapped) and v (complex)."""
        n, h, f = self.cfg.n_modes, self.cfg.n_heads, self.cfg.d_feature
        p = self.proj_in(x)
        u = torch.complex(p[..., :n], p[..., n:2 * n])
        if not self.context:
            return u, None, None, None
        v = p[..., 2 * n:4 * n]                       # Re | Im of v in C^N
        q = elu_feature(p[..., 4 * n:4 * n + h * f])
        k = elu_feature(p[..., 4 * n + h * f:])
        return u, q, k, v

    def _drive(self, u, c):
        """b_t of the closed loop."""
        if self.kind == "hamiltonian":
            return u + c
        g = self.gain()
        return (1 - g) * u + (g * c if c is not None else 0)

    def _heads(self, x, dim):
        b, t, _ = x.shape
        return x.view(b, t, self.cfg.n_heads, dim).transpose(1, 2)

    def _complex_from_heads(self, out):
        """(B, H, T, 2N/H) per-head Re|Im halves -> (B, T, N) complex."""
        b, h, t, d = out.shape
        out = out.transpose(1, 2).reshape(b, t, h, 2, d // 2)
        return torch.complex(out[..., 0, :].reshape(b, t, -1), out[..., 1, :].reshape(b, t, -1))

    def _heads_v(self, v):
        """Re|Im of v (B, T, 2N) -> per-head (B, H, T, 2N/H), each head holding its modes' Re and Im."""
        b, t, _ = v.shape
        h, n = self.cfg.n_heads, self.cfg.n_modes
        return v.view(b, t, 2, h, n // h).permute(0, 3, 1, 2, 4).reshape(b, h, t, 2 * n // h)

    def context_target(self, q, k, v):
        """c_t by causal linear attention, chunked; returns (B, T, N) complex."""
        hf = self.cfg.d_feature
        out = linear_attention(self._heads(q, hf), self._heads(k, hf), self._heads_v(v), self.cfg.chunk)
        return self._complex_from_heads(out)

    def _readout(self, psi):
        return self.proj_out(torch.cat([psi.real, psi.imag], dim=-1))

    def forward(self, x):
        """Parallel (training) form: chunked linear attention and chunked scan."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
            u, q, k, v = self._inputs(x)
            c = self.context_target(q, k, v) if self.context else None
            psi = scan_chunked(self.log_multiplier().to(u.dtype), self._drive(u, c), self.cfg.chunk)
            return self._readout(psi)

    def forward_sequential(self, x):
        """Reference form: every sum written out token by token (slow; for tests in float64)."""
        u, q, k, v = self._inputs(x)
        length = x.shape[1]
        if self.context:
            h, f, n = self.cfg.n_heads, self.cfg.d_feature, self.cfg.n_modes
            qh, kh, vh = self._heads(q, f), self._heads(k, f), self._heads_v(v)
            cols = []
            for t in range(length):
                w = (qh[:, :, t:t + 1] * kh[:, :, :t + 1]).sum(-1)          # (B, H, t+1)
                cols.append((w[..., None] * vh[:, :, :t + 1]).sum(2) / (w.sum(-1)[..., None] + 1e-6))
            c = self._complex_from_heads(torch.stack(cols, dim=2))
        else:
            c = None
        psi = scan_sequential(self.log_multiplier().to(u.dtype), self._drive(u, c))
        return self._readout(psi)

    def init_state(self, batch: int, device=None, dtype=torch.float32):
        """O(1) generation state: psi (B, N) and the linear-attention sums S (B, H, F, 2N/H), z (B, H, F)."""
        cfg = self.cfg
        cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
        state = {"psi": torch.zeros(batch, cfg.n_modes, dtype=cdtype, device=device)}
        if self.context:
            state["S"] = torch.zeros(batch, cfg.n_heads, cfg.d_feature, 2 * cfg.n_modes // cfg.n_heads,
                                     dtype=dtype, device=device)
            state["z"] = torch.zeros(batch, cfg.n_heads, cfg.d_feature, dtype=dtype, device=device)
        return state

    def step(self, x, state):
        """One token: x (B, D) -> (B, D), updating the state in O(1) time and memory."""
        u, q, k, v = self._inputs(x[:, None])
        c = None
        if self.context:
            qh, kh, vh = self._heads(q, self.cfg.d_feature)[:, :, 0], self._heads(k, self.cfg.d_feature)[:, :, 0], \
                self._heads_v(v)[:, :, 0]
            state["S"] = state["S"] + kh[..., :, None] * vh[..., None, :]
            state["z"] = state["z"] + kh
            num = torch.einsum("bhf,bhfd->bhd", qh, state["S"])
            den = (qh * state["z"]).sum(-1, keepdim=True) + 1e-6
            c = self._complex_from_heads((num / den)[:, :, None])[:, 0]
        a = torch.exp(self.log_multiplier().to(state["psi"].dtype))
        state["psi"] = a * state["psi"] + self._drive(u[:, 0], c)
        return self._readout(state["psi"]), state


# ---------------------------------------------------------------- softmax attention

def rotary(x: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """Rotary position embedding (Su et al. 2021) on (B, H, T, d): pairs rotated by angle t * 10000^{-2i/d}."""
    d = x.shape[-1]
    pos = torch.arange(offset, offset + x.shape[-2], device=x.device, dtype=torch.float64)
    inv = 10000.0 ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float64) / d)
    ang = (pos[:, None] * inv[None]).to(x.dtype)
    cos, sin = ang.cos(), ang.sin()
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class CausalSelfAttention(nn.Module):
    """Multi-head causal softmax attention with rotary positions."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def queries_keys_values(self, x, offset=0):
        """Queries, keys (both with rotary positions from ``offset``) and values, each (B, H, T, d/H)."""
        b, t, d = x.shape
        h = self.cfg.n_heads
        q, k, v = (y.view(b, t, h, d // h).transpose(1, 2) for y in self.qkv(x).chunk(3, dim=-1))
        return rotary(q, offset), rotary(k, offset), v

    def forward(self, x, return_attention: bool = False):
        b, t, d = x.shape
        q, k, v = self.queries_keys_values(x)
        if return_attention:
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            probs = scores.masked_fill(~mask, float("-inf")).softmax(-1)
            y = probs @ v
        else:
            probs = None
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, d)), probs

    def init_state(self, batch, device=None, dtype=torch.float32):
        return {"k": None, "v": None, "t": 0}

    def step(self, x, state):
        """One token with a key/value cache (memory grows with the context)."""
        q, k, v = self.queries_keys_values(x[:, None], offset=state["t"])
        state["k"] = k if state["k"] is None else torch.cat([state["k"], k], dim=2)
        state["v"] = v if state["v"] is None else torch.cat([state["v"], v], dim=2)
        state["t"] += 1
        y = F.scaled_dot_product_attention(q, state["k"], state["v"])
        return self.proj(y.transpose(1, 2).reshape(x.shape[0], -1)), state


# ---------------------------------------------------------------- the language models

class Block(nn.Module):
    """Pre-norm residual block: x + mix(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, cfg: ModelConfig, kind: str):
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(cfg.d_model), RMSNorm(cfg.d_model)
        self.mix = CausalSelfAttention(cfg) if kind == "transformer" else RecurrentMixer(cfg, kind)
        self.mlp = GatedMLP(cfg.d_model, cfg.hidden)

    def forward(self, x, return_attention=False, sequential=False):
        h = self.norm1(x)
        probs = None
        if isinstance(self.mix, CausalSelfAttention):
            m, probs = self.mix(h, return_attention=return_attention)
        else:
            m = self.mix.forward_sequential(h) if sequential else self.mix(h)
        x = x + m
        return x + self.mlp(self.norm2(x)), probs

    def step(self, x, state):
        m, state = self.mix.step(self.norm1(x), state)
        x = x + m
        return x + self.mlp(self.norm2(x)), state


class LM(nn.Module):
    """Embedding (tied to the output) -> blocks -> RMSNorm -> logits."""

    def __init__(self, cfg: ModelConfig, kind: str):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.cfg, self.kind = cfg, kind
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg, kind) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model)
        nn.init.normal_(self.embed.weight, std=0.02)
        for name, p in self.named_parameters():
            if name.endswith("proj_out.weight") or name.endswith("proj.weight") or name.endswith("w2.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layers))

    def num_params(self) -> int:
        """Number of trainable parameters (the tied embedding counted once)."""
        return sum(p.numel() for p in self.parameters())

    def _check(self, idx, dim: int = 2):
        if not isinstance(idx, torch.Tensor) or idx.dtype != torch.long or idx.dim() != dim:
            raise TypeError(f"idx must be a LongTensor of shape {'(B, T)' if dim == 2 else '(B,)'}")
        if idx.numel() and not torch.compiler.is_compiling() and (idx.min() < 0 or idx.max() >= self.cfg.vocab_size):
            raise ValueError(f"idx holds token ids outside [0, {self.cfg.vocab_size}) (the model's vocabulary)")

    def forward(self, idx, return_attention: bool = False, sequential: bool = False):
        """Logits (B, T, V); ``sequential=True`` runs the reference loop of the recurrent mixing."""
        self._check(idx)
        x = self.embed(idx)
        attention = []
        for block in self.blocks:
            x, probs = block(x, return_attention=return_attention, sequential=sequential)
            attention.append(probs)
        logits = F.linear(self.norm(x), self.embed.weight)
        return (logits, attention) if return_attention else logits

    def init_state(self, batch: int):
        p = self.embed.weight
        return [b.mix.init_state(batch, device=p.device, dtype=p.dtype) for b in self.blocks]

    def step(self, idx_t: torch.Tensor, state):
        """Logits (B, V) for the next token after ``idx_t`` (B,), advancing the generation state."""
        self._check(idx_t, dim=1)
        x = self.embed(idx_t)
        new = []
        for block, s in zip(self.blocks, state):
            x, s = block.step(x, s)
            new.append(s)
        return F.linear(self.norm(x), self.embed.weight), new

    def spectral_modules(self):
        """The recurrent mixers, one per layer (empty for the transformer)."""
        return [b.mix for b in self.blocks if isinstance(b.mix, RecurrentMixer)]


class DissipativeLM(LM):
    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg, "dissipative")


class HamiltonianLM(LM):
    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg, "hamiltonian")


class NoContextLM(LM):
    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg, "no_context")


class TransformerLM(LM):
    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg, "transformer")


_CLASSES = {"dissipative": DissipativeLM, "hamiltonian": HamiltonianLM,
            "no_context": NoContextLM, "transformer": TransformerLM}


def build_model(kind: str, cfg: ModelConfig) -> LM:
    """The model of family ``kind`` with configuration ``cfg``."""
    if kind not in _CLASSES:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    validate.instance(cfg, "cfg", ModelConfig, "a ModelConfig")
    return _CLASSES[kind](cfg)


def count_params(kind: str, cfg: ModelConfig) -> int:
    """Parameters of ``build_model(kind, cfg)``, without building it on a device."""
    with torch.device("meta"):
        return build_model(kind, cfg).num_params()


def matched_configs(cfg: ModelConfig, kinds=KINDS, reference: str = "dissipative", tol: float = 0.02) -> dict:
    """Per family, ``cfg`` with the gated-MLP width chosen so its parameter count is closest to the reference's.

    Raises ValueError if some family cannot be brought within ``tol`` (relative).
    """
    target = count_params(reference, cfg)
    out = {}
    for kind in kinds:
        per_unit = 3 * cfg.d_model * cfg.n_layers                     # one hidden unit of every gated MLP
        base = count_params(kind, replace(cfg, mlp_hidden=1)) - per_unit
        hidden = max(1, round((target - base) / per_unit))
        c = replace(cfg, mlp_hidden=hidden) if kind != reference else cfg
        n = count_params(kind, c)
        if abs(n - target) > tol * target:
            raise ValueError(f"cannot match {kind} to {reference} within {tol:.0%}: {n} vs {target} parameters")
        out[kind] = c
    return out
