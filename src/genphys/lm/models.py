"""The language models of chapter 7: six recurrent families and a transformer, from one configuration.

Every model maps a LongTensor ``(B, T)`` of token ids to logits ``(B, T, V)``.  They share the
embedding (tied to the output), RMSNorm, pre-norm residual blocks and a gated MLP; they differ
only in the sequence mixing of each block.  A recurrent layer carries a complex state
psi_t in C^N and runs one diagonal linear recurrence (chapter 7, eq. ch7-conv)::

    psi_t = a_t psi_{t-1} + b_t,          a_t, b_t from the family's closed loop:

    dissipative       a = (1 - g) e^lambda,       b_t = (1 - g) u_t + g c_t     (eq. ch7-filter)
    selective         a_t = (1 - g_t) e^lambda,   b_t = (1 - g_t) u_t + g_t c_t  (eq. ch7-selective)
    hamiltonian       a = e^{i w},                b_t = u_t + c_t               (eq. ch7-ham)
    hamiltonian_norm  the same, readout RMS-normalised, frequencies away from w = 0
    decay_only        a = e^lambda, r = -softplus(rho) < 0, b_t = u_t + c_t (no measurement)
    no_context        the dissipative loop with c_t = 0

with the drive u_t = B x_t and the context target c_t of causal linear attention
(eq. ch7-context).  ``transformer`` is a pre-norm GPT with causal softmax attention and rotary
positions.  Parameter counts are matched across families by the gated-MLP width
(:func:`matched_configs`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from genphys import validate

KINDS = ("dissipative", "selective", "hamiltonian", "hamiltonian_norm", "decay_only", "no_context", "transformer")
RECURRENT = KINDS[:-1]
EPS = 1e-6      # the one epsilon: RMSNorm's and the linear-attention normaliser's


@dataclass(frozen=True)
class ModelConfig:
    """Sizes shared by the families; ``mlp_hidden=None`` means ``round(8/3 * d_model)``."""

    vocab_size: int = 512
    d_model: int = 64
    n_layers: int = 2
    n_modes: int = 64          # N, complex modes per layer (recurrent models)
    n_heads: int = 4           # attention heads (softmax or linear)
    d_feature: int = 16        # linear-attention feature size per head
    mlp_hidden: int | None = None
    chunk: int = 16            # chunk length of the parallel scan and of linear attention

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

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight


class GatedMLP(nn.Module):
    """SwiGLU: W_2 (silu(W_1 x) * W_3 x) (Shazeer 2020)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w13 = nn.Linear(dim, 2 * hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        gate, up = self.w13(x).chunk(2, dim=-1)
        return self.w2(F.silu(gate) * up)


# ---------------------------------------------------------------- the linear recurrence

def scan_loop(log_a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """psi_t = a_t psi_{t-1} + b_t from psi_0 = 0, one token at a time (the reference; eq. ch7-conv).

    ``log_a``: (N,) for a constant multiplier or (B, T, N); ``b``: (B, T, N) complex.
    """
    a = torch.exp(log_a).expand_as(b)
    psi, out = torch.zeros_like(b[:, 0]), []
    for t in range(b.shape[1]):
        psi = a[:, t] * psi + b[:, t]
        out.append(psi)
    return torch.stack(out, dim=1)


def scan(log_a: torch.Tensor, b: torch.Tensor, chunk: int) -> torch.Tensor:
    """The same recurrence in parallel: chunks of ``chunk`` tokens, run side by side and carried across (eq. ch7-conv).

    Every chunk runs the recurrence from a zero state, all chunks at once (``chunk`` steps of
    O(B T N / chunk) work each).  With the cumulative sum in log space L_j = sum_{l<=j} log a_l
    within a chunk, the state the chunk inherits adds e^{L_j} psi_prev; the chunks' end states
    psi_prev follow the same recurrence with multipliers e^{L_last}, solved by this function,
    recursively (depth log_chunk T).  Only products of multipliers over forward spans appear,
    never a^{-k}, so growth modes (|a| > 1) and strong measurements (a_t near 0) are as safe as
    decay.  ``log_a``: (N,) (a constant multiplier) or (B, T, N) (time-varying); ``b``: (B, T, N).

    Why this form: measured side by side on one CPU thread (``benchmarks/lm_scan.py``), it beats a
    causal FFT convolution with the kernel a^t (O(T log T), the S4D way; constant multipliers only)
    and a masked lower-triangular transfer matrix per chunk, for both kinds of multiplier, at every
    context from 256 to 4096 tokens.
    """
    batch, length, modes = b.shape
    c = min(chunk, length)
    if c == 1:
        return scan_loop(log_a, b)
    pad = (-length) % c
    n = (length + pad) // c
    b = F.pad(b, (0, 0, 0, pad)).view(batch, n, c, modes)
    if log_a.dim() == 1:
        a = torch.exp(log_a).expand(c, modes)
        cum = log_a * torch.arange(1, c + 1, device=b.device, dtype=log_a.real.dtype)[:, None]       # (c, N)
    else:
        log_a = F.pad(log_a, (0, 0, 0, pad)).view(batch, n, c, modes)
        a, cum = torch.exp(log_a).unbind(2), log_a.cumsum(2)                                        # (B, n, c, N)
    psi, local = b[:, :, 0], [b[:, :, 0]]
    for j in range(1, c):                                                     # every chunk from zero, side by side
        psi = a[j] * psi + b[:, :, j]
        local.append(psi)
    local = torch.stack(local, dim=2)                                                                # (B, n, c, N)
    if n > 1:
        ends = scan(cum[-1] if cum.dim() == 2 else cum[:, :, -1], local[:, :, -1], chunk)           # (B, n, N)
        prev = F.pad(ends[:, :-1], (0, 0, 1, 0))
        local = local + torch.exp(cum) * prev[:, :, None, :]
    return local.reshape(batch, n * c, modes)[:, :length]


# ---------------------------------------------------------------- the context target

def elu_feature(x: torch.Tensor) -> torch.Tensor:
    """phi(x) = elu(x) + 1 > 0, the feature map of Katharopoulos et al. (2020)."""
    return F.elu(x) + 1.0


def linear_attention_loop(q, k, v):
    """c_t = sum_{s<=t} (q_t.k_s) v_s / (sum_{s<=t} q_t.k_s + eps), term by term (reference; eq. ch7-context)."""
    out = []
    for t in range(q.shape[2]):
        w = (q[:, :, t:t + 1] * k[:, :, :t + 1]).sum(-1)                              # (B, H, t+1)
        out.append((w[..., None] * v[:, :, :t + 1]).sum(2) / (w.sum(-1)[..., None] + EPS))
    return torch.stack(out, dim=2)


def linear_attention(q, k, v, chunk: int):
    """The same sums chunked, O(T); q, k: (B, H, T, F) feature-mapped, v: (B, H, T, D) (eq. ch7-context).

    Within a chunk the causal sums are a masked product; across chunks they use the running
    sums S = sum k_s v_s^T and z = sum k_s of the earlier chunks.
    """
    batch, heads, length, _ = q.shape
    c = min(chunk, length)
    pad = (-length) % c
    q, k, v = (F.pad(x, (0, 0, 0, pad)).unflatten(2, (-1, c)) for x in (q, k, v))   # (B, H, n, c, .)
    kv = torch.einsum("bhncf,bhncd->bhnfd", k, v)
    s_prev = kv.cumsum(2) - kv                                                        # exclusive sums over chunks
    z_prev = k.sum(3).cumsum(2) - k.sum(3)
    scores = (q @ k.transpose(-1, -2)).tril()
    num = scores @ v + q @ s_prev
    den = scores.sum(-1) + (q * z_prev[:, :, :, None]).sum(-1)
    return (num / (den[..., None] + EPS)).flatten(2, 3)[:, :, :length]


# ---------------------------------------------------------------- the recurrent families

class Mixer(nn.Module):
    """The sequence mixing of a recurrent layer (chapter 7): drive, context, closed loop, scan, readout.

    A family is a subclass that says what its closed loop is (:meth:`closed_loop`), and which
    spectral parameters it has.  Complex vectors of N modes travel as 2N reals in (Re, Im) pairs.
    """

    context = True         # whether the layer has a context target c_t
    normalised = False     # whether the readout sees RMSNorm(psi)

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        n, d, hf = cfg.n_modes, cfg.d_model, cfg.n_heads * cfg.d_feature
        self.drive = nn.Linear(d, 2 * n, bias=False)                   # B: u_t = B x_t in C^N
        if self.context:
            self.query = nn.Linear(d, hf, bias=False)
            self.key = nn.Linear(d, hf, bias=False)
            self.value = nn.Linear(d, 2 * n, bias=False)               # v_t in C^N
        self.state_norm = RMSNorm(2 * n) if self.normalised else nn.Identity()
        self.readout = nn.Linear(2 * n, d, bias=False)
        self.freq = nn.Parameter(self.initial_frequencies(n))

    # ---- what a family defines
    def initial_frequencies(self, n: int) -> torch.Tensor:
        return torch.linspace(0.0, math.pi, n)

    def eigenvalues(self) -> torch.Tensor:
        """The free generator lambda_k = r_k + i w_k (eq. ch7-free)."""
        raise NotImplementedError

    def closed_loop(self, x, u, c):
        """``(log a, b)``: the multiplier's logarithm ((N,) or per token) and the input b_t of the scan."""
        raise NotImplementedError

    def gain(self, x=None) -> torch.Tensor:
        """The measurement gain g (zero for the families without measurement)."""
        return torch.zeros_like(self.freq)

    def multipliers(self, x=None) -> torch.Tensor:
        """a_k = exp(log a_k), the closed loop's multiplier per token (per token and mode when it depends on x)."""
        if x is None:
            x = torch.zeros(1, 1, self.cfg.d_model, dtype=self.freq.dtype, device=self.freq.device)
        u = torch.zeros(*x.shape[:-1], self.cfg.n_modes, dtype=_complex(x.dtype), device=x.device)
        return torch.exp(self.closed_loop(x, u, u)[0])

    def multiplier_bound(self) -> torch.Tensor:
        """max over tokens of |a_k| per mode (|a_k| itself for a constant multiplier)."""
        return self.multipliers().abs()

    # ---- the layer
    def forward(self, x, sequential: bool = False):
        """x (B, T, d) -> (B, T, d): the parallel (training) form, or with ``sequential`` the plain loops."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
            u = self.drive_of(x)                                                  # u_t = B x_t      (B, T, N)
            c = self.context_target(x, sequential)                               # c_t              (B, T, N)
            log_a, b = self.closed_loop(x, u, c)                                 # a_t, b_t     (N) | (B, T, N)
            psi = scan_loop(log_a, b) if sequential else scan(log_a, b, self.cfg.chunk)  # psi_t (B, T, N)
            return self.read(psi)                                                # Re, Im psi -> R^d (B, T, d)

    def drive_of(self, x):
        return _as_complex(self.drive(x))

    def context_target(self, x, sequential: bool = False):
        """c_t by causal linear attention over heads of modes (eq. ch7-context); zero without context."""
        if not self.context:
            return torch.zeros(*x.shape[:-1], self.cfg.n_modes, dtype=_complex(x.dtype), device=x.device)
        q, k, v = self._heads(elu_feature(self.query(x))), self._heads(elu_feature(self.key(x))), self._heads(self.value(x))
        out = linear_attention_loop(q, k, v) if sequential else linear_attention(q, k, v, self.cfg.chunk)
        return _as_complex(out.transpose(1, 2).flatten(2))

    def read(self, psi):
        return self.readout(self.state_norm(_as_real(psi)))

    def _heads(self, y):
        """(B, T, H * e) -> (B, H, T, e): head h holds features (or modes) h*e ... (h+1)*e - 1."""
        return y.unflatten(-1, (self.cfg.n_heads, -1)).transpose(1, 2)

    # ---- generation with an O(1) state
    def init_state(self, batch: int, device=None, dtype=torch.float32):
        """psi (B, N), and with context the linear-attention sums S (B, H, F, 2N/H) and z (B, H, F)."""
        cfg = self.cfg
        state = {"psi": torch.zeros(batch, cfg.n_modes, dtype=_complex(dtype), device=device)}
        if self.context:
            state["S"] = torch.zeros(batch, cfg.n_heads, cfg.d_feature, 2 * cfg.n_modes // cfg.n_heads,
                                     dtype=dtype, device=device)
            state["z"] = torch.zeros(batch, cfg.n_heads, cfg.d_feature, dtype=dtype, device=device)
        return state

    def step(self, x, state):
        """One token: x (B, d) -> (B, d), the state updated in O(1) time and memory."""
        u = self.drive_of(x)
        c = self.context_step(x, state)
        log_a, b = self.closed_loop(x, u, c)
        state["psi"] = torch.exp(log_a) * state["psi"] + b
        return self.read(state["psi"]), state

    def context_step(self, x, state):
        if not self.context:
            return torch.zeros_like(state["psi"])
        heads = lambda y: y.unflatten(-1, (self.cfg.n_heads, -1))                       # noqa: E731
        q, k, v = heads(elu_feature(self.query(x))), heads(elu_feature(self.key(x))), heads(self.value(x))
        state["S"] = state["S"] + k[..., :, None] * v[..., None, :]
        state["z"] = state["z"] + k
        num = torch.einsum("bhf,bhfd->bhd", q, state["S"])
        den = (q * state["z"]).sum(-1, keepdim=True) + EPS
        return _as_complex((num / den).flatten(1))


def _complex(dtype):
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def _as_complex(y):
    """(..., 2N) real in (Re, Im) pairs -> (..., N) complex."""
    return torch.view_as_complex(y.unflatten(-1, (-1, 2)).contiguous())


def _as_real(z):
    """(..., N) complex -> (..., 2N) real in (Re, Im) pairs."""
    return torch.view_as_real(z).flatten(-2)


def _decay_times(n: int) -> torch.Tensor:
    """Initial memory times spread log-uniformly over [1, 100] tokens."""
    return torch.exp(torch.linspace(0.0, math.log(100.0), n))


class Measured(Mixer):
    """A state under weak measurement against c_t (eq. ch7-filter): free rates r_k of either sign."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.rate = nn.Parameter(-1.0 / _decay_times(cfg.n_modes))

    def eigenvalues(self):
        return torch.complex(self.rate, self.freq)

    def filtered(self, gain_logit, u, c):
        """``(log a, b)`` of eq. ch7-filter with gain g = sigmoid(gain_logit): log a = lambda + ln(1 - g)."""
        g = torch.sigmoid(gain_logit)
        return self.eigenvalues() + F.logsigmoid(-gain_logit), (1 - g) * u + g * c


class Dissipative(Measured):
    """Weak measurement with a constant gain: a = (1 - g) e^lambda, b_t = (1 - g) u_t + g c_t (eq. ch7-filter).

    The data determine only a = (1 - g) e^lambda: with a constant gain, (1 - g) folds into the
    drive B and g into the value projection, so r_k and g_k are not identifiable apart.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.gain_logit = nn.Parameter(torch.full((cfg.n_modes,), -2.0))        # g = sigmoid(-2) ~ 0.12

    def gain(self, x=None):
        return torch.sigmoid(self.gain_logit)

    def closed_loop(self, x, u, c):
        return self.filtered(self.gain_logit, u, c)


class NoContext(Dissipative):
    """The dissipative loop without a context target: b_t = (1 - g) u_t."""

    context = False


class Selective(Measured):
    """Selective measurement: the pointer's noise depends on the token (eq. ch7-selective).

    ln(sigma^2_{t,k} / q_k) = -(w_k . x_t + beta_k), so the Kalman gain is
    g_{t,k} = q_k / (q_k + sigma^2_{t,k}) = sigmoid(w_k . x_t + beta_k) and
    a_{t,k} = (1 - g_{t,k}) e^{lambda_k}: a time-varying Kalman filter.  A log-linear noise
    covers sigma^2 in (0, inf) as a softplus does, and keeps ln(1 - g) = logsigmoid(-(w . x + beta))
    free of cancellation, which the log-space scan needs.  ``w`` starts at zero and ``beta`` at
    the constant family's -2: the layer starts as the constant-gain filter.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.measure = nn.Linear(cfg.d_model, cfg.n_modes)                        # w_k . x_t + beta_k
        nn.init.zeros_(self.measure.weight)
        nn.init.constant_(self.measure.bias, -2.0)

    def gain(self, x=None):
        if x is None:
            raise ValueError("x is needed: the selective family's gain depends on the token")
        return torch.sigmoid(self.measure(x))

    def multipliers(self, x=None):
        if x is None:
            raise ValueError("x is needed: the selective family's multipliers depend on the token")
        return super().multipliers(x)

    def multiplier_bound(self):
        return torch.exp(self.rate)                                               # |a_t| < e^r for every g_t > 0

    def closed_loop(self, x, u, c):
        return self.filtered(self.measure(x), u, c)


class Hamiltonian(Mixer):
    """The conservative twin: r = 0, no back-action, context as a drive: a = e^{i w}, b_t = u_t + c_t (eq. ch7-ham)."""

    def eigenvalues(self):
        return torch.complex(torch.zeros_like(self.freq), self.freq)

    def closed_loop(self, x, u, c):
        return self.eigenvalues(), u + c


class HamiltonianNorm(Hamiltonian):
    """The same dynamics (|a| = 1) with RMSNorm on the readout and frequencies in [pi/N, pi], away from w = 0.

    At w = 0 a conservative mode sums its inputs and its state grows without bound; this family
    separates "no dissipation" from "a state that blows up".
    """

    normalised = True

    def initial_frequencies(self, n: int) -> torch.Tensor:
        return torch.linspace(math.pi / n, math.pi, n)


class DecayOnly(Mixer):
    """Dissipation without measurement (a RetNet-style ablation): a = e^lambda, r = -softplus(rho) < 0, b_t = u_t + c_t."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.rho = nn.Parameter(torch.log(torch.expm1(1.0 / _decay_times(cfg.n_modes))))    # r = -1 / tau

    def eigenvalues(self):
        return torch.complex(-F.softplus(self.rho), self.freq)

    def closed_loop(self, x, u, c):
        return self.eigenvalues(), u + c


MIXERS = {"dissipative": Dissipative, "selective": Selective, "hamiltonian": Hamiltonian,
          "hamiltonian_norm": HamiltonianNorm, "decay_only": DecayOnly, "no_context": NoContext}


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

    def forward(self, x, sequential: bool = False):
        b, t, d = x.shape
        q, k, v = self.queries_keys_values(x)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))

    def attention(self, x):
        """The attention probabilities (B, H, T, T), written out."""
        q, k, _ = self.queries_keys_values(x)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        mask = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool, device=x.device).tril()
        return scores.masked_fill(~mask, float("-inf")).softmax(-1)

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
        self.mix = CausalSelfAttention(cfg) if kind == "transformer" else MIXERS[kind](cfg)
        self.mlp = GatedMLP(cfg.d_model, cfg.hidden)

    def forward(self, x, sequential: bool = False):
        x = x + self.mix(self.norm1(x), sequential)
        return x + self.mlp(self.norm2(x))

    def step(self, x, state):
        m, state = self.mix.step(self.norm1(x), state)
        x = x + m
        return x + self.mlp(self.norm2(x)), state


class LM(nn.Module):
    """Embedding (tied to the output) -> blocks -> RMSNorm -> logits."""

    def __init__(self, cfg: ModelConfig, kind: str):
        super().__init__()
        self.cfg, self.kind = cfg, validate.one_of(kind, "kind", KINDS)
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg, kind) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model)
        nn.init.normal_(self.embed.weight, std=0.02)
        for name, p in self.named_parameters():
            if name.endswith(("readout.weight", "proj.weight", "w2.weight")):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layers))

    def num_params(self) -> int:
        """Number of trainable parameters (the tied embedding counted once)."""
        return sum(p.numel() for p in self.parameters())

    def _check(self, idx, dim: int = 2):
        if not isinstance(idx, torch.Tensor) or idx.dtype != torch.long or idx.dim() != dim:
            raise TypeError(f"idx must be a LongTensor of shape {'(B, T)' if dim == 2 else '(B,)'}")
        if idx.numel() and not torch.compiler.is_compiling() and (idx.min() < 0 or idx.max() >= self.cfg.vocab_size):
            raise ValueError(f"idx holds token ids outside [0, {self.cfg.vocab_size}) (the model's vocabulary)")

    def forward(self, idx, sequential: bool = False):
        """Logits (B, T, V); ``sequential=True`` runs the reference loops of the recurrent mixing."""
        self._check(idx)
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x, sequential)
        return F.linear(self.norm(x), self.embed.weight)

    def mixer_inputs(self, idx) -> list[torch.Tensor]:
        """Per block, the normalised input x_t (B, T, d) its sequence mixing sees."""
        self._check(idx)
        x, out = self.embed(idx), []
        for block in self.blocks:
            out.append(block.norm1(x))
            x = block(x)
        return out

    def attention_maps(self, idx) -> list[torch.Tensor]:
        """Per block of a transformer, the softmax attention probabilities (B, H, T, T)."""
        if self.kind != "transformer":
            raise ValueError(f"a {self.kind} model has no softmax attention maps")
        return [block.mix.attention(x) for block, x in zip(self.blocks, self.mixer_inputs(idx))]

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

    def spectral_modules(self) -> list[Mixer]:
        """The recurrent mixers, one per layer (empty for the transformer)."""
        return [b.mix for b in self.blocks if isinstance(b.mix, Mixer)]


def build_model(kind: str, cfg: ModelConfig) -> LM:
    """The model of family ``kind`` with configuration ``cfg``."""
    validate.one_of(kind, "kind", KINDS)
    validate.instance(cfg, "cfg", ModelConfig, "a ModelConfig")
    return LM(cfg, kind)


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
