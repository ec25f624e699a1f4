"""Spectral analysis of a trained recurrent LM (chapter 7): modes, energy budget, complex-plane plots.

Per layer the free generator has eigenvalues lambda_k = r_k + i w_k and the closed loop the
multipliers a_k = (1 - g_k) e^{lambda_k}.  With a threshold ``eps`` (rate per token) a mode is

* **decay** when r_k < -eps (forgetting), **growth** when r_k > eps (amplification),
  **neutral** when |r_k| <= eps (preservation) - the paper's convention (chapter 7, eq. ch7-free);

and the **energy budget** is the paper's table: sum of r over decay modes, over growth modes,
and the net sum of all rates.  The closed loop is stable in mode k when |a_k| < 1, i.e.
r_k < -log(1 - g_k): a growth mode is stable whenever the measurement gain outweighs it.
"""

from __future__ import annotations

import numpy as np

from genphys import spectral, validate

EPS = 1e-3   # rates per token with |r| <= EPS count as neutral (a time scale of at least 1000 tokens)


def layer_spectra(model) -> list[dict]:
    """Per recurrent layer: ``rate`` r_k, ``freq`` w_k, ``gain`` g_k and ``multiplier`` a_k as numpy arrays."""
    import torch

    mods = model.spectral_modules()
    if not mods:
        raise ValueError(f"a {getattr(model, 'kind', type(model).__name__)} model has no recurrent layers to analyse")
    out = []
    with torch.no_grad():
        for m in mods:
            lam = m.eigenvalues().to(torch.complex128).cpu().numpy()
            out.append({"rate": lam.real.copy(), "freq": lam.imag.copy(),
                        "gain": m.gain().double().cpu().numpy(),
                        "multiplier": m.multipliers().cpu().numpy().astype(np.complex128)})
    return out


def _rates(rates) -> np.ndarray:
    return validate.finite_array(rates, "rates", dtype=float, ndim=1)


def classify(rates, eps: float = EPS) -> dict:
    """Counts of ``decay`` (r < -eps), ``growth`` (r > eps) and ``neutral`` (|r| <= eps) modes."""
    return spectral.count_modes(rates, eps)


def energy_budget(rates, eps: float = EPS) -> dict:
    """The paper's table: sum_j r_j over decay modes, over growth modes, and net = sum over all modes."""
    r = _rates(rates)
    return {"total_decay": float(r[r < -eps].sum()), "total_growth": float(r[r > eps].sum()),
            "net": float(r.sum()), "eps": float(eps)}


def closed_loop(multipliers) -> dict:
    """Counts of contracting (|a| < 1), unit (| |a| - 1 | <= 1e-6, float32 rounding) and expanding (|a| > 1) modes."""
    mod = np.abs(np.asarray(multipliers))
    unit = np.isclose(mod, 1.0, rtol=0, atol=1e-6)
    return {"contracting": int(((mod < 1) & ~unit).sum()), "unit": int(unit.sum()),
            "expanding": int(((mod > 1) & ~unit).sum()), "max_abs": float(mod.max())}


def summary(spectra: list[dict], eps: float = EPS) -> dict:
    """Mode counts, energy budget and closed-loop counts over all layers, and per layer."""
    rates = np.concatenate([s["rate"] for s in spectra])
    mult = np.concatenate([s["multiplier"] for s in spectra])
    growth = rates > eps
    stable_growth = int((growth & (np.abs(mult) < 1)).sum())
    return {"modes": classify(rates, eps), "energy_budget": energy_budget(rates, eps),
            "closed_loop": closed_loop(mult), "stabilised_growth_modes": stable_growth,
            "per_layer": [{"modes": classify(s["rate"], eps), "energy_budget": energy_budget(s["rate"], eps)}
                          for s in spectra]}


def to_json(spectra: list[dict]) -> list[dict]:
    """Spectra as plain lists (complex numbers split into real and imaginary parts)."""
    return [{"rate": s["rate"].tolist(), "freq": s["freq"].tolist(), "gain": s["gain"].tolist(),
             "multiplier_re": s["multiplier"].real.tolist(), "multiplier_im": s["multiplier"].imag.tolist()}
            for s in spectra]


def from_json(items: list[dict]) -> list[dict]:
    """Inverse of :func:`to_json`."""
    return [{"rate": np.array(s["rate"]), "freq": np.array(s["freq"]), "gain": np.array(s["gain"]),
             "multiplier": np.array(s["multiplier_re"]) + 1j * np.array(s["multiplier_im"])} for s in items]


def plot_complex_plane(spectra: list[dict], axes=None, eps: float = EPS, title: str = ""):
    """Left: lambda_k in the complex plane coloured decay/growth/neutral; right: a_k with the unit circle."""
    import matplotlib.pyplot as plt

    from genphys import plotting

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.6, 4.0))
    rates = np.concatenate([s["rate"] for s in spectra])
    freqs = np.concatenate([s["freq"] for s in spectra])
    mult = np.concatenate([s["multiplier"] for s in spectra])
    kinds = spectral.classify_modes(rates, eps)
    for kind in ("decay", "growth", "neutral"):
        sel = kinds == kind
        axes[0].scatter(rates[sel], freqs[sel], s=12, color=plotting.color(kind), label=f"{kind} ({sel.sum()})")
        axes[1].scatter(mult.real[sel], mult.imag[sel], s=12, color=plotting.color(kind), label=kind)
    axes[0].axvline(0, color="k", lw=0.8)
    axes[0].set(xlabel=r"rate $r_k$ (per token)", ylabel=r"frequency $\omega_k$", title=title or r"generator $\lambda_k$")
    axes[0].legend(loc="best", fontsize=8)
    t = np.linspace(0, 2 * np.pi, 400)
    axes[1].plot(np.cos(t), np.sin(t), color="k", lw=0.8)
    axes[1].set(xlabel=r"Re $a_k$", ylabel=r"Im $a_k$", title=r"closed loop $a_k=(1-g_k)e^{\lambda_k}$", aspect="equal")
    return axes
