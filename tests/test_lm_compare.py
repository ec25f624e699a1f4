"""genphys.lm.compare: run-level resume, the protocol's order, the window split, the recall metric, scaling."""

import json

import numpy as np
import pytest
import torch

from genphys.lm import compare

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker

TINY = dict(kinds=("dissipative", "transformer"), rates=(1e-3, 3e-3, 9e-3), budgets={"dissipative": (1, 2), "transformer": (1,)})


def _fake_done(cfg, dev):
    """Stored sweep runs whose development score is ``dev(kind, lr, seed)``."""
    return {compare.run_key(k, lr, s, 1): {"dev_bits_per_byte": dev(k, lr, s)}
            for k in cfg["kinds"] for lr in cfg["rates"] for s in cfg["seeds"][:2]}


def test_protocol_order_sweep_then_seeds_then_budgets():
    cfg = compare.settings("tiny", **TINY)
    first = compare.pending(cfg, {})
    assert {s[2] for s in first} == {0, 1} and {s[3] for s in first} == {1}     # only the sweep is known
    assert len(first) == 2 * 3 * 2                                              # kinds x rates x sweep seeds
    done = _fake_done(cfg, lambda k, lr, s: abs(lr - 3e-3) + 0.01 * s)
    assert compare.sweep(cfg, done, "dissipative")[1] == 3e-3
    del done[compare.run_key("transformer", 1e-3, 0, 1)]                     # the transformer's sweep unfinished
    todo = compare.pending(cfg, done)
    assert todo[:2] == [("dissipative", 3e-3, 2, 1), ("transformer", 1e-3, 0, 1)]  # a family's third seed first
    assert [s for s in todo if s[3] == 2] == [("dissipative", 3e-3, s, 2) for s in (0, 1, 2)]
    assert all(s[1] == 3e-3 for s in todo if s[0] == "dissipative")


def test_sweep_grows_beyond_the_end_that_wins():
    cfg = compare.settings("tiny", **TINY)
    dev = lambda k, lr, s: abs(np.log2(lr / 1.8e-2))                  # best beyond the grid's top, 9e-3
    done = _fake_done(cfg, dev)
    assert compare.sweep(cfg, done, "dissipative") == ([1e-3, 3e-3, 9e-3, 1.8e-2], None)
    assert ("dissipative", 1.8e-2, 0, 1) in compare.pending(cfg, done)
    for lr in (1.8e-2, 3.6e-2):
        done.update({compare.run_key("dissipative", lr, s, 1): {"dev_bits_per_byte": dev(0, lr, s)} for s in (0, 1)})
    assert compare.sweep(cfg, done, "dissipative") == ([1e-3, 3e-3, 9e-3, 1.8e-2, 3.6e-2], 1.8e-2)  # bracketed
    done = _fake_done(cfg, lambda k, lr, s: lr)                                   # the lowest rate wins
    for lr in (5e-4, 2.5e-4):
        done.update({compare.run_key("dissipative", lr, s, 1): {"dev_bits_per_byte": lr} for s in (0, 1)})
    assert compare.sweep(cfg, done, "dissipative") == ([2.5e-4, 5e-4, 1e-3, 3e-3, 9e-3], 2.5e-4)  # EXTEND at most
    assert compare.sweep(cfg, done, "transformer") == ([5e-4, 1e-3, 3e-3, 9e-3], None)


def test_a_text_file_comparison_is_keyed_by_name_and_digest(tmp_path):
    text = tmp_path / "some_stories.txt"
    text.write_text("\n<|endoftext|>\n".join(f"Story {i} is here." for i in range(40)) + "\n", encoding="utf-8")
    cfg = compare.settings("tiny", str(text))
    assert cfg["kinds"] == list(compare.REAL_TEXT_KINDS) and cfg["data"] == "file:some_stories.txt"
    assert all(b == list(compare.REAL_TEXT_BUDGETS) for b in cfg["budgets"].values())
    again = compare.settings("tiny", "file:some_stories.txt", sha256=cfg["data_sha256"])
    assert again == cfg                                                           # the book needs no file
    with pytest.raises(ValueError, match="sha256"):
        compare.settings("tiny", "file:some_stories.txt", sha256="abc")
    assert compare.artifact_name(str(text)) == "ch07-comparison-some-stories"


def test_runs_resume_where_they_stopped(tmp_path):
    cfg = compare.settings("tiny", **TINY)
    done = compare.run(cfg, tmp_path, workers=1, max_runs=2, log=lambda _: None)
    assert len(done) == 2 and len(list((tmp_path / "runs").glob("*-x1.json"))) == 2
    stamp = {p.name: p.read_text() for p in (tmp_path / "runs").glob("*.json")}
    more = compare.run(cfg, tmp_path, workers=1, max_runs=1, log=lambda _: None)
    assert len(more) == 3 and set(done) < set(more)
    assert all((tmp_path / "runs" / name).read_text() == text for name, text in stamp.items())   # not redone
    row = more[next(iter(done))]
    assert row["beyond_tokens"] >= 0 and row["test_bits_per_byte"] > 0 and "recall_nats" in row
    assert json.loads((tmp_path / "runs" / f"{row['key']}.json").read_text())["key"] == row["key"]


def test_scaling_exponent_of_a_power_law():
    table = [{"kind": "dissipative", "budget": b, "tokens": 1000 * b, "bits_per_byte": 0.3 + 2.0 * (1000 * b) ** -0.4}
             for b in (1, 4, 16)]
    assert compare.scaling(table, 0.3)["dissipative"]["alpha"] == pytest.approx(0.4, abs=1e-10)
    assert compare.scaling(table[:1], 0.3) == {}


def test_verdict():
    assert compare.verdict([0.30, 0.31, 0.30], [0.40, 0.41, 0.42])["verdict"] == "supported"
    assert compare.verdict([0.40, 0.41, 0.42], [0.30, 0.31, 0.30])["verdict"] == "contradicted"
    assert compare.verdict([0.30, 0.35, 0.32], [0.31, 0.33, 0.34])["verdict"] == "not resolved"
    assert compare.verdict([0.3], [0.4])["verdict"] == "not resolved"


def test_collect_tables_only_finished_rates(tmp_path):
    cfg = compare.settings("tiny", **TINY)
    done = _fake_done(cfg, lambda k, lr, s: abs(lr - 3e-3))
    for key, row in done.items():
        kind, _, seed, budget = key.rsplit("-", 3)[0], None, int(key.split("-s")[1][0]), 1
        row.update(key=key, kind=kind, seed=seed, budget=budget, tokens=100, params=10, flops=1.0,
                   test_bits_per_byte=0.5 + 0.01 * seed, test_accuracy=0.5, wall_time_s=1.0, beyond_tokens=0)
    res = compare.collect(cfg, done, floor=0.2)
    assert {(r["kind"], r["budget"], r["seeds"]) for r in res["table"]} == {("dissipative", 1, 2), ("transformer", 1, 2)}
    assert res["best_lr"] == {"dissipative": 3e-3, "transformer": 3e-3}
    assert res["coverage"]["missing"] == len(compare.pending(cfg, done)) > 0
    assert np.isclose(res["table"][0]["bits_per_byte_std"], np.std([0.5, 0.51], ddof=1))


def test_bad_settings():
    with pytest.raises(ValueError, match="at least 3"):
        compare.settings("tiny", seeds=(0, 1))
    with pytest.raises(ValueError, match="start at 1"):
        compare.settings("tiny", kinds=("dissipative",), budgets={"dissipative": (2, 4)})
    with pytest.raises(ValueError, match="existing text file"):
        compare.settings("tiny", data="no/such/file.txt")
    with pytest.raises(ValueError, match="kinds"):
        compare.settings("tiny", kinds=("lstm",))


def test_text_file_stats_split_every_story_once(tmp_path):
    from genphys.lm import data as lmdata

    text = tmp_path / "tales.txt"
    tales = [f"Tale {i}: a cat named Cat{i} found a hat." for i in range(3 * lmdata.HOLDOUT_EVERY)]
    text.write_text("\n<|endoftext|>\n".join(tales) + "\n", encoding="utf-8")
    cfg = {**compare.settings("tiny", str(text)), "data_path": str(text)}
    stats = compare.text_file_stats(cfg, compare.tokenizer_text(cfg, tmp_path))
    assert stats["train_stories"] + stats["dev_stories"] + stats["test_stories"] == len(tales)
    assert stats["dev_stories"] + stats["test_stories"] == 3
    assert stats["train_tokens"] > stats["train_stories"]                       # every story has its <eot> and more
    assert stats["epochs"]["4"] == pytest.approx(4 * stats["epochs"]["1"], rel=1e-12)


def test_every_family_has_a_place_in_the_order():
    from genphys.lm.models import KINDS

    assert sorted(compare.PRIORITY) == sorted(KINDS) and len(set(compare.PRIORITY)) == len(KINDS)
    assert compare.PRIORITY[: len(compare.LONG)] == compare.LONG
