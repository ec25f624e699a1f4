"""One figure style for the whole book, the colours that carry meaning across chapters, the
live controls that redraw a chapter's figure, and the schematic diagram each chapter opens with.

Only fonts bundled with matplotlib (DejaVu) and mathtext are used: nothing is
fetched, no LaTeX installation is needed.

The module imports without matplotlib (the colours and sizes are plain data); the functions that
draw or make widgets import matplotlib or ipywidgets when called (``pip install "genphys[book]"``).
"""

from __future__ import annotations

import inspect

__all__ = ["PALETTE", "STYLE", "COLUMN_PX", "MIN_TEXT_PT", "shown_scale", "smallest_text_pt", "check_legible",
           "use_style", "color", "controls", "SCHEMATIC_SIZE", "TOY_CONDITIONALS", "schematic_histories",
           "schematic_fock", "schematic_open_system", "schematic_koopman", "schematic_layer"]

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


# --- schematic figures: the picture each chapter opens with ----------------------------------------
#
# Diagrams, not data: each function draws into one matplotlib axes (made when ``ax`` is None) with its
# frame switched off, in the book's colours, with no text under 9 pt at the width it suggests
# (``SCHEMATIC_SIZE``). They return the axes, so a test can read back what was drawn.

#: The figure size, in inches, at which each schematic is drawn in its chapter (all fit the column).
SCHEMATIC_SIZE = {
    "histories": (7.0, 4.2),
    "fock": (7.0, 4.6),
    "open_system": (7.0, 3.4),
    "koopman": (7.0, 3.3),
    "layer": (7.0, 3.9),
}
_SMALL, _TEXT = 9.0, 10.0            # schematic font sizes: annotations, labels


def _schematic_axes(ax, name: str):
    """``ax`` with its frame off, or a new one of the size ``SCHEMATIC_SIZE[name]``."""
    if ax is None:
        import matplotlib.pyplot as plt

        _fig, ax = plt.subplots(figsize=SCHEMATIC_SIZE[name])
    ax.set_axis_off()
    return ax


#: The illustrative model of :func:`schematic_histories`: p(next token | last token), tokens a, b, ⊣.
TOY_CONDITIONALS = {
    "a": {"a": 0.2, "b": 0.5, "⊣": 0.3},
    "b": {"a": 0.6, "b": 0.1, "⊣": 0.3},
}


def _history_leaves(prompt: str, conditionals: dict, horizon: int) -> list[tuple[str, float]]:
    """The histories of the horizon (complete ones, and unfinished ones cut at it) with their
    chain-rule probabilities, depth first in the order of ``conditionals``."""
    def grow(text, last, prob, depth):
        for token, p in conditionals[last].items():
            if token == "⊣" or depth + 1 == horizon:
                yield text + token, prob * p
            else:
                yield from grow(text + token, token, prob * p, depth + 1)

    return list(grow("", prompt[-1], 1.0, 0))


def schematic_histories(ax=None, prompts=("a", "b"), conditionals=None, horizon: int = 2):
    """Chapter 1's picture: a GAI system as a family of trees of histories, one tree per prompt.

    Every edge carries a next-token conditional p(y | X, y_<t) of ``conditionals`` (by default the
    illustrative :data:`TOY_CONDITIONALS`, a Markov chain on the last token over a, b and the
    end-of-text token ⊣); every leaf carries the chain-rule probability of its history. Squares are
    complete histories (ending in ⊣), circles are cut at the ``horizon``: the leaves of each tree
    partition the futures, and their probabilities (printed under it) sum to one.
    """
    from matplotlib.lines import Line2D

    conditionals = TOY_CONDITIONALS if conditionals is None else conditionals
    ax = _schematic_axes(ax, "histories")
    step, row, width = 1.0, 0.42, 3.55         # column spacing, leaf spacing, one tree's width
    edge_colour, node_colour = color("neutral"), color("dissipative")
    for i, prompt in enumerate(prompts):
        x0 = i * width
        leaves = _history_leaves(prompt, conditionals, horizon)
        ys = {text: (len(leaves) - 1 - k) * row for k, (text, _p) in enumerate(leaves)}

        def y_of(text):  # a node sits at the mean height of the leaves below it
            below = [y for leaf, y in ys.items() if leaf.startswith(text)]
            return sum(below) / len(below)

        def draw(text, last, prob, depth):
            x, y = x0 + depth * step, y_of(text)
            for token, p in conditionals[last].items():
                child = text + token
                cx, cy = x0 + (depth + 1) * step, y_of(child)
                ax.plot([x, cx], [y, cy], color=edge_colour, lw=0.8 + 4.0 * prob * p,
                        solid_capstyle="round", zorder=1)
                ax.text(x + 0.6 * (cx - x), y + 0.6 * (cy - y), f"{token} {p:.1f}", fontsize=_SMALL,
                        ha="center", va="center", zorder=3,
                        bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none"))
                if token == "⊣" or depth + 1 == horizon:
                    complete = token == "⊣"
                    ax.plot(cx, cy, "s" if complete else "o", ms=7, zorder=2,
                            mfc=color("exact") if complete else "white", mec=color("exact"))
                    ax.text(cx + 0.12, cy, f"{child}: {prob * p:.2f}", fontsize=_SMALL, va="center")
                else:
                    draw(child, token, prob * p, depth + 1)
            ax.plot(x, y, "o", ms=6, color=node_colour, zorder=2)

        draw("", prompt[-1], 1.0, 0)
        ax.text(x0 - 0.1, y_of(""), "X", fontsize=_TEXT, ha="right", va="center")
        top = (len(leaves) - 1) * row
        xh = x0 + horizon * step
        ax.plot([xh, xh], [-0.2, top + 0.2], ls="--", lw=0.9, color="0.55", zorder=0)
        ax.text(xh, top + 0.25, f"horizon L = {horizon}", fontsize=_SMALL, ha="center",
                va="bottom", color="0.3")
        total = sum(p for _t, p in leaves)
        ax.text(xh + 0.3, -0.3, f"sum of the leaves: {total:.2f}", fontsize=_SMALL,
                ha="center", va="top")
        ax.text(x0 + 0.5 * horizon * step, top + 0.65, f"prompt X = {prompt}", fontsize=_TEXT,
                ha="center", va="bottom", weight="bold")
    handles = [Line2D([], [], ls="none", marker="s", ms=7, mfc=color("exact"), mec=color("exact")),
               Line2D([], [], ls="none", marker="o", ms=7, mfc="white", mec=color("exact"))]
    ax.legend(handles, ["complete history (ends with ⊣)", "unfinished, cut at the horizon"],
              loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2, fontsize=_SMALL,
              handletextpad=0.3, columnspacing=1.5)
    ax.set_xlim(-0.45, len(prompts) * width - 0.3)
    return ax


def _box(ax, x, y, text, highlight=False, fontsize=_SMALL, **kwargs):
    """A text in a rounded box; highlighted boxes are drawn in the dissipative colour."""
    edge = color("dissipative") if highlight else "0.55"
    face = "#DCEBF5" if highlight else "white"
    return ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4,
                   bbox=dict(boxstyle="round,pad=0.25", fc=face, ec=edge, lw=1.4 if highlight else 0.8),
                   **kwargs)


def _arrow(ax, start, end, colour="0.6", lw=0.8, style="-|>", rad=0.0, shrink=(9, 9), **kwargs):
    from matplotlib.patches import FancyArrowPatch

    patch = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=10, color=colour, lw=lw,
                            shrinkA=shrink[0], shrinkB=shrink[1], connectionstyle=f"arc3,rad={rad}", zorder=3,
                            **kwargs)
    ax.add_patch(patch)
    return patch


def schematic_fock(ax=None):
    """Chapter 2's picture: the Fock space as a ladder of lengths, and generation as an instrument.

    Rung n holds the texts of n tokens (here over a, b and the end-of-text token ⊣), a basis of
    the n-fold tensor power of the token space. Creation appends a token and climbs one rung; the
    Kraus operator K_y of the instrument appends y with the amplitude sqrt p(y | X, h), and the
    environment records which branch was taken. The highlighted path generates the text ``ab``.
    """
    ax = _schematic_axes(ax, "fock")
    rungs = {0: ["Ω"], 1: ["a", "b", "⊣"], 2: ["aa", "ab", "a⊣", "ba", "bb", "b⊣"]}
    names = [r"$n = 0$:  $\mathbb{C}\,|\Omega\rangle$", r"$n = 1$:  $\mathcal{H}$",
             r"$n = 2$:  $\mathcal{H}^{\otimes 2}$", r"$n = 3$:  $\mathcal{H}^{\otimes 3}$"]
    x_mid, gap = 3.75, 0.68
    where = {}
    for n, texts in rungs.items():
        for k, text in enumerate(texts):
            where[text] = (x_mid + (k - (len(texts) - 1) / 2) * gap, n)
    for k, text in enumerate(["aba", "abb", "ab⊣"]):   # rung 3: the children of ab
        where[text] = (where["ab"][0] + (k - 1) * 0.9, 3)
    for n in range(4):
        ax.plot([1.85, 5.75], [n, n], color="0.85", lw=5, solid_capstyle="round", zorder=0)
        ax.text(0.0, n, names[n] + f"\n{3 ** n} text" + ("s" if n else ""), fontsize=_SMALL,
                va="center", ha="left", linespacing=1.6)
    for text, (x, n) in where.items():
        _box(ax, x, n, text, highlight=text in ("Ω", "a", "ab"))
    ax.text(where["ab⊣"][0] + 0.45, 3, "⋯ and 24 more", ha="left", va="center", fontsize=_SMALL,
            color="0.35")
    for n in (0, 1):  # creation: every unfinished text of rung n climbs to its extensions
        for text in rungs[n]:
            if text.endswith("⊣"):
                continue
            for token in "ab⊣":
                child = ("" if text == "Ω" else text) + token
                on_path = (text, child) in (("Ω", "a"), ("a", "ab"))
                _arrow(ax, where[text], where[child], colour=color("dissipative") if on_path else "0.75",
                       lw=1.8 if on_path else 0.7)
    branches = (("aba", r"$K_a$", -0.72), ("abb", r"$K_b$", 0.17), ("ab⊣", r"$K_\dashv$", 0.8))
    for child, label, dx in branches:
        _arrow(ax, where["ab"], where[child], colour=color("hamiltonian"), lw=1.6)
        ax.text(where["ab"][0] + dx, 2.45, label, fontsize=_TEXT, color=color("hamiltonian"),
                ha="center", va="center")
    ax.text(where["a"][0] - 0.25, 0.5, r"$r^*(e_a)$: append a", fontsize=_SMALL, ha="right",
            va="center", color=color("dissipative"))
    note = ("the instrument on a text $|h\\rangle$:\n"
            r"$K_y\,|h\rangle = \sqrt{p(y \mid X, h)}\;|h\,y\rangle$" "\n"
            "climbs one rung per token;\n"
            "the environment records\nthe branch $y \\in \\{a, b, \\dashv\\}$")
    ax.text(6.0, 1.55, note, fontsize=_SMALL, va="center", ha="left", linespacing=1.5,
            bbox=dict(boxstyle="round,pad=0.4", fc="#FBEFE6", ec=color("hamiltonian"), lw=0.8))
    ax.set_xlim(-0.05, 8.7)
    ax.set_ylim(-0.45, 3.4)
    return ax


def schematic_open_system(ax=None):
    """Chapter 3's picture: a system coupled to a bath.

    Left, the system's state: the Hamiltonian alone rotates it on the surface of the ball of states
    (a circle, reversible); with the bath it spirals into the steady state. Right, the bath: the
    jump operators c_k emit quanta into it, and their record is a history of tokens. Forgetting the
    bath leaves a CPTP map, the solution of the GKSL equation.
    """
    import numpy as np
    from matplotlib.patches import Circle, FancyBboxPatch

    ax = _schematic_axes(ax, "open_system")
    ax.set_aspect("equal")
    centre, radius = np.array([2.2, 2.35]), 1.45
    ax.add_patch(Circle(centre, radius, fc="#F2F2F2", ec="0.45", lw=1.0, zorder=0))
    theta = np.linspace(0, 2 * np.pi, 200)
    ring = 0.92 * radius
    ax.plot(centre[0] + ring * np.cos(theta), centre[1] + 0.35 * ring * np.sin(theta),
            color=color("hamiltonian"), lw=1.6, ls="--")
    spin = np.linspace(0, 5 * np.pi, 500)
    ss = centre + np.array([0.0, -0.45])
    r = ring * np.exp(-spin / 6.5)
    path = np.c_[ss[0] + r * np.cos(spin), ss[1] + 0.35 * r * np.sin(spin) + 0.45 * np.exp(-spin / 6.5)]
    ax.plot(*path.T, color=color("dissipative"), lw=1.6)
    ax.plot(*ss, marker="*", ms=13, color=color("exact"), zorder=5)
    ax.text(ss[0] + 0.15, ss[1] - 0.22, r"$\rho_{\mathrm{ss}}$", fontsize=_TEXT, ha="left", va="top")
    ax.text(centre[0], centre[1] + radius + 0.12, r"system: state $\rho$", fontsize=_TEXT,
            ha="center", va="bottom", weight="bold")
    ax.text(centre[0] - radius - 0.1, centre[1] + 0.95,
            "$-i[H, \\rho]$:\nrotation,\nreversible", fontsize=_SMALL, ha="right", va="center",
            color=color("hamiltonian"))
    ax.text(centre[0] - radius - 0.1, centre[1] - 0.9, "with the bath:\nspiral into\nthe steady state",
            fontsize=_SMALL, ha="right", va="center", color=color("dissipative"))
    # the bath: a box of many modes
    bath = (6.5, 0.75, 3.1, 3.2)
    ax.add_patch(FancyBboxPatch(bath[:2], bath[2], bath[3], boxstyle="round,pad=0.1",
                                fc="#E8F1F8", ec=color("dissipative"), lw=1.0, zorder=0))
    rng = np.random.default_rng(1)
    dots = rng.uniform([bath[0] + 0.2, bath[1] + 0.25], [bath[0] + bath[2] - 0.2, bath[1] + 2.3], (40, 2))
    ax.scatter(*dots.T, s=6, color=color("selective"), zorder=1)
    ax.text(bath[0] + bath[2] / 2, bath[1] + bath[3] + 0.12, "bath (environment)", fontsize=_TEXT,
            ha="center", va="bottom", weight="bold")
    ax.text(bath[0] + bath[2] / 2, bath[1] + 2.75, "many modes, no memory", fontsize=_SMALL,
            ha="center", va="center", color="0.3")
    # jumps: the system emits into the bath
    for k, (y0, y1, rad) in enumerate(((3.1, 3.0, -0.15), (2.35, 2.2, 0.0), (1.6, 1.4, 0.15))):
        _arrow(ax, (centre[0] + radius - 0.05, y0), (bath[0] - 0.05, y1),
               colour=color("dissipative"), lw=1.4, rad=rad)
        ax.text(5.05, (y0 + y1) / 2 + 0.12 + 0.1 * (1 - k), f"$c_{k + 1}$", fontsize=_TEXT,
                color=color("dissipative"), ha="center", va="bottom")
    ax.text(5.05, 0.95, "jumps: quanta\nemitted into the bath", fontsize=_SMALL, ha="center",
            va="center", color=color("dissipative"))
    ax.text(bath[0] + bath[2] / 2, bath[1] + 0.35, "record: $k_1\\, k_2\\, k_3 \\ldots$\na history of tokens",
            fontsize=_SMALL, ha="center", va="center",
            bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="0.6", lw=0.6))
    ax.text(4.85, 0.15, r"$\dot\rho = -i[H, \rho] + \Sigma_k\, \mathcal{D}[c_k]\,\rho$;"
            "  forget the bath:  "
            r"$\rho(t) = e^{t\mathcal{L}}\rho(0)$, a CPTP map", fontsize=_TEXT, ha="center", va="top")
    ax.set_xlim(-0.1, 9.8)
    ax.set_ylim(-0.3, 4.35)
    return ax


def schematic_koopman(ax=None, mu: float = -0.3, lam: float = -3.0, eps: float = 0.15):
    """Chapter 4's picture: the Koopman lift of a nonlinear flow.

    Left, orbits of the slow-manifold flow dx/dt = mu x, dy/dt = lam (y - x^2) in the state space:
    nonlinear, they fall onto the parabola y = b x^2. Middle, the observables psi = (x, y, x^2) of
    one orbit, which evolve linearly, psi(t) = exp(tK) psi(0). Right, eigenvalues of generators in
    the complex plane, sorted by their rate with the threshold ``eps``: decay, neutral (the shaded
    band) and growth. The lift's own eigenvalues mu, lam and 2 mu all decay.
    """
    import numpy as np

    ax = _schematic_axes(ax, "koopman")
    panels = [ax.inset_axes(box) for box in ([0.0, 0.14, 0.27, 0.68], [0.37, 0.14, 0.27, 0.68],
                                             [0.74, 0.14, 0.26, 0.68])]
    b = lam / (lam - 2 * mu)
    t = np.linspace(0, 8, 300)

    def orbit(x0, y0):
        x = x0 * np.exp(mu * t)
        return x, b * x**2 + (y0 - b * x0**2) * np.exp(lam * t)

    state, lifted, plane = panels
    for x0, y0 in ((1.0, -0.6), (-0.9, 1.4), (0.5, 1.5), (-0.6, -0.8)):
        x, y = orbit(x0, y0)
        state.plot(x, y, color=color("dissipative"), lw=1.4)
        state.plot(x0, y0, "o", color=color("exact"), ms=3.5)
    xs = np.linspace(-1.1, 1.1, 100)
    state.plot(xs, b * xs**2, "--", color="0.4", lw=1)
    state.set_title("state space: nonlinear", fontsize=_TEXT)
    state.set_xlabel("$x$", fontsize=_TEXT, labelpad=1)
    state.set_ylabel("$y$", fontsize=_TEXT, labelpad=1)
    x, y = orbit(1.0, -0.6)
    for k, (values, name) in enumerate(((x, "$x$"), (y, "$y$"), (x**2, "$x^2$"))):
        lifted.plot(t, values, lw=1.6, label=name,
                    color=color(("dissipative", "hamiltonian", "no_context")[k]))
    lifted.legend(loc="lower right", fontsize=_SMALL, handlelength=1.2, borderaxespad=0.2)
    lifted.text(0.97, 0.97, r"$\psi(t) = e^{t\mathsf{K}}\psi(0)$", transform=lifted.transAxes,
                fontsize=_TEXT, ha="right", va="top")
    lifted.set_ylim(-0.75, 1.45)
    lifted.set_title("observables: linear", fontsize=_TEXT)
    lifted.set_xlabel("time $t$", fontsize=_TEXT, labelpad=1)
    plane.axvspan(-eps, eps, color="0.88", zorder=0)
    plane.axvline(0, color="0.5", lw=0.7)
    plane.axhline(0, color="0.5", lw=0.7)
    points = {"decay": [(mu, 0), (lam / 4, 0), (2 * mu, 0), (-0.5, 0.8), (-0.5, -0.8)],
              "neutral": [(0, 0), (0.02, 1.2), (0.02, -1.2)],
              "growth": [(0.45, 0.5), (0.45, -0.5)]}
    for kind, xy in points.items():
        plane.scatter(*np.array(xy).T, s=22, color=color(kind), zorder=3)
    plane.text(-0.62, 1.45, "decay", color=color("decay"), fontsize=_SMALL, ha="center")
    plane.text(0.0, -1.6, "neutral", color="0.3", fontsize=_SMALL, ha="center")
    plane.text(0.55, 1.45, "growth", color=color("growth"), fontsize=_SMALL, ha="center")
    plane.text(-0.04, 1.93, "Im", fontsize=_SMALL, ha="right", va="top", color="0.3")
    plane.set_xlim(-0.95, 0.85)
    plane.set_ylim(-1.85, 1.95)
    plane.set_title(r"spectrum of $\mathsf{K}$", fontsize=_TEXT)
    plane.set_xlabel(r"rate Re $\lambda_k$", fontsize=_TEXT, labelpad=1)
    for panel in panels:
        panel.set_xticks([])
        panel.set_yticks([])
        panel.grid(False)
    for x0, x1, label in ((0.285, 0.36, "lift"), (0.66, 0.735, r"$\lambda_k$")):
        ax.annotate("", xy=(x1, 0.48), xytext=(x0, 0.48), xycoords="axes fraction",
                    arrowprops=dict(arrowstyle="-|>", color="0.3", lw=1.4))
        ax.text((x0 + x1) / 2, 0.52, label, transform=ax.transAxes, fontsize=_SMALL, ha="center",
                va="bottom", color="0.3")
    return ax


def schematic_layer(ax=None):
    """Chapter 7's picture: one step of the dissipative layer, with the chapter each part comes from.

    The token x_t drives the state (u_t = B x_t); the past state evolves freely as damped modes
    (e^lambda, chapters 3-4) into the prediction m_t; linear attention over the past gives the context
    target c_t (a kernel smoother, chapter 5); the weak measurement mixes the two with the gain g
    (the steady-state Kalman filter, chapters 5-6), psi_t = (1 - g) m_t + g c_t; the readout maps
    Re, Im psi_t to the model width, and psi_t is carried to the next token.
    """
    ax = _schematic_axes(ax, "layer")
    hi = color("dissipative")
    boxes = [
        (0.55, 2.2, r"token $x_t$", False),
        (2.75, 3.45, r"drive $u_t = B x_t$", False),
        (2.75, 2.2, r"past $\psi_{t-1}$", False),
        (2.45, 0.95, "context target $c_t$\n(linear attention)", False),
        (5.35, 3.05, "prediction\n$m_t = e^{\\lambda}\\psi_{t-1} + u_t$", False),
        (5.35, 1.35, "weak measurement\nof $\\psi$ against $c_t$", False),
        (7.95, 2.2, "$\\psi_t = (1 - g)\\, m_t + g\\, c_t$", True),
        (10.15, 2.2, "readout\nRe, Im $\\psi_t$", False),
    ]
    for x, y, text, highlight in boxes:
        _box(ax, x, y, text, highlight=highlight)
    arrows = [   # (start, end, highlighted): from edge to edge of the boxes, so that every head shows
        ((1.05, 2.4), (1.85, 3.35), False), ((0.9, 1.95), (1.55, 1.33), False),
        ((3.7, 3.4), (4.28, 3.25), False), ((3.4, 2.3), (4.28, 2.8), True),
        ((3.6, 1.05), (4.24, 1.25), False), ((6.1, 2.75), (7.0, 2.38), True),
        ((6.3, 1.55), (7.05, 2.02), True), ((8.98, 2.2), (9.55, 2.2), False),
    ]
    for start, end, strong in arrows:
        _arrow(ax, start, end, colour=hi if strong else "0.5", lw=1.3 if strong else 0.9, shrink=(0, 0))
    _arrow(ax, (7.95, 1.95), (2.75, 1.95), colour="0.45", lw=0.9, rad=-0.45, shrink=(4, 6), linestyle="--")
    ax.text(7.2, 0.35, "next token: $\\psi_t$ becomes the past", fontsize=_SMALL, ha="center",
            va="center", color="0.35")
    for x, y, text in ((5.35, 4.15, "free evolution of damped modes (ch. 3, ch. 4)"),
                       (2.45, 0.3, "kernel smoother (ch. 5)"),
                       (8.55, 3.2, "gain $g$: steady-state\nKalman filter (ch. 5, ch. 6)")):
        ax.text(x, y, text, fontsize=_SMALL, ha="center", va="center", color=hi)
    ax.set_xlim(-0.2, 11.0)
    ax.set_ylim(-0.1, 4.4)
    return ax
