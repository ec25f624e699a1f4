"""One figure style for the whole book, and the colours that carry meaning across chapters.

Only fonts bundled with matplotlib (DejaVu) and mathtext are used: nothing is
fetched, no LaTeX installation is needed.
"""

from __future__ import annotations

import matplotlib as mpl

#: Colours with a fixed meaning in every chapter (colour-blind-safe, Okabe & Ito 2008).
PALETTE = {
    "dissipative": "#0072B2",
    "hamiltonian": "#D55E00",
    "no_context": "#009E73",
    "transformer": "#CC79A7",
    "decay": "#0072B2",
    "growth": "#D55E00",
    "neutral": "#7F7F7F",
    "exact": "#000000",
    "sampled": "#E69F00",
}

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.family": "DejaVu Sans",
    "font.size": 10.5,
    "mathtext.fontset": "dejavusans",
    "axes.titlesize": 11.5,
    "axes.labelsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "axes.prop_cycle": mpl.cycler(color=["#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                         "#E69F00", "#56B4E9", "#F0E442", "#000000"]),
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the book's style to matplotlib's global ``rcParams``."""
    mpl.rcParams.update(STYLE)


def color(name: str) -> str:
    """The book's colour for a named concept (``'dissipative'``, ``'decay'``, ...)."""
    try:
        return PALETTE[name]
    except KeyError:
        raise ValueError(f"unknown colour name {name!r}; expected one of {sorted(PALETTE)}") from None
