"""The book's one classification of modes: decay, growth, neutral - with its threshold explicit.

A linear evolution with eigenvalues lambda_k = r_k + i w_k (continuous time) or multipliers
a_k (one step, r_k = ln|a_k|) has, per mode, a *rate* r_k.  With a threshold ``eps >= 0``:

* **decay** when r_k < -eps (forgetting),
* **growth** when r_k > eps (amplification),
* **neutral** when |r_k| <= eps (preservation).

The threshold is part of the statement: without one, round-off alone decides whether a mode
"grows".  Chapters 3 (Liouvillian spectra), 4 (Koopman spectra) and 7 (the trained model) call
these functions; nothing else in the package classifies modes.
"""

from __future__ import annotations

import numpy as np

from genphys import validate

#: The names of the three kinds of mode.
DECAY, GROWTH, NEUTRAL = "decay", "growth", "neutral"
#: The three kinds, in the book's order.
KINDS = (DECAY, GROWTH, NEUTRAL)

__all__ = ["DECAY", "GROWTH", "NEUTRAL", "KINDS", "classify_modes", "count_modes", "log_moduli",
           "memory_times"]


def _rates(rates) -> np.ndarray:
    return validate.finite_array(rates, "rates", dtype=float, ndim=1)


def classify_modes(rates, eps: float) -> np.ndarray:
    """Per mode ``"decay"`` (r < -eps), ``"growth"`` (r > eps) or ``"neutral"`` (|r| <= eps)."""
    r = _rates(rates)
    eps = validate.real(eps, "eps", low=0)
    return np.where(r < -eps, DECAY, np.where(r > eps, GROWTH, NEUTRAL))


def count_modes(rates, eps: float) -> dict:
    """How many modes of each kind, and the threshold used: ``{"decay", "growth", "neutral", "eps"}``."""
    kinds = classify_modes(rates, eps)
    return {**{kind: int((kinds == kind).sum()) for kind in KINDS}, "eps": float(eps)}


def log_moduli(multipliers) -> np.ndarray:
    """r_k = ln|a_k|: the rate per step of a mode with one-step multiplier a_k (-inf for a_k = 0)."""
    a = validate.finite_array(multipliers, "multipliers", dtype=complex, ndim=1)
    with np.errstate(divide="ignore"):
        return np.log(np.abs(a))


def memory_times(multipliers) -> np.ndarray:
    """tau_k = -1 / ln|a_k| steps: the e-folding time of a contracting mode (inf for |a_k| >= 1)."""
    r = log_moduli(multipliers)
    with np.errstate(divide="ignore"):
        return np.where(r < 0, -1.0 / r, np.inf)
