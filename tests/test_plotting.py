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
