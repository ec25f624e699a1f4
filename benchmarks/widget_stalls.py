"""genphys.plotting.controls: how often a headless notebook run stalls on a widget cell.

The book is executed without a front end, by ``nbclient`` (``jupyter-book build``, ``nbmake``).
A cell whose widgets write into an output widget as it runs (``ipywidgets.interact`` draws its
default there) makes ``nbclient`` send on the kernel's shell socket while it waits on that
socket for the cell's reply; now and then that wake-up is lost and the cell returns only when
its timeout runs out (jupyter/nbclient#312). ``plotting.controls`` draws nothing until a control
moves, so a headless run never writes there.

Side by side in one run, the same notebook of CELLS widget cells, each drawing a small figure,
is executed RUNS times with each way of making its widgets, and with a plain figure and no
widget as the control. A cell counts as stalled when it takes more than 80 % of TIMEOUT seconds
(it otherwise takes well under a second). Stalls are rare and seem to come more often on a
loaded machine, so the counts are small numbers; the benchmark reports them, it times nothing.

    python benchmarks/widget_stalls.py [runs]

The last line printed is a JSON object: stalled cells and cells run, per way.
"""

from __future__ import annotations

import json
import sys
import time

import nbformat
from nbclient import NotebookClient

CELLS, RUNS, TIMEOUT = 20, 15, 10
HEAD = """import ipywidgets, matplotlib.pyplot as plt
from IPython.display import display
from genphys import plotting
def show(x=1.0):
    plt.plot([0, 1], [0, x])
    plt.show()
"""
WAYS = {
    "ipywidgets.interactive": "display(ipywidgets.interactive(show, x=ipywidgets.FloatSlider()))",
    "plotting.controls": "show()\ndisplay(plotting.controls(show, x=ipywidgets.FloatSlider()))",
    "no widget": "show()",
}


def notebook(body: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in [HEAD] + [body] * CELLS]
    return nb


def stalled_cells(body: str) -> int:
    """Execute the notebook once; the number of its cells that ran into the timeout."""
    started, took = {}, {}
    NotebookClient(
        notebook(body), timeout=TIMEOUT, kernel_name="python3",
        on_cell_start=lambda cell, cell_index: started.__setitem__(cell_index, time.monotonic()),
        on_cell_executed=lambda cell, cell_index, execute_reply: took.__setitem__(
            cell_index, time.monotonic() - started[cell_index]),
    ).execute()
    return sum(d > 0.8 * TIMEOUT for d in took.values())


def main(runs: int = RUNS) -> dict:
    counts = {}
    for way, body in WAYS.items():
        stalls = sum(stalled_cells(body) for _ in range(runs))
        counts[way] = {"stalled": stalls, "cells": runs * CELLS}
        print(f"{way:24s} {stalls:3d} of {runs * CELLS} cells stalled for {TIMEOUT} s", flush=True)
    return counts


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS)))
