"""One figure style for the whole book, the colours that carry meaning across chapters, and the
live controls that redraw a chapter's figure.

Only fonts bundled with matplotlib (DejaVu) and mathtext are used: nothing is
fetched, no LaTeX installation is needed.

The module imports without matplotlib (the colours and sizes are plain data); the functions that
draw or make widgets import matplotlib or ipywidgets when called (``pip install "genphys[book]"``).
"""

from __future__ import annotations

import inspect

__all__ = ["PALETTE", "STYLE", "COLUMN_PX", "MIN_TEXT_PT", "shown_scale", "smallest_text_pt", "check_legible",
           "use_style", "color", "controls"]

#: Colours with a fixed meaning in every chapter (colour-blind-safe, Okabe & Ito 2008).
PALETTE = {
    "dissipative": "#0072B2",
    "selective": "#56B4E9",
    "hamiltonian": "#D55E00",
    "hamiltonian_norm": "#E69F00",
    "hamiltonian_measured": "#AA4499",  # purple, from Paul Tol's muted scheme (colour-blind-safe)
    "decay_only": "#999933",
    "no_context": "#009E73",
    "measured_memory": "#882255",      # wine, from Paul Tol's muted scheme (colour-blind-safe)
    "transformer": "#CC79A7",
    "decay": "#0072B2",
    "growth": "#D55E00",
    "neutral": "#7F7F7F",
    "exact": "#000000",
    "sampled": "#E69F00",
}

#: The book's matplotlib style (``rcParams`` keys and values), applied by :func:`use_style`.
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
    # matplotlib's rcParams read a cycler written as text: STYLE needs no matplotlib to be defined.
    "axes.prop_cycle": "cycler(color=['#0072B2', '#D55E00', '#009E73', '#CC79A7', "
                       "'#E69F00', '#56B4E9', '#F0E442', '#000000'])",
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
    import matplotlib as mpl

    mpl.rcParams.update(STYLE)


def color(name: str) -> str:
    """The book's colour for a named concept (``'dissipative'``, ``'decay'``, ...)."""
    try:
        return PALETTE[name]
    except KeyError:
        raise ValueError(f"unknown colour name {name!r}; expected one of {sorted(PALETTE)}") from None


def controls(function, **widgets):
    """Widgets that call ``function(**values)`` again, below them, each time one of them moves.

    Unlike ``ipywidgets.interact`` nothing is drawn until a control moves: the chapter shows the
    default itself, as static output the HTML keeps. A notebook executed without a front end
    (``nbclient``: the book build, ``nbmake``) therefore never writes into the output widget.
    Writing there makes ``nbclient`` send on the kernel's shell socket while it waits on that
    socket for the cell's reply; that wake-up can be lost, and the cell then stalls for its whole
    timeout (jupyter/nbclient#312).

    ``widgets`` maps each keyword argument of ``function`` to an ``ipywidgets`` value widget; a
    widget without a description is labelled with its argument's name. Returns the box of
    controls and output, for ``display``.
    """
    import ipywidgets

    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}")
    if not widgets:
        raise ValueError("controls needs at least one widget, given as name=widget")
    for name, widget in widgets.items():
        if not isinstance(widget, ipywidgets.ValueWidget):
            raise TypeError(f"control {name!r} must be an ipywidgets value widget "
                            f"(a slider, dropdown, ...), got {type(widget).__name__}")
    try:
        inspect.signature(function).bind_partial(**widgets)
    except TypeError as error:
        raise ValueError(f"the controls {sorted(widgets)} do not fit function's signature: "
                         f"{error}") from None
    out = ipywidgets.Output()

    def redraw(_change):
        out.clear_output(wait=True)
        with out:
            function(**{name: widget.value for name, widget in widgets.items()})

    for name, widget in widgets.items():
        widget.description = widget.description or name
        widget.observe(redraw, names="value")
    return ipywidgets.VBox([*widgets.values(), out])
