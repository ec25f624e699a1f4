"""genphys.lm.compare: run-level resume, the protocol's order, the window split, the recall metric, scaling."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    assert row["checksum"] == compare.checksum(row) and row["config"]["train"]["lr"] == row["lr"]
    assert compare.stored_runs(tmp_path, cfg) == more                              # bound to its settings


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
    assert compare.PRIORITY[: len(compare.HEADLINE)] == compare.HEADLINE and set(compare.LONG) <= set(compare.HEADLINE)


# ---------------------------------------------------------------- runs bound to their settings

TOKENIZER = "a stand-in for the comparison's tokenizer"


def _row(cfg, spec, platform):
    """A finished run's row as run_one records it, its scores made up (only what collect reads)."""
    from genphys.lm.models import count_params
    from genphys.lm.train import training_flops

    c = compare.train_config(cfg, spec)
    return {"key": compare.run_key(*spec), "kind": c.kind, "lr": c.lr, "seed": c.seed, "budget": spec[3],
            "steps": c.steps, "tokens": c.tokens, "params": count_params(c.kind, c.model),
            "flops": training_flops(c), "dev_bits_per_byte": 1.0 + c.lr, "test_bits_per_byte": 1.0 + c.lr,
            "test_accuracy": 0.5, "wall_time_s": 1.0, "beyond_tokens": 0, "device": platform["device"]}


def _store(cfg, folder, specs, seal=True):
    """Store rows of ``specs`` in ``folder/runs`` beside a tokenizer, sealed as run_one seals them unless told not
    to (a run stored before runs recorded their config); their paths."""
    from genphys import files

    runs = folder / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    (runs / compare.TOKENIZER_FILE).write_text(TOKENIZER, encoding="utf-8")
    platform, paths = compare.machine_platform(), []
    for spec in specs:
        row = _row(cfg, spec, platform)
        if seal:
            row = compare.seal(row, compare.run_config(cfg, spec, compare.tokenizer_sha256(TOKENIZER), platform))
        paths.append(files.atomic_write_text(runs / f"{row['key']}.json", files.strict_json(row)))
    return paths


SWEEP = [("dissipative", lr, s, 1) for lr in (1e-3, 3e-3) for s in (0, 1)]


def test_stored_runs_accept_their_own_configuration_and_a_grown_one(tmp_path):
    cfg = compare.settings("tiny", **TINY)
    _store(cfg, tmp_path, SWEEP)
    done = compare.stored_runs(tmp_path, cfg)
    assert sorted(done) == sorted(compare.run_key(*s) for s in SWEEP)
    row = done[compare.run_key(*SWEEP[0])]
    assert row["config"]["protocol"] == compare.PROTOCOL and row["config"]["scale"] == "tiny"
    assert row["config"]["train"]["steps"] == row["steps"] and row["config"]["data"]["name"] == "stories"
    assert "seeds" not in row["config"] and "rates" not in row["config"]
    grown = compare.settings("tiny", **{**TINY, "seeds": (0, 1, 2, 3), "rates": (1e-3, 3e-3, 9e-3, 2.7e-2)})
    assert compare.stored_runs(tmp_path, grown).keys() == done.keys()          # more seeds keep the old runs
    assert not {"config", "checksum"} & set(compare.collect(cfg, done)["runs"][0])


def test_collect_refuses_runs_of_another_scale(tmp_path):
    _store(compare.settings("cpu", **TINY), tmp_path, SWEEP)
    with pytest.raises(compare.RunError, match=r"^\S+/runs/dissipative-lr0\.001-s0-x1\.json was trained with "
                                               r"scale 'cpu', this comparison is at scale 'tiny'$"):
        compare.stored_runs(tmp_path, compare.settings("tiny", **TINY))


def test_collect_refuses_runs_of_another_text(tmp_path):
    text = tmp_path / "tales.txt"
    text.write_text("\n<|endoftext|>\n".join(f"Tale {i} ends well." for i in range(40)) + "\n", encoding="utf-8")
    old = compare.settings("tiny", str(text))
    _store(old, tmp_path / "cmp", [("dissipative", 1e-3, 0, 1)])
    text.write_text(text.read_text(encoding="utf-8").replace("Tale 7", "Tale seven"), encoding="utf-8")
    with pytest.raises(compare.RunError, match=f"was trained with data.sha256 '{old['data_sha256']}', "
                                               "this comparison has data.sha256 '[0-9a-f]{64}'"):
        compare.stored_runs(tmp_path / "cmp", compare.settings("tiny", str(text)))


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('"test_accuracy": 0.5', '"test_accuracy": 0.6'), "was edited after it was stored"),
    (lambda t: t.replace('"test_accuracy": 0.5', '"test_accuracy": NaN'), r"is not strict JSON \(NaN is not JSON"),
    (lambda t: t[:-1], "is not strict JSON"),
])
def test_a_tampered_run_file_is_refused(tmp_path, edit, message):
    cfg = compare.settings("tiny", **TINY)
    path = _store(cfg, tmp_path, SWEEP)[0]
    compare.stored_runs(tmp_path, cfg)
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(compare.RunError, match=f"runs/{path.name} {message}"):
        compare.stored_runs(tmp_path, cfg)


def test_a_run_stored_under_another_name_is_refused(tmp_path):
    cfg = compare.settings("tiny", **{**TINY, "seeds": (0, 1, 2, 3)})
    path = _store(cfg, tmp_path, SWEEP)[0]
    (tmp_path / "runs" / path.name.replace("-s0-", "-s3-")).write_bytes(path.read_bytes())     # a fourth seed
    with pytest.raises(compare.RunError, match=r"dissipative-lr0\.001-s3-x1\.json holds the run "
                                               r"'dissipative-lr0\.001-s0-x1', not the one its file name says"):
        compare.stored_runs(tmp_path, cfg)


@pytest.mark.parametrize("spec, reason", [
    (("dissipative", 1e-3, 5, 1), r"seed 5 is not among its seeds \[0, 1, 2\]"),
    (("transformer", 1e-3, 0, 2), r"budget 2 is not among transformer's budgets \[1\]"),
    (("selective", 1e-3, 0, 1), "family 'selective' is not among its families"),
    (("dissipative", 5e-3, 0, 1), "learning rate 0.005 is not one its sweep can reach"),
])
def test_a_run_outside_the_protocol_is_refused(tmp_path, spec, reason):
    cfg = compare.settings("tiny", **TINY)
    wide = compare.settings("tiny", kinds=("dissipative", "selective", "transformer"), seeds=(0, 1, 2, 5),
                            rates=(1e-3, 5e-3), budgets={"dissipative": (1, 2), "selective": (1,), "transformer": (1, 2)})
    path = _store(wide, tmp_path, [spec])[0]
    with pytest.raises(compare.RunError, match=f"runs/{path.name} is not a run of this comparison: {reason}"):
        compare.stored_runs(tmp_path, cfg)


def test_bind_unrecorded_stamps_runs_whose_records_agree_and_refuses_the_others(tmp_path):
    from genphys import artifacts

    cfg = compare.settings("tiny", **TINY)
    folder = tmp_path / "ch07-comparison-stories"
    paths = _store(cfg, folder, SWEEP, seal=False)
    with pytest.raises(compare.RunError, match="records no config .* bind such runs once with --bind-unrecorded"):
        compare.stored_runs(folder, cfg)
    with pytest.raises(artifacts.ArtifactMissing):                   # nothing to check the settings against
        compare.bind_unrecorded(folder, cfg)
    artifacts.store(folder.name, cfg, {"table": []}, wall_time_s=0, root=tmp_path)
    with pytest.raises(artifacts.ArtifactError, match="another configuration"):
        compare.bind_unrecorded(folder, compare.settings("tiny", **{**TINY, "rates": (1e-3, 3e-3)}))
    before = {p: p.read_bytes() for p in paths}
    paths[1].write_text(paths[1].read_text(encoding="utf-8").replace('"params": ', '"params": 1'), encoding="utf-8")
    with pytest.raises(compare.RunError, match=r"s1-x1\.json records params 1\d+, its key gives \d+ under this "
                                               "comparison's settings; it is not bound"):
        compare.bind_unrecorded(folder, cfg)
    assert all(p.read_bytes() == before[p] for p in paths if p != paths[1])          # nothing was written
    paths[1].write_bytes(before[paths[1]])
    assert compare.bind_unrecorded(folder, cfg) == (len(SWEEP), 0)
    done = compare.stored_runs(folder, cfg)
    assert all(r["bound"] == compare.BOUND_NOTE for r in done.values())
    assert compare.bind_unrecorded(folder, cfg) == (0, len(SWEEP))                   # once is enough


# ---------------------------------------------------------------- the command line

def _book(tmp_path, monkeypatch):
    """A stand-in book repository as the working folder; its artifacts folder."""
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text("root: index\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GENPHYS_ARTIFACTS", raising=False)
    return tmp_path / "book" / "_artifacts"


def _fails(capsys, argv, status=2):
    """main(argv) exits with ``status`` and says why in one line on stderr; that line."""
    with pytest.raises(SystemExit) as stop:
        compare.main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == status and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("compare: ")
    return err.strip()


def test_main_refuses_to_relabel_a_comparison_of_another_scale(tmp_path, monkeypatch, capsys):
    from genphys import artifacts

    root = _book(tmp_path, monkeypatch)
    cpu = compare.settings("cpu")
    _store(cpu, root / "ch07-comparison-stories", SWEEP)
    artifacts.store("ch07-comparison-stories", cpu, {"table": []}, wall_time_s=1, root=root)
    committed = {p: p.read_bytes() for p in (root / "ch07-comparison-stories").rglob("*") if p.is_file()}
    for argv in (["--scale", "tiny", "--collect-only"], ["--scale", "tiny", "--max-runs", "1"]):
        assert "was trained with scale 'cpu', this comparison is at scale 'tiny'" in _fails(capsys, argv)
    assert {p: p.read_bytes() for p in (root / "ch07-comparison-stories").rglob("*") if p.is_file()} == committed


def test_main_errors_are_one_line(tmp_path, monkeypatch, capsys):
    from genphys import files
    from genphys.lm import data as lmdata

    root = _book(tmp_path, monkeypatch)
    assert "existing text file" in _fails(capsys, ["--scale", "tiny", "--data", "no/such.txt"])
    assert not (root / "ch07-comparison-such").exists()
    runs = root / "ch07-comparison-stories" / "runs"
    runs.mkdir(parents=True)
    (runs / files.LOCK_FILE).write_text(f"{os.getpid()} {socket.gethostname()}\n", encoding="utf-8")
    assert "is in use: a comparison of process" in _fails(capsys, ["--scale", "tiny", "--collect-only"])
    (runs / files.LOCK_FILE).unlink()
    (runs / "dissipative-lr0.001-s0-x1.json").write_text("{", encoding="utf-8")
    assert "dissipative-lr0.001-s0-x1.json is not strict JSON" in _fails(capsys, ["--scale", "tiny", "--collect-only"])

    def offline(split):
        raise ConnectionError("the hub does not answer")
    monkeypatch.setattr(lmdata, "_load_tinystories", offline)
    line = _fails(capsys, ["--scale", "tiny", "--data", "tinystories", "--max-runs", "1"])
    assert "TinyStories could not be loaded (ConnectionError: the hub does not answer)" in line
    assert not list((root / "ch07-comparison-tinystories" / "runs").glob("*.json*"))     # no stand-in tokenizer


def test_main_finds_its_folder_by_root_then_environment_and_says_which(tmp_path, monkeypatch, capsys):
    from genphys import artifacts, files

    monkeypatch.delenv("GENPHYS_ARTIFACTS", raising=False)
    monkeypatch.setattr(artifacts, "__file__", str(tmp_path / "site-packages" / "genphys" / "artifacts.py"))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)                        # no book repository around: nothing is guessed
    line = _fails(capsys, ["--scale", "tiny", "--collect-only"])
    assert "no folder of committed results: pass root= (--root on the command line)" in line
    for where, argv in (("given", ["--root", str(tmp_path / "given")]), ("named", [])):
        monkeypatch.setenv("GENPHYS_ARTIFACTS", str(tmp_path / "named"))
        runs = tmp_path / where / "ch07-comparison-stories" / "runs"
        runs.mkdir(parents=True)
        (runs / files.LOCK_FILE).write_text(f"{os.getpid()} {socket.gethostname()}\n", encoding="utf-8")
        with pytest.raises(SystemExit):
            compare.main(["--scale", "tiny", "--collect-only", *argv])
        said = capsys.readouterr()
        how = "the folder given" if where == "given" else "$GENPHYS_ARTIFACTS"
        assert said.out.strip() == f"compare: committed results in {tmp_path / where} ({how})"
        assert "is in use" in said.err
    assert not list(outside.iterdir())


def test_ctrl_c_says_how_to_continue(tmp_path, monkeypatch, capsys):
    root = _book(tmp_path, monkeypatch)
    _store(compare.settings("tiny"), root / "ch07-comparison-stories", SWEEP[:2])

    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(compare, "_drive", interrupted)
    line = _fails(capsys, ["--scale", "tiny", "--workers", "1"], status=130)
    assert "interrupted; 2 runs are stored in" in line
    assert line.endswith("this continues from there: python -m genphys.lm.compare --scale tiny --workers 1")


RUNNER = '''
import os, sys, time
from genphys.lm import compare

def sleeper(cfg, spec, tok_text):
    with open(os.environ["WORKER_PID_FILE"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)

if __name__ == "__main__":
    cfg = compare.settings("tiny", kinds=("dissipative",), rates=(1e-3,), budgets={"dissipative": (1,)})
    compare.run(cfg, sys.argv[1], workers=1, job=sleeper, log=lambda _: None)
'''


def _state(pid):
    """The state letter of process ``pid`` (Linux), None if there is none."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_die_when_the_main_process_is_killed(tmp_path):
    script, pid_file = tmp_path / "runner.py", tmp_path / "worker.pid"
    script.write_text(RUNNER, encoding="utf-8")
    (tmp_path / "cmp" / "runs").mkdir(parents=True)
    (tmp_path / "cmp" / "runs" / compare.TOKENIZER_FILE).write_text(TOKENIZER, encoding="utf-8")
    runner = subprocess.Popen([sys.executable, str(script), str(tmp_path / "cmp")],
                              env={**os.environ, "WORKER_PID_FILE": str(pid_file)}, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (pid_file.is_file() and pid_file.read_text()) and runner.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = int(pid_file.read_text())
        helpers = _children(runner.pid)
        assert worker in helpers and len(helpers) >= 2           # the worker and multiprocessing's resource tracker
    finally:
        runner.kill()                                            # SIGKILL: no handler, no atexit
        runner.wait()
    deadline = time.monotonic() + 10
    while any(_state(p) not in (None, "Z") for p in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in helpers if _state(p) not in (None, "Z")]
    for pid in left:                                             # the failing case leaves nothing behind either
        os.kill(pid, signal.SIGKILL)
    assert left == []


def test_the_experiment_checks_the_rate_at_every_longer_budget():
    cfg = compare.settings("tiny", kinds=("dissipative",), rates=(1e-3, 3e-3, 9e-3), seeds=(0, 1, 2, 3),
                           budgets={"dissipative": (1, 4, 16)}, rate_checks={4: 2, 16: 1})
    done = _fake_done(cfg, lambda k, lr, s: abs(lr - 3e-3))                  # 3e-3 wins the sweep
    done.update({compare.run_key("dissipative", 3e-3, s, 1): {"dev_bits_per_byte": 0.0} for s in (2, 3)})
    todo = compare.pending(cfg, done)
    at4 = {(round(lr, 9), s) for k, lr, s, b in todo if b == 4}
    assert at4 == {(round(lr, 9), s) for lr in (1.5e-3, 3e-3, 6e-3) for s in (0, 1)}   # neighbours, two seeds
    assert not any(b == 16 for *_, b in todo)                                          # 16x waits for 4x's rate
    for lr in (1.5e-3, 3e-3, 6e-3):                                                    # the doubled rate is best
        for s in (0, 1):
            done[compare.run_key("dissipative", lr, s, 4)] = {"dev_bits_per_byte": abs(lr - 6e-3)}
    assert compare.rate(cfg, done, "dissipative", 4) == ([1.5e-3, 3e-3, 6e-3], 6e-3)
    todo = compare.pending(cfg, done)
    assert {(lr, s) for k, lr, s, b in todo if b == 4} == {(6e-3, 2), (6e-3, 3)}
    assert {(round(lr, 9), s) for k, lr, s, b in todo if b == 16} == {(3e-3, 0), (6e-3, 0), (1.2e-2, 0)}
    for lr in (3e-3, 6e-3, 1.2e-2):                                                    # every run key is the protocol's
        assert compare.run_spec(cfg, compare.run_key("dissipative", lr, 0, 16))[1] == pytest.approx(lr)
    plain = {k: v for k, v in cfg.items() if k != "rate_checks"}                       # chapter 7's rule: keep 1x's rate
    assert compare.rate(plain, done, "dissipative", 16) == ([3e-3], 3e-3)


def test_the_experiment_shares_the_comparisons_runs_and_records_changed_families():
    comparison, experiment = compare.settings("tiny"), compare.experiment("tiny")
    assert len(experiment["seeds"]) == 6 and set(experiment["kinds"]) == set(compare.KINDS)
    platform = {"device": "cpu", "precision": "fp32"}
    spec = ("dissipative", 8e-3, 0, 4)
    assert compare.run_config(comparison, spec, "0" * 64, platform) == compare.run_config(experiment, spec, "0" * 64,
                                                                                           platform)
    assert "family_version" not in compare.run_config(experiment, spec, "0" * 64, platform)
    decay = compare.run_config(experiment, ("decay_only", 8e-3, 0, 1), "0" * 64, platform)
    assert decay["family_version"] == 2                     # its initial memory changed: older runs are refused
    assert compare.artifact_name("stories", experiment=True) == "ch08-experiment-stories"
