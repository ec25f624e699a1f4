import io
import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from genphys import plotting  # noqa: E402


def test_use_style_sets_the_book_style():
    plotting.use_style()
    for key, value in plotting.STYLE.items():
        assert matplotlib.rcParams[key] == matplotlib.rcParams.validate[key](value), key


def test_a_figure_renders_with_bundled_fonts_only(caplog):
    plotting.use_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], color=plotting.color("decay"), label=r"$r_k < 0$")
    ax.set_title(r"$\lambda_k = r_k + i\omega_k$")
    ax.legend()
    buffer = io.BytesIO()
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        fig.savefig(buffer, format="png")
    plt.close(fig)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]


def test_unknown_colour_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown colour name 'purple'"):
        plotting.color("purple")


def test_controls_draw_nothing_until_a_control_moves_then_pass_every_value():
    import ipywidgets

    calls = []
    slider = ipywidgets.FloatSlider(value=1.0, min=0.0, max=3.0)
    choice = ipywidgets.Dropdown(options=["a", "b"])
    box = plotting.controls(lambda x, name: calls.append((x, name)), x=slider, name=choice)
    assert calls == []
    slider.value = 2.0
    choice.value = "b"
    assert calls == [(2.0, "a"), (2.0, "b")]
    assert list(box.children[:2]) == [slider, choice]
    assert isinstance(box.children[-1], ipywidgets.Output)


def test_controls_reject_what_is_not_a_widget_or_not_an_argument():
    import ipywidgets

    def draw(x=1.0):
        pass

    with pytest.raises(TypeError, match="control 'x' must be an ipywidgets value widget"):
        plotting.controls(draw, x=1.0)
    with pytest.raises(ValueError, match=r"controls \['y'\] do not fit"):
        plotting.controls(draw, y=ipywidgets.FloatSlider())
    with pytest.raises(ValueError, match="at least one widget"):
        plotting.controls(draw)
    with pytest.raises(TypeError, match="function must be callable"):
        plotting.controls("draw", x=ipywidgets.FloatSlider())


def test_a_notebook_with_controls_runs_headless_without_writing_into_their_output():
    # the output widget's state stays empty, so nbclient never answers it on the shell socket
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets, matplotlib.pyplot as plt\n"
        "from IPython.display import display\n"
        "from genphys import plotting\n"
        "def show(x=1.0):\n    plt.plot([0, 1], [0, x])\n    plt.show()\n"
        "display(plotting.controls(show, x=ipywidgets.FloatSlider(value=1.0)))\n")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]
    assert outputs == [[]]
    views = [o for o in nb.cells[0].outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1


def _texts(ax) -> str:
    """Every visible text of the figure that holds ``ax`` (inset axes and legends included)."""
    from matplotlib.text import Text

    ax.figure.canvas.draw()
    return "\n".join(t.get_text() for t in ax.figure.findobj(Text) if t.get_visible())


SCHEMATICS = {  # function -> texts its diagram must carry
    "schematic_histories": ["prompt X = a", "prompt X = b", "horizon L = 2", "⊣ 0.3", "ab: 0.10",
                            "sum of the leaves: 1.00", "complete history (ends with ⊣)"],
    "schematic_fock": ["Ω", "aba", "ab⊣", r"$K_a$", r"$K_\dashv$", "27 texts", r"$r^*(e_a)$",
                       "environment records"],
    "schematic_open_system": [r"system: state $\rho$", "bath (environment)", "$c_1$", "CPTP map",
                              "a history of tokens", "rotation"],
    "schematic_layer": [r"token $x_t$", "context target $c_t$\n(linear attention)", r"past $\psi_{t-1}$",
                        "kernel smoother (ch. 5)", "gain $g$: steady-state\nKalman filter (ch. 5, ch. 6)"],
    "schematic_koopman": ["state space: nonlinear", "observables: linear", r"spectrum of $\mathsf{K}$",
                          "decay", "growth", "neutral", "lift", "$x^2$"],
}


@pytest.mark.parametrize("name", sorted(SCHEMATICS))
def test_each_schematic_draws_its_labelled_elements_legibly(name):
    plotting.use_style()
    fig, ax = plt.subplots(figsize=plotting.SCHEMATIC_SIZE[name.removeprefix("schematic_")])
    try:
        assert getattr(plotting, name)(ax) is ax
        text = _texts(ax)
        missing = [label for label in SCHEMATICS[name] if label not in text]
        assert not missing, f"{name} lacks {missing}"
        assert plotting.check_legible(fig) >= 9.0
        assert not ax.axison                      # a diagram, not a plot: no frame, no ticks
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", sorted(SCHEMATICS))
def test_a_schematic_without_axes_makes_its_own_figure_of_the_suggested_size(name):
    ax = getattr(plotting, name)()
    try:
        width, height = ax.figure.get_size_inches()
        assert (width, height) == pytest.approx(plotting.SCHEMATIC_SIZE[name.removeprefix("schematic_")])
        assert plotting.shown_scale(width) == 1.0  # no wider than the column: shown at its own size
    finally:
        plt.close(ax.figure)


def test_the_tree_of_histories_computes_its_leaves_by_the_chain_rule():
    plotting.use_style()
    conditionals = {"a": {"a": 0.5, "⊣": 0.5}}
    fig, ax = plt.subplots(figsize=plotting.SCHEMATIC_SIZE["histories"])
    try:
        plotting.schematic_histories(ax, prompts=("a",), conditionals=conditionals, horizon=3)
        text = _texts(ax)
        # leaves: ⊣ 0.5, a⊣ 0.25, aa⊣ 0.125 and the unfinished aaa 0.125; they sum to one
        for label in ("⊣: 0.50", "a⊣: 0.25", "aa⊣: 0.12", "aaa: 0.12", "sum of the leaves: 1.00",
                      "horizon L = 3"):
            assert label in text, label
    finally:
        plt.close(fig)
