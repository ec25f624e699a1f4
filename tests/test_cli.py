"""genphys.cli: argparse types that refuse out-of-range values with argparse's one-line usage error."""

import argparse

import pytest

from genphys import cli


def _parser():
    parser = argparse.ArgumentParser(prog="prog")
    parser.add_argument("--n", type=cli.integer(1), default=1)
    parser.add_argument("--rate", type=cli.real(0, 1, low_open=True), default=0.5)
    return parser


@pytest.mark.parametrize("argv, message", [
    (["--n", "0"], "argument --n: must be an int >= 1, got 0"),
    (["--n", "1.5"], "argument --n: must be an int, got '1.5'"),
    (["--n", "x"], "argument --n: must be an int, got 'x'"),
    (["--rate", "0"], "argument --rate: must be a number > 0, got 0.0"),
    (["--rate", "2"], "argument --rate: must be a number <= 1, got 2.0"),
    (["--rate", "nan"], "argument --rate: must be finite, got nan"),
    (["--rate", "inf"], "argument --rate: must be finite, got inf"),
])
def test_out_of_range_is_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        _parser().parse_args(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"prog: error: {message}"


def test_good_values_pass_through():
    args = _parser().parse_args(["--n", "7", "--rate", "1"])
    assert args.n == 7 and isinstance(args.n, int) and args.rate == 1.0


def test_fail_is_one_line_and_an_exit_code(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.fail("prog", ValueError("bad thing in /x/y"), code=3)
    assert exit_.value.code == 3 and capsys.readouterr().err == "prog: error: bad thing in /x/y\n"
