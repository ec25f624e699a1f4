"""One figure style for the whole book, and the colours that carry meaning across chapters.

Only fonts bundled with matplotlib (DejaVu) and mathtext are used: nothing is
fetched, no LaTeX installation is needed.
"""

from __future__ import annotations

import matplotlib as mpl

#: Colours with a fixed meaning in every chapter (colour-blind-safe, Okabe & Ito 2008).
PALETTE = {
    "dissipative": "#0072B2",
    "selective": "#56B4E9",
    "hamiltonian": "#D55E00",
    "hamiltonian_norm": "#E69F00",
    "decay_only": "#999933",
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


#: Width of the book's text column in a 1400-pixel browser window, in CSS pixels
#: (``tests/test_browser.py`` measures it). A figure wider than the column is shown scaled down.
COLUMN_PX = 780
#: The smallest text, in points as the reader sees it, that a figure of the book may carry.
MIN_TEXT_PT = 8.0


def shown_scale(width_in: float, dpi: float | None = None) -> float:
    """The factor by which a figure ``width_in`` inches wide is scaled to fit the column (at most 1)."""
    dpi = float(STYLE["figure.dpi"] if dpi is None else dpi)
    if not width_in > 0 or not dpi > 0:
        raise ValueError(f"width_in and dpi must be positive, got {width_in!r} and {dpi!r}")
    return min(1.0, COLUMN_PX / (width_in * dpi))


def smallest_text_pt(fig) -> float:
    """The size in points, as shown in the column, of the smallest visible text of ``fig``.

    Tick labels, axis labels, titles, legends and annotations all count; empty strings do not.
    """
    from matplotlib.text import Text

    fig.canvas.draw()                      # tick labels exist only once the figure is drawn
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    if not sizes:
        return float("inf")
    return min(sizes) * shown_scale(fig.get_figwidth(), fig.dpi)


def check_legible(fig, min_pt: float = MIN_TEXT_PT) -> float:
    """Raise ``ValueError`` if ``fig`` has text smaller than ``min_pt`` as shown; return the smallest size."""
    size = smallest_text_pt(fig)
    if size < min_pt:
        raise ValueError(f"the smallest text of this figure is {size:.1f} pt at column width "
                         f"(at least {min_pt} pt): use larger fonts or a narrower figure")
    return size


def use_style() -> None:
    """Apply the book's style to matplotlib's global ``rcParams``."""
    mpl.rcParams.update(STYLE)


def color(name: str) -> str:
    """The book's colour for a named concept (``'dissipative'``, ``'decay'``, ...)."""
    try:
        return PALETTE[name]
    except KeyError:
        raise ValueError(f"unknown colour name {name!r}; expected one of {sorted(PALETTE)}") from None
