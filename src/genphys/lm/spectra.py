"""Spectral analysis of a trained recurrent LM (chapter 7): the closed loop, which the data determine.

A recurrent layer runs psi_t = a_t psi_{t-1} + b_t with diagonal multipliers a_k.  For the
constant-gain family a_k = (1 - g_k) e^{lambda_k}, and only a_k is identifiable: (1 - g) folds
into the drive and g into the value projection, so r_k and g_k apart are a choice of
parametrisation, not a property of the trained function.  The spectrum is therefore read from
the *closed loop*, per token, with the threshold explicit (:func:`genphys.spectral.classify_modes`):

* rate rho_k = ln|a_k|: **decay** when rho_k < -eps, **growth** when rho_k > eps, **neutral**
  when |rho_k| <= eps (the paper's convention, chapter 7, eq. ch7-free, applied to the closed loop);
* memory time tau_k = -1 / ln|a_k| tokens for a contracting mode;
* energy budget: the sum of rho over decay modes, over growth modes, and their sum ``net``
  (the neutral modes' sum is reported apart).

The generator view (r_k of lambda_k = r_k + i w_k) is kept under ``generator``, with this caveat:
for the constant-gain family it is not determined by the data.  For the selective family the
multipliers a_{t,k} vary with the token; :func:`layer_spectra` then reads them along text and
reports their effective value exp(mean_t ln a_{t,k}) (what a long stretch of text multiplies a mode
by, per token), their quantiles and a histogram of ln|a_{t,k}|.

Only layers diagonal in fixed modes have such a spectrum (``model.spectral_modules()``).  The
measured memory's closed loop a_t (I - beta_t k_t k_t^T) turns with the key from token to token;
its dissipation a_t is read by the layer's own ``multipliers(x)``, not here.
"""

from __future__ import annotations

import numpy as np

from genphys import spectral, validate

__all__ = ["EPS", "BINS", "QUANTILES", "layer_spectra", "classify", "energy_budget", "closed_loop_rates", "summary",
           "to_json", "from_json", "plot_closed_loop"]

EPS = 1e-3      #: rates per token with |rho| <= EPS count as neutral (a time scale of at least 1000 tokens)
BINS = np.linspace(-6.0, 0.5, 66)           #: histogram edges of ln|a_{t,k}| for the selective family
QUANTILES = (0.05, 0.5, 0.95)                #: quantiles of |a_{t,k}| per mode for the selective family


def layer_spectra(model, idx=None) -> list[dict]:
    """Per recurrent layer: ``rate``, ``freq`` (the generator), ``gain`` and the closed-loop ``multiplier`` a_k.

    A model whose multipliers vary with the token (its layers' ``varies_with_token``, the selective
    family) needs ``idx`` (token ids (B, T)): its ``multiplier`` is then the effective
    exp(mean_t ln a_{t,k}), its ``gain`` the mean over tokens, and it adds ``abs_quantiles``
    (|a_{t,k}| at :data:`QUANTILES`, per mode) and ``log_abs_hist`` (counts over :data:`BINS`).
    """
    import torch

    mods = model.spectral_modules()
    if not mods:
        raise ValueError(f"a {getattr(model, 'kind', type(model).__name__)} model has no recurrent layers "
                         "with fixed modes to analyse")
    selective = any(m.varies_with_token for m in mods)
    if selective and idx is None:
        raise ValueError("idx (token ids) is needed: this model's multipliers depend on the token")
    out = []
    with torch.no_grad():
        inputs = model.mixer_inputs(idx) if selective else [None] * len(mods)
        for m, x in zip(mods, inputs):
            lam = m.eigenvalues().to(torch.complex128).cpu().numpy()
            entry = {"rate": lam.real.copy(), "freq": lam.imag.copy()}
            if selective:
                a = m.multipliers(x).to(torch.complex128).reshape(-1, lam.size).cpu().numpy()   # (tokens, N)
                log_abs = np.log(np.abs(a))
                entry["multiplier"] = np.exp(log_abs.mean(0)) * np.exp(1j * lam.imag)
                entry["gain"] = m.gain(x).double().reshape(-1, lam.size).mean(0).cpu().numpy()
                entry["abs_quantiles"] = np.quantile(np.abs(a), QUANTILES, axis=0)
                entry["log_abs_hist"] = np.histogram(np.clip(log_abs, BINS[0], BINS[-1]), BINS)[0]
            else:
                entry["multiplier"] = m.multipliers().to(torch.complex128).reshape(-1).cpu().numpy()
                entry["gain"] = m.gain().double().cpu().numpy()
            out.append(entry)
    return out


def _rates(rates) -> np.ndarray:
    return validate.finite_array(rates, "rates", dtype=float, ndim=1)


def classify(rates, eps: float = EPS) -> dict:
    """Counts of ``decay`` (rate < -eps), ``growth`` (rate > eps) and ``neutral`` (|rate| <= eps) modes."""
    return spectral.count_modes(rates, eps)


def energy_budget(rates, eps: float = EPS) -> dict:
    """The paper's table: sum of the rates over decay modes, over growth modes, net = their sum; neutral apart."""
    r = _rates(rates)
    kinds = spectral.classify_modes(r, eps)
    decay, growth = float(r[kinds == spectral.DECAY].sum()), float(r[kinds == spectral.GROWTH].sum())
    return {"total_decay": decay, "total_growth": growth, "net": decay + growth,
            "neutral": float(r[kinds == spectral.NEUTRAL].sum()), "eps": float(eps)}


def closed_loop_rates(spectra: list[dict]) -> np.ndarray:
    """rho_k = ln|a_k| over all layers: the identifiable rates per token."""
    return spectral.log_moduli(np.concatenate([s["multiplier"] for s in spectra]))


def summary(spectra: list[dict], eps: float = EPS) -> dict:
    """Closed loop (counts, budget, max |a|, memory times of the decay modes) over all layers and per layer.

    The generator view (counts and budget of r_k) is reported apart, under ``generator``.
    """
    def closed(items):
        rho = closed_loop_rates(items)
        tau = -1.0 / rho[rho < -eps]                 # decay modes; a neutral mode remembers >= 1/eps tokens
        return {"modes": classify(rho, eps), "energy_budget": energy_budget(rho, eps),
                "max_abs": float(np.exp(rho.max())),
                "memory_time_median": float(np.median(tau)) if tau.size else float("inf"),
                "memory_time_max": float(tau.max()) if tau.size else float("inf"),
                "memory_times_over_100": int((tau > 100).sum())}

    rates = np.concatenate([s["rate"] for s in spectra])
    return {"closed_loop": closed(spectra),
            "generator": {"modes": classify(rates, eps), "energy_budget": energy_budget(rates, eps)},
            "per_layer": [closed([s]) for s in spectra]}


_ARRAYS = ("rate", "freq", "gain", "abs_quantiles", "log_abs_hist")


def to_json(spectra: list[dict]) -> list[dict]:
    """Spectra as plain lists (complex multipliers split into real and imaginary parts)."""
    return [{**{k: np.asarray(s[k]).tolist() for k in _ARRAYS if k in s},
             "multiplier_re": s["multiplier"].real.tolist(), "multiplier_im": s["multiplier"].imag.tolist()}
            for s in spectra]


def from_json(items: list[dict]) -> list[dict]:
    """Inverse of :func:`to_json`."""
    return [{**{k: np.array(s[k]) for k in _ARRAYS if k in s},
             "multiplier": np.array(s["multiplier_re"]) + 1j * np.array(s["multiplier_im"])} for s in items]


def plot_closed_loop(spectra: list[dict], axes=None, eps: float = EPS, title: str = ""):
    """Left: a_k in the complex plane with the unit circle; right: the memory times tau_k = -1/ln|a_k|, by kind."""
    import matplotlib.pyplot as plt

    from genphys import plotting

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.6, 4.0))
    mult = np.concatenate([s["multiplier"] for s in spectra])
    rho = spectral.log_moduli(mult)
    kinds = spectral.classify_modes(rho, eps)
    t = np.linspace(0, 2 * np.pi, 400)
    axes[0].plot(np.cos(t), np.sin(t), color="k", lw=0.8)
    for kind in spectral.KINDS:
        sel = kinds == kind
        if sel.any():
            axes[0].scatter(mult.real[sel], mult.imag[sel], s=12, color=plotting.color(kind), label=f"{kind} ({sel.sum()})")
    axes[0].set(xlabel=r"Re $a_k$", ylabel=r"Im $a_k$", aspect="equal",
                title=title or r"closed loop $a_k$, with the unit circle")
    axes[0].legend(loc="lower left")
    tau = spectral.memory_times(mult)
    finite = tau[np.isfinite(tau)]
    if finite.size:
        edges = np.logspace(np.log10(max(finite.min(), 0.1)), np.log10(finite.max() * 1.01), 30)
        axes[1].hist(finite, bins=edges, color=plotting.color("decay"))
        axes[1].set_xscale("log")
    left_out = int((~np.isfinite(tau)).sum())
    axes[1].set(xlabel=r"memory time $\tau_k = -1/\ln|a_k|$ (tokens)", ylabel="modes",
                title=f"memory times ({left_out} modes with $|a_k| \\geq 1$ left out)" if left_out
                else "memory times of the contracting modes")
    return axes
