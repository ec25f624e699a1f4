"""The language models of chapter 7: seven recurrent families and a transformer, from one configuration.

Every model maps a LongTensor ``(B, T)`` of token ids to logits ``(B, T, V)``.  They share the
embedding (tied to the output), RMSNorm, pre-norm residual blocks and a gated MLP; they differ
only in the sequence mixing of each block.  A recurrent layer carries a complex state
psi_t in C^N and runs one diagonal linear recurrence (chapter 7, eq. ch7-conv)::

    psi_t = a_t psi_{t-1} + b_t,          a_t, b_t from the family's closed loop:

    dissipative       a = (1 - g) e^lambda,       b_t = (1 - g) u_t + g c_t     (eq. ch7-filter)
    selective         a_t = (1 - g_t) e^lambda,   b_t = (1 - g_t) u_t + g_t c_t  (eq. ch7-selective)
    hamiltonian       a = e^{i w},                b_t = u_t + c_t               (eq. ch7-ham)
    hamiltonian_norm  the same, readout RMS-normalised, frequencies away from w = 0
    hamiltonian_measured  a = (1 - g) e^{i w}, b_t = (1 - g) u_t + g c_t  (r = 0, the measurement kept)
    decay_only        a = e^lambda, r = -softplus(rho) < 0, b_t = u_t + c_t (no measurement)
    no_context        the dissipative loop with c_t = 0

with the drive u_t = B x_t and the context target c_t of causal linear attention
(eq. ch7-context).  The seventh recurrent family carries a matrix per head instead, a linear map
read through the key (a Kalman filter whose state is a map: the gated delta rule)::

    measured_memory   M_t = a_t M_{t-1} + beta_t (v_t - a_t M_{t-1} k_t) k_t^T,   o_t = M_t q_t,
                      closed loop M_{t-1} -> a_t M_{t-1} (I - beta_t k_t k_t^T), |k_t| = 1

``transformer`` is a pre-norm GPT with causal softmax attention and rotary
positions.  Parameter counts are matched across families by the gated-MLP width
(:func:`matched_configs`).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from genphys import validate

__all__ = ["KINDS", "RECURRENT", "EPS", "ModelConfig", "RMSNorm", "GatedMLP", "scan_loop", "scan", "scan_demodulated",
           "elu_feature",
           "linear_attention_loop", "linear_attention", "Recurrent", "Mixer", "GAIN_LOGIT_0", "initial_memory",
           "Measured", "Dissipative", "NoContext", "Selective", "Hamiltonian", "HamiltonianNorm",
           "HamiltonianMeasured", "DecayOnly", "delta_rule_step", "delta_rule_loop", "delta_rule_chunked",
           "MeasuredMemory", "MIXERS", "rotary", "CausalSelfAttention", "Block", "LM", "family_version",
           "without_context_target", "build_model", "count_params", "initial_multipliers", "matched_configs"]

#: Every family, the transformer last.
KINDS = ("dissipative", "selective", "hamiltonian", "hamiltonian_norm", "hamiltonian_measured", "decay_only",
         "no_context", "measured_memory", "transformer")
RECURRENT = KINDS[:-1]    #: the recurrent families (all but the transformer)
EPS = 1e-6      #: the one epsilon: RMSNorm's and the linear-attention normaliser's


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


def scan_demodulated(log_abs_a: torch.Tensor, omega: torch.Tensor, b: torch.Tensor, chunk: int) -> torch.Tensor:
    """The recurrence of :func:`scan` for multipliers a_t = |a_t| e^{i omega} whose phase is fixed (eq. ch7-demodulate).

    With psi_t = e^{i omega t} h_t the phase leaves the recurrence: h_t = |a_t| h_{t-1} + e^{-i omega t} b_t, a
    real-decay scan over 2N real channels (Re, Im), solved by :func:`scan`, and psi_t = e^{i omega t} h_t. The
    phases e^{-i omega t} are formed in float64 (omega t reaches thousands of radians: in float32 its rounding
    alone costs about 5e-4 relative error at 4096 tokens) and cast to b's precision. Real multiplications are
    cheaper than complex ones and what a compiler fuses. ``log_abs_a``: (B, T, N) real, ``omega``: (N,),
    ``b``: (B, T, N) complex.
    """
    batch, length, modes = b.shape
    t = torch.arange(length, device=b.device, dtype=torch.float64)[:, None]
    phase = torch.polar(torch.ones((), dtype=torch.float64, device=b.device), t * omega.double()).to(b.dtype)
    shifted = torch.view_as_real(b * phase.conj()).reshape(batch, length, 2 * modes)
    h = scan(log_abs_a.repeat_interleave(2, dim=-1), shifted, chunk)
    return torch.view_as_complex(h.view(batch, length, modes, 2)) * phase


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

class Recurrent(nn.Module):
    """A sequence mixing with a closed loop and an O(1) generation state (every family but the transformer).

    Capabilities a family states here, so that nothing outside this module asks for its name:
    ``varies_with_token`` (its multipliers depend on the token, so reading them needs text) and
    :meth:`abs_multipliers` (the moduli |a| of its closed loop's multipliers along given inputs).
    """

    varies_with_token = False
    #: the version of the family's code: raised when a change alters what its models compute or how they
    #: start, so that runs stored with another version are refused (:func:`family_version`)
    version = 1

    def abs_multipliers(self, x) -> torch.Tensor:
        """|a| per token and mode (or head), (B, T, m), along the layer inputs x (B, T, d)."""
        raise NotImplementedError


class Mixer(Recurrent):
    """The sequence mixing of a recurrent layer (chapter 7): drive, context, closed loop, scan, readout.

    A family is a subclass that says what its closed loop is (:meth:`closed_loop`), and which
    spectral parameters it has.  Complex vectors of N modes travel as 2N reals in (Re, Im) pairs.
    Its closed loop is diagonal in fixed modes: :mod:`genphys.lm.spectra` reads these layers. Every family's
    multiplier has the phase of its frequency, Im ln a_t = omega_k (a measurement and a decay only shrink it):
    a multiplier that varies with the token is scanned demodulated (:func:`scan_demodulated`).
    """

    context = True         # whether the layer has a context target c_t
    normalised = False     # whether the readout sees RMSNorm(psi)
    context_ablated = False  # set by without_context_target: c_t = 0 at inference (an ablation)

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

    def abs_multipliers(self, x):
        """|a_{t,k}| along x (B, T, d), (B, T, N); a constant multiplier repeated at every token."""
        return self.multipliers(x).abs().expand(*x.shape[:-1], self.cfg.n_modes)

    # ---- the layer
    def forward(self, x, sequential: bool = False):
        """x (B, T, d) -> (B, T, d): the parallel (training) form, or with ``sequential`` the plain loops."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
            u = self.drive_of(x)                                                  # u_t = B x_t      (B, T, N)
            c = self.context_target(x, sequential)                               # c_t              (B, T, N)
            log_a, b = self.closed_loop(x, u, c)                                 # a_t, b_t     (N) | (B, T, N)
            if sequential:
                psi = scan_loop(log_a, b)                                         # psi_t            (B, T, N)
            elif log_a.dim() == 3:                  # |a_t| varies, its phase is omega (eq. ch7-demodulate)
                psi = scan_demodulated(log_a.real, self.freq, b, self.cfg.chunk)
            else:
                psi = scan(log_a, b, self.cfg.chunk)
            return self.read(psi)                                                # Re, Im psi -> R^d (B, T, d)

    def drive_of(self, x):
        return _as_complex(self.drive(x))

    def context_target(self, x, sequential: bool = False):
        """c_t by causal linear attention over heads of modes (eq. ch7-context); zero without context."""
        if not self.context or self.context_ablated:
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
        if not self.context or self.context_ablated:
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


GAIN_LOGIT_0 = -2.0     #: the measured families' initial gain, g_0 = sigmoid(-2) = 0.119


def initial_memory(n: int) -> torch.Tensor:
    """|a_k| of a fresh layer, k = 1..n, shared by every family whose modulus is free to learn:
    (1 - g_0) e^{-1/tau_k} with tau_k log-uniform over [1, 100] tokens (0.32 to 0.87).

    Equal initial memory makes a comparison of families one of what they learn, not of where they
    start. It is the distribution the constant-gain filter starts from with rates -1/tau_k and gain
    g_0 (the longest initial memory, -1/ln|a|, is 7.3 tokens); the decay-only, Hamiltonian-with-
    measurement and measured-memory families are initialised to it. The two Hamiltonian twins
    without measurement have |a| = 1 by definition and cannot share it.
    """
    n = validate.integer(n, "n", low=1)
    return (1 - torch.sigmoid(torch.tensor(GAIN_LOGIT_0))) * torch.exp(-1.0 / _decay_times(n))


class Measured(Mixer):
    """A state under weak measurement against c_t (eq. ch7-filter): free rates r_k of either sign."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.rate = nn.Parameter(-1.0 / _decay_times(cfg.n_modes))

    def eigenvalues(self):
        return torch.complex(self.rate, self.freq)

    def filtered(self, gain_logit, u, c):
        return _filtered(self.eigenvalues(), gain_logit, u, c)


def _filtered(eigenvalues, gain_logit, u, c):
    """``(log a, b)`` of eq. ch7-filter with gain g = sigmoid(gain_logit): log a = lambda + ln(1 - g)."""
    g = torch.sigmoid(gain_logit)
    return eigenvalues + F.logsigmoid(-gain_logit), (1 - g) * u + g * c


class Dissipative(Measured):
    """Weak measurement with a constant gain: a = (1 - g) e^lambda, b_t = (1 - g) u_t + g c_t (eq. ch7-filter).

    The data determine only a = (1 - g) e^lambda: with a constant gain, (1 - g) folds into the
    drive B and g into the value projection, so r_k and g_k are not identifiable apart.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.gain_logit = nn.Parameter(torch.full((cfg.n_modes,), GAIN_LOGIT_0))

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

    varies_with_token = True

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.measure = nn.Linear(cfg.d_model, cfg.n_modes)                        # w_k . x_t + beta_k
        nn.init.zeros_(self.measure.weight)
        nn.init.constant_(self.measure.bias, GAIN_LOGIT_0)

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


class HamiltonianMeasured(Mixer):
    """A Hamiltonian generator under weak measurement: r = 0, the measurement kept:
    a = (1 - g) e^{i w}, b_t = (1 - g) u_t + g c_t (eq. ch7-filter with lambda = i w).

    Its modes forget only through the measurement's back-action, |a| = 1 - g < 1: it separates "a
    Hamiltonian generator" from "a loop that cannot forget", which the bare twin confounds. The gain
    starts at g_k = 1 - |a_k| of :func:`initial_memory`.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.gain_logit = nn.Parameter(torch.logit(1 - initial_memory(cfg.n_modes)))

    def eigenvalues(self):
        return torch.complex(torch.zeros_like(self.freq), self.freq)

    def gain(self, x=None):
        return torch.sigmoid(self.gain_logit)

    def closed_loop(self, x, u, c):
        return _filtered(self.eigenvalues(), self.gain_logit, u, c)


class DecayOnly(Mixer):
    """Dissipation without measurement (a RetNet-style ablation): a = e^lambda, r = -softplus(rho) < 0, b_t = u_t + c_t.

    The rates start at r_k = ln|a_k| of :func:`initial_memory`: the same initial memory as the measured families.
    """

    version = 2             # 2: starts from initial_memory (1: from e^{-1/tau}, memories up to 100 tokens)

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.rho = nn.Parameter(torch.log(torch.expm1(-torch.log(initial_memory(cfg.n_modes)))))   # softplus(rho) = -r

    def eigenvalues(self):
        return torch.complex(-F.softplus(self.rho), self.freq)

    def closed_loop(self, x, u, c):
        return self.eigenvalues(), u + c


# ---------------------------------------------------------------- the measured memory (gated delta rule)

def delta_rule_step(m, q, k, v, log_a, beta):
    """One token of the gated delta rule; returns ``(o_t, M_t)`` (eq. ch5-kalman).

    M_t = a_t M_{t-1} + beta_t (v_t - a_t M_{t-1} k_t) k_t^T and o_t = M_t q_t, with a_t = e^{log_a}.
    ``m``: (..., d_v, d_k); ``q``, ``k``: (..., d_k); ``v``: (..., d_v); ``log_a``, ``beta``: (...).
    """
    a, beta = torch.exp(log_a)[..., None], beta[..., None]
    prior = a[..., None] * m                                                     # a_t M_{t-1}
    innovation = v - (prior @ k[..., None])[..., 0]                              # v_t - a_t M_{t-1} k_t
    m = prior + (beta * innovation)[..., :, None] * k[..., None, :]
    return (m @ q[..., None])[..., 0], m


def delta_rule_loop(q, k, v, log_a, beta, state=None):
    """The gated delta rule token by token from M_0 = ``state`` (zero if None): the reference (eq. ch5-kalman).

    ``q``, ``k``: (B, H, T, d_k); ``v``: (B, H, T, d_v); ``log_a``, ``beta``: (B, H, T).
    Returns the readouts o_t = M_t q_t (B, H, T, d_v) and the last state M_T (B, H, d_v, d_k).
    """
    m = _memory_start(k, v, state)
    out = []
    for t in range(k.shape[2]):
        o, m = delta_rule_step(m, q[:, :, t], k[:, :, t], v[:, :, t], log_a[:, :, t], beta[:, :, t])
        out.append(o)
    return torch.stack(out, dim=2), m


def delta_rule_chunked(q, k, v, log_a, beta, chunk: int, state=None):
    """The same recurrence by chunks of ``chunk`` tokens: a UT transform within, M carried across (eq. ch5-kalman).

    Within a chunk (tokens r = 1..C, incoming state M_0) let g_r = sum_{j<=r} ln a_j and
    D_{ri} = e^{g_r - g_i} for i <= r (0 above the diagonal).  Unrolling the recurrence,
    M_r = e^{g_r} M_0 + sum_{i<=r} D_{ri} delta_i k_i^T, where the written values
    delta_r = beta_r (v_r - a_r M_{r-1} k_r) solve the unit lower-triangular system

        (I + A) delta = diag(beta) (V - diag(e^g) K M_0^T),   A_{ri} = beta_r D_{ri} k_r.k_i  (i < r).

    With the UT transform T = (I + A)^{-1} diag(beta) (one triangular solve, every chunk at once)
    the pseudo-values U = T V and W = T diag(e^g) K give delta = U - W M_0^T, and

        O = diag(e^g) Q M_0^T + (Q K^T * D) delta,        M_C = e^{g_C} M_0 + delta^T diag(D_{Ci}) K,

    Yang et al. 2024 (the WY form of the delta rule) with the gating of Gated DeltaNet (Yang et
    al. 2025).  Only e^{g_r - g_i} with i <= r appear, never e^{-g}: strong dissipation (a_t near
    0) cannot overflow.  Cost per chunk and head, in multiply-adds: C^2 (2.5 d_k + 1.5 d_v) for
    K K^T, Q K^T, the solve and (Q K^T * D) delta, and C d_k d_v for the readout of M_0, all
    chunks side by side; only W M_0^T and the carry of M (2 C d_k d_v) run in the loop over the
    T / C chunks.  Per token (2.5 d_k + 1.5 d_v) C + 3 d_k d_v, against the loop's 3 d_k d_v.
    Shapes as in :func:`delta_rule_loop`; T need not be a multiple of ``chunk``.
    """
    validate.integer(chunk, "chunk", low=1)
    batch, heads, length, d_k = k.shape
    m = _memory_start(k, v, state)
    c = min(chunk, length)
    pad = (-length) % c                  # padded tokens: a = 1, beta = 0, k = v = q = 0 leave M as it was
    q, k, v = (F.pad(y, (0, 0, 0, pad)).unflatten(2, (-1, c)) for y in (q, k, v))        # (B, H, n, C, .)
    log_a, beta = (F.pad(y, (0, pad)).unflatten(2, (-1, c)) for y in (log_a, beta))      # (B, H, n, C)
    g = log_a.cumsum(-1)
    causal = torch.ones(c, c, dtype=torch.bool, device=k.device).tril()
    decay = (g[..., :, None] - g[..., None, :]).masked_fill(~causal, -math.inf).exp()   # D_{ri}
    lower = (beta[..., None] * decay * (k @ k.transpose(-1, -2))).tril(-1)              # A
    rhs = beta[..., None] * torch.cat([v, g.exp()[..., None] * k], dim=-1)
    u, w = torch.linalg.solve_triangular(lower, rhs, upper=False, unitriangular=True).split([v.shape[-1], d_k], -1)
    scores = (q @ k.transpose(-1, -2)) * decay                                          # Q K^T * D
    q_in = g.exp()[..., None] * q                                                       # e^{g_r} q_r
    k_out = (g[..., -1:] - g).exp()[..., None] * k                                      # D_{Ci} k_i
    carry = g[..., -1, None, None].exp()                                                # e^{g_C}
    starts, deltas = [], []            # unbind: indexing [:, :, j] would cost a full-size gradient per chunk
    for u_j, w_j, k_j, c_j in zip(*(y.unbind(2) for y in (u, w, k_out, carry))):
        starts.append(m)
        deltas.append(u_j - w_j @ m.transpose(-1, -2))                                  # delta = U - W M_0^T
        m = c_j * m + deltas[-1].transpose(-1, -2) @ k_j
    delta = torch.stack(deltas, dim=2)
    out = q_in @ torch.stack(starts, dim=2).transpose(-1, -2) + scores @ delta          # every chunk at once
    return out.flatten(2, 3)[:, :, :length], m


def _memory_start(k, v, state):
    """M_0: ``state`` (B, H, d_v, d_k), or zeros shaped from k (B, H, T, d_k) and v (B, H, T, d_v)."""
    if state is not None:
        return state
    return torch.zeros(*k.shape[:2], v.shape[-1], k.shape[-1], dtype=k.dtype, device=k.device)


class MeasuredMemory(Recurrent):
    """A Kalman filter whose state is a linear map: the gated delta rule.

    Per head the state is a matrix M_t (values from keys, d_v x d_k with d_k = d_v = d / H, the
    transformer's head size) and token t measures it through its key: v_t = M k_t + noise.  With
    dissipation a_t, an isotropic prior covariance p I and noise sigma^2_t I the Kalman gain of
    the measurement along the unit key is beta_t = p / (p + sigma^2_t), and the update is

        M_t = a_t M_{t-1} + beta_t (v_t - a_t M_{t-1} k_t) k_t^T,        readout o_t = M_t q_t,

    eqs. ch5-info-update and ch5-kalman for each row of M, with F = a_t, W = k_t^T, P = p I and
    R = sigma^2_t (the posterior covariance p (I - beta_t k_t k_t^T) is taken back to isotropic
    before the next token: the one approximation).  Parametrisation, per head h, from x_t:

    * q_t, k_t = Q x_t / |Q x_t|, K x_t / |K x_t| (unit vectors), v_t = V x_t;
    * ln a_t = -softplus(w_h . x_t + b_h), so a_t is in (0, 1) and ln a_t never cancels;
    * beta_t = sigmoid(u_h . x_t + c_h): ln(sigma^2_t / p) = -(u_h . x_t + c_h), the selective
      family's log-linear noise.

    The closed loop is M_{t-1} -> a_t M_{t-1} (I - beta_t k_t k_t^T): eigenvalue a_t on the key's
    orthogonal complement and a_t (1 - beta_t) along k_t, so |a_t| is its largest multiplier (its
    norm) and is what :meth:`multipliers` and :meth:`abs_multipliers` report.  The loop is not
    diagonal in fixed modes (k_t turns with the token), so it has no spectrum of modes for
    :mod:`genphys.lm.spectra` to read; :meth:`transitions` gives the maps themselves.

    Initialisation: w_h = 0 and softplus(b_h) = -ln|a_h| of :func:`initial_memory` over the heads
    (the initial memory every family with a free modulus shares), so a fresh layer forgets at the
    token-independent a_h; u_h as ``nn.Linear``
    draws it and c_h = 0, so beta_t starts near 1/2 (a measurement as precise as the prior).
    """

    varies_with_token = True

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d, h = cfg.d_model, cfg.n_heads
        self.query, self.key, self.value = (nn.Linear(d, d, bias=False) for _ in range(3))
        self.readout = nn.Linear(d, d, bias=False)
        self.decay = nn.Linear(d, h)                                              # w_h . x_t + b_h
        self.measure = nn.Linear(d, h)                                            # u_h . x_t + c_h
        with torch.no_grad():
            self.decay.weight.zero_()
            self.decay.bias.copy_(torch.log(torch.expm1(-torch.log(initial_memory(h)))))
            self.measure.bias.zero_()

    def measurements(self, x):
        """q_t, k_t (B, H, T, d_k), unit; v_t (B, H, T, d_v); ln a_t and beta_t (B, H, T) from x (B, T, d)."""
        heads = lambda y: y.unflatten(-1, (self.cfg.n_heads, -1)).transpose(1, 2)        # noqa: E731
        q = F.normalize(heads(self.query(x)), dim=-1, eps=EPS)
        k = F.normalize(heads(self.key(x)), dim=-1, eps=EPS)
        log_a = -F.softplus(self.decay(x)).transpose(1, 2)
        return q, k, heads(self.value(x)), log_a, torch.sigmoid(self.measure(x)).transpose(1, 2)

    def multipliers(self, x):
        """a_t = exp(-softplus(w_h . x_t + b_h)), (B, T, H): the dissipation, the closed loop's norm."""
        return torch.exp(-F.softplus(self.decay(x)))

    def abs_multipliers(self, x):
        return self.multipliers(x)

    def gain(self, x):
        """beta_t = sigmoid(u_h . x_t + c_h), (B, T, H): the Kalman gain of the measurement along k_t."""
        return torch.sigmoid(self.measure(x))

    def transitions(self, x):
        """The closed-loop maps a_t (I - beta_t k_t k_t^T), (B, T, H, d_k, d_k): M_{t-1} -> M_t without values."""
        _, k, _, log_a, beta = (y.transpose(1, 2) for y in self.measurements(x))
        eye = torch.eye(k.shape[-1], dtype=k.dtype, device=k.device)
        return torch.exp(log_a)[..., None, None] * (eye - beta[..., None, None] * k[..., :, None] * k[..., None, :])

    def forward(self, x, sequential: bool = False):
        """x (B, T, d) -> (B, T, d): the chunked (training) form, or with ``sequential`` the token loop."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
            q, k, v, log_a, beta = self.measurements(x)
            if sequential:
                o, _ = delta_rule_loop(q, k, v, log_a, beta)
            else:
                o, _ = delta_rule_chunked(q, k, v, log_a, beta, self.cfg.chunk)
            return self.readout(o.transpose(1, 2).flatten(2))

    def init_state(self, batch: int, device=None, dtype=torch.float32):
        """M per head, (B, H, d_v, d_k), zero."""
        e = self.cfg.d_model // self.cfg.n_heads
        return {"M": torch.zeros(batch, self.cfg.n_heads, e, e, dtype=dtype, device=device)}

    def step(self, x, state):
        """One token: x (B, d) -> (B, d), M updated in O(1) time and memory."""
        q, k, v, log_a, beta = (y[:, :, 0] for y in self.measurements(x[:, None]))
        o, state["M"] = delta_rule_step(state["M"], q, k, v, log_a, beta)
        return self.readout(o.flatten(1)), state


#: The layer (mixer) class of each recurrent family.
MIXERS = {"dissipative": Dissipative, "selective": Selective, "hamiltonian": Hamiltonian,
          "hamiltonian_norm": HamiltonianNorm, "hamiltonian_measured": HamiltonianMeasured, "decay_only": DecayOnly,
          "no_context": NoContext,
          "measured_memory": MeasuredMemory}


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

    version = 1

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
        """The recurrent mixers whose closed loop is diagonal in fixed modes, one per layer.

        Empty for the transformer, and for the measured memory, whose closed-loop map
        a_t (I - beta_t k_t k_t^T) turns with the key (:meth:`recurrent_modules` holds it).
        """
        return [b.mix for b in self.blocks if isinstance(b.mix, Mixer)]

    def recurrent_modules(self) -> list[Recurrent]:
        """Every mixer with a closed loop and an O(1) state, one per layer (empty for the transformer)."""
        return [b.mix for b in self.blocks if isinstance(b.mix, Recurrent)]


def family_version(kind: str) -> int:
    """The version of family ``kind``'s code (its mixer's ``version``): a stored run records it from version 2 on."""
    validate.one_of(kind, "kind", KINDS)
    return MIXERS[kind].version if kind in MIXERS else CausalSelfAttention.version


@contextlib.contextmanager
def without_context_target(model: LM):
    """Within the block, every layer of ``model`` that has a context target runs with c_t = 0 (eq. ch7-filter with
    the target zeroed: b_t = (1 - g) u_t), in training form and in generation; the weights are untouched. The
    ablation at inference of chapter 8: how much a trained model's predictions rest on its context target.
    Yields the number of layers it zeroed (0 for a model without context targets); restores them on exit."""
    validate.instance(model, "model", LM, "a genphys.lm.models.LM")
    layers = [m for m in model.spectral_modules() if m.context]
    for layer in layers:
        layer.context_ablated = True
    try:
        yield len(layers)
    finally:
        for layer in layers:
            layer.context_ablated = False


def build_model(kind: str, cfg: ModelConfig) -> LM:
    """The model of family ``kind`` with configuration ``cfg``."""
    validate.one_of(kind, "kind", KINDS)
    validate.instance(cfg, "cfg", ModelConfig, "a ModelConfig")
    return LM(cfg, kind)


def count_params(kind: str, cfg: ModelConfig) -> int:
    """Parameters of ``build_model(kind, cfg)``, without building it on a device."""
    with torch.device("meta"):
        return build_model(kind, cfg).num_params()


def initial_multipliers(kind: str, cfg: ModelConfig, seed: int = 0, batch: int = 4, length: int = 64) -> torch.Tensor:
    """The closed-loop |a| of a fresh model of family ``kind``: every layer, mode (or head) and token, 1-d float64.

    The model is built as training builds it (``torch.manual_seed(seed)``, the global generator
    left as it was) and read along ``batch`` rows of ``length`` random token ids (drawn from
    ``seed``), through its own layers.  A constant multiplier counts once per token, so every
    family's values are weighted alike: per layer, mode and token.
    """
    validate.one_of(kind, "kind", RECURRENT)
    validate.instance(cfg, "cfg", ModelConfig, "a ModelConfig")
    seed = validate.seed(seed)
    batch, length = validate.integer(batch, "batch", low=1), validate.integer(length, "length", low=1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(kind, cfg)
    idx = torch.randint(0, cfg.vocab_size, (batch, length), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        inputs = model.mixer_inputs(idx)
        return torch.cat([m.abs_multipliers(x).flatten() for m, x in zip(model.recurrent_modules(), inputs)]).double()


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
