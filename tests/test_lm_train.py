"""genphys.lm.train: exact resume after any crash, locked folders, refused mismatches, Ctrl-C / SIGTERM,
checked data, NaN stop, schedule; the CLIs end to end."""

import dataclasses
import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from genphys import files, stories
from genphys.lm import checkpoint, data, evaluate, models, sample, train
from genphys.lm.models import ModelConfig

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker

MODEL = ModelConfig(vocab_size=300, d_model=32, n_layers=2, n_modes=16, n_heads=2, d_feature=4, chunk=16)


def _cfg(**kw):
    base = dict(model=MODEL, kind="dissipative", data="stories", seed=3, seq_len=32, batch_size=4, steps=8,
                lr=3e-3, warmup=2, eval_every=4, eval_stories=6, checkpoint_every=3, tokenizer_stories=100)
    return train.TrainConfig(**{**base, **kw})


def _losses(history):
    return [r["loss"] for r in history if "loss" in r]


@pytest.fixture(scope="module")
def full():
    """The reference: the run of ``_cfg()`` without any interruption."""
    return train.train(_cfg(), None, progress=False)


def _assert_same_run(folder, reference):
    """The run in ``folder`` finished exactly as ``reference``, with complete logs and nothing left over."""
    ckpt = checkpoint.read_checkpoint(folder)
    assert ckpt["step"] == reference["config"]["steps"]
    assert _losses(ckpt["history"]) == _losses(reference["history"])           # exact equality, not a tolerance
    for a, b in zip(reference["model"].state_dict().values(), ckpt["model"].values()):
        assert torch.equal(a, b)
    log = json.loads((folder / checkpoint.METRICS_JSON).read_text(), parse_constant=pytest.fail)
    assert [r["loss"] for r in log if "loss" in r] == _losses(reference["history"])
    assert (folder / checkpoint.METRICS_CSV).read_text().count("\n") == len(log) + 1
    assert checkpoint.read_config(folder) == (train.TrainConfig.from_dict(reference["config"]), "stories")
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name == files.LOCK_FILE]
    assert leftovers == []


@pytest.mark.parametrize("kind", ["dissipative", "transformer"])
def test_interrupted_and_resumed_run_is_bit_for_bit(kind, tmp_path, full):
    cfg = _cfg(kind=kind)
    reference = full if kind == "dissipative" else train.train(cfg, None, progress=False)
    train.train(cfg, tmp_path, progress=False, stop_after=5)
    resumed = train.train(cfg, tmp_path, progress=False, resume=True)
    assert _losses(resumed["history"]) == _losses(reference["history"])
    _assert_same_run(tmp_path, reference)


# the writes of a run of _cfg(): config, tokenizer, then (checkpoint, metrics.json, metrics.csv) at steps 3, 6, 8
@pytest.mark.parametrize("name, occurrence", [("config.json", 1), ("tokenizer.json", 1), ("checkpoint.pt", 1),
                                              ("checkpoint.pt", 2), ("metrics.json", 2), ("metrics.csv", 2),
                                              ("metrics.csv", 3)])
def test_a_crash_in_any_write_leaves_a_resumable_run(name, occurrence, tmp_path, monkeypatch, full):
    real, seen = os.replace, {"n": 0}

    def crashing(src, dst):
        if os.path.basename(dst) == name:
            seen["n"] += 1
            if seen["n"] == occurrence:
                raise OSError(f"simulated crash before {name} #{occurrence} was renamed into place")
        return real(src, dst)
    monkeypatch.setattr(files.os, "replace", crashing)
    with pytest.raises(OSError, match="simulated crash"):
        train.train(_cfg(), tmp_path, progress=False, tokenizer=full["tokenizer"])
    monkeypatch.setattr(files.os, "replace", real)
    if name == "config.json":                    # nothing was written: there is nothing to resume, a fresh run may start
        assert not checkpoint.has_run(tmp_path)
        with pytest.raises(checkpoint.RunError, match=f"nothing to resume in {re.escape(str(tmp_path))}"):
            train.train(_cfg(), tmp_path, progress=False, resume=True)
        train.train(_cfg(), tmp_path, progress=False)
    else:
        with pytest.raises(checkpoint.RunError, match="already holds a run"):
            train.train(_cfg(), tmp_path, progress=False)
        train.train(_cfg(), tmp_path, progress=False, resume=True)
    _assert_same_run(tmp_path, full)


KILLED = """
import os, sys, torch
from genphys import files
from genphys.lm import train
torch.set_num_threads(1)
cfg = train.TrainConfig.from_dict(__import__("json").loads(sys.argv[1]))
real, seen = os.replace, [0]
def die(src, dst):
    if os.path.basename(dst) == "metrics.csv":
        seen[0] += 1
        if seen[0] == 2:
            os._exit(9)                      # killed between the temporary write and the rename
    return real(src, dst)
files.os.replace = die
train.train(cfg, sys.argv[2], progress=False)
"""


def test_a_killed_run_leaves_a_stale_lock_and_temporaries_and_resumes_exactly(tmp_path, full):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", KILLED, json.dumps(_cfg().to_dict()), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    assert (out / files.LOCK_FILE).is_file() and any(p.name.endswith(".tmp") for p in out.iterdir())
    log = json.loads((out / checkpoint.METRICS_JSON).read_text())
    assert (out / checkpoint.METRICS_CSV).read_text().count("\n") < len(log) + 1          # the csv was left short
    train.train(_cfg(), out, progress=False, resume=True)
    _assert_same_run(out, full)


SLOW = """
import json, sys, time, torch
from genphys.lm import train
torch.set_num_threads(1)
cfg = train.TrainConfig.from_dict(json.loads(sys.argv[1]))
train.preset = lambda scale, kind, **kw: cfg
real, calls = train._loss, [0]
def slow(model, x, y):
    calls[0] += 1
    if calls[0] == 3:
        print("running", flush=True)
    time.sleep(0.05)
    return real(model, x, y)
train._loss = slow
train.main(sys.argv[2:])
"""


def _start(cfg, argv):
    proc = subprocess.Popen([sys.executable, "-c", SLOW, json.dumps(cfg.to_dict()), *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.strip() == "running":
            return proc
    raise AssertionError(f"the run did not start: {proc.communicate()[1]}")


def test_ctrl_c_and_sigterm_checkpoint_and_say_how_to_resume_and_a_locked_folder_refuses(tmp_path, capsys):
    cfg = _cfg(steps=40, eval_every=100, checkpoint_every=100)
    out = tmp_path / "run"
    steps = []
    for signum, argv in [(signal.SIGINT, []), (signal.SIGTERM, ["--resume"])]:
        proc = _start(cfg, ["--out", str(out), *argv])
        if signum == signal.SIGTERM:             # a second run into the folder while this one writes to it
            t0 = time.perf_counter()
            with pytest.raises(files.FolderLocked, match=re.escape(f"{out} is in use")):
                train.train(cfg, out, progress=False, resume=True)
            with pytest.raises(SystemExit) as exit_:
                train.main(["--out", str(out), "--resume"])
            assert exit_.value.code == 1 and f"{out} is in use" in capsys.readouterr().err
            assert time.perf_counter() - t0 < 5
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signum
        step = checkpoint.read_checkpoint(out)["step"]
        assert "Traceback" not in err                   # above the last line: only the progress bar's redraws
        assert err.strip().splitlines()[-1] == (f"{signal.Signals(signum).name} at step {step} of 40: checkpoint "
                                                f"saved in {out}; resume with: python -m genphys.lm.train --out {out} --resume")
        assert not [p for p in out.iterdir() if p.name.endswith(".tmp") or p.name == files.LOCK_FILE]
        steps.append(step)
    assert 3 <= steps[0] < steps[1] < 40
    resumed = train.train(cfg, out, progress=False, resume=True)
    reference = train.train(cfg, None, progress=False, tokenizer=resumed["tokenizer"])
    assert _losses(resumed["history"]) == _losses(reference["history"])


def test_a_folder_with_a_run_is_not_overwritten_unless_asked(tmp_path, full):
    train.train(_cfg(), tmp_path, progress=False, stop_after=2, tokenizer=full["tokenizer"])
    with pytest.raises(checkpoint.RunError, match=re.escape(f"{tmp_path} already holds a run (config.json")):
        train.train(_cfg(), tmp_path, progress=False)
    train.train(_cfg(), tmp_path, progress=False, overwrite=True, tokenizer=full["tokenizer"])
    _assert_same_run(tmp_path, full)


def test_resume_refuses_other_settings_and_names_them(tmp_path, full, capsys):
    train.train(_cfg(), tmp_path, progress=False, stop_after=3, tokenizer=full["tokenizer"])
    with pytest.raises(checkpoint.RunError, match=r"seed: stored 3, requested 4; lr: stored 0.003, requested 0.01$"):
        train.train(_cfg(lr=1e-2, seed=4), tmp_path, progress=False, resume=True)
    with pytest.raises(checkpoint.RunError, match=r"steps: stored 8, requested 9 \(to train longer, add --extend-steps"):
        train.train(_cfg(steps=9), tmp_path, progress=False, resume=True)
    for argv, named in [(["--steps", "12"], "steps: stored 8, requested 12"), (["--lr", "0.01"], "lr: stored 0.003"),
                        (["--seed", "5"], "seed: stored 3, requested 5"), (["--model", "transformer"], "kind: stored"),
                        (["--data", "tinystories"], "data: stored 'stories', requested 'tinystories'"),
                        (["--scale", "tiny"], "model.d_model: stored 32, requested 64")]:
        with pytest.raises(SystemExit) as exit_:
            train.main(["--out", str(tmp_path), "--resume", *argv])
        err = capsys.readouterr().err
        assert exit_.value.code == 1 and named in err and err.count("\n") == 1, err
    assert checkpoint.read_checkpoint(tmp_path)["step"] == 3            # nothing was touched


def test_extend_steps_continues_on_the_longer_schedule(tmp_path, full):
    train.train(_cfg(), tmp_path, progress=False, tokenizer=full["tokenizer"])
    with pytest.raises(checkpoint.RunError, match="lengthens a run"):
        train.train(_cfg(steps=6), tmp_path, progress=False, resume=True, extend_steps=True)
    longer = _cfg(steps=12)
    res = train.train(longer, tmp_path, progress=False, resume=True, extend_steps=True, log=lambda line: None)
    rows = [r for r in res["history"] if "loss" in r]
    assert [r["step"] for r in rows] == list(range(1, 13)) and _losses(rows[:8]) == _losses(full["history"])
    assert [r["step"] for r in res["history"] if "event" in r] == [8]
    for r in rows[8:]:                          # the lr recorded after step s is the one step s + 1 will use
        assert r["lr"] == pytest.approx(train.lr_at(r["step"], longer), rel=1e-12)
    assert checkpoint.read_config(tmp_path)[0] == longer and checkpoint.read_checkpoint(tmp_path)["step"] == 12


def test_a_tinystories_run_that_fell_back_records_the_story_source(tmp_path, monkeypatch, full):
    real = data.source

    def offline(spec, *, log=print, **kw):
        def unreachable(split):
            raise ConnectionError("no network")
        return real(spec, loader=unreachable, log=log)
    monkeypatch.setattr(data, "source", offline)
    lines = []
    cfg = _cfg(data="tinystories")
    train.train(cfg, tmp_path, progress=False, stop_after=4, log=lines.append)
    assert checkpoint.read_config(tmp_path) == (cfg, "stories") and "TinyStories unavailable" in lines[0]
    assert checkpoint.read_checkpoint(tmp_path)["data_source"] == "stories"

    def online(spec, *, log=print, **kw):      # the hub answers now: the run must still continue on what it began with
        return real(spec, loader=lambda split: pytest.fail("the hub must not be asked"), log=log)
    monkeypatch.setattr(data, "source", online)
    res = train.train(cfg, tmp_path, progress=False, resume=True, log=lines.append)
    assert res["data_source"] == "stories" and "continues on it" in lines[-1]
    assert _losses(res["history"]) == _losses(full["history"])        # the same text as a run on the story source


def test_data_files_are_checked_before_training(tmp_path):
    good = "".join(f"{s}\n{stories.SEPARATOR}\n" for s in stories.sample(30, 1))
    cases = {"noseparator.txt": ("Once upon a time.\n\nThe end.\n".encode(), "holds no '<|endoftext|>' line"),
             "latin1.txt": (good.encode()[:100] + "caf\xe9\n".encode("latin-1") + good.encode()[100:],
                            "is not UTF-8 text: invalid byte at offset 103"),
             "few.txt": ("".join(f"Story {i}.\n{stories.SEPARATOR}\n" for i in range(5)).encode(),
                         "holds 5 stories; at least 20")}
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        out = tmp_path / f"run-{name}"
        with pytest.raises(ValueError, match=re.escape(message)) as err:
            train.train(_cfg(data=str(path)), out, progress=False)
        assert str(path) in str(err.value) and not checkpoint.has_run(out)


def test_nan_stops_the_run_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    cfg = _cfg()
    train.train(cfg, tmp_path, progress=False, stop_after=3)
    before = (tmp_path / train.CHECKPOINT).read_bytes()
    real = train._loss
    calls = {"n": 0}
    def poisoned(model, x, y):
        calls["n"] += 1
        loss = real(model, x, y)
        return loss * float("nan") if calls["n"] >= 2 else loss
    monkeypatch.setattr(train, "_loss", poisoned)
    with pytest.raises(train.NonFiniteLoss, match="nan at step 4"):
        train.train(cfg, tmp_path, progress=False, resume=True)
    assert (tmp_path / train.CHECKPOINT).read_bytes() == before
    assert not (tmp_path / files.LOCK_FILE).exists()


def test_schedule_warmup_and_cosine():
    cfg = _cfg(steps=100, warmup=10, lr=1.0, min_lr_ratio=0.1)
    assert train.lr_at(0, cfg) == pytest.approx(0.1) and train.lr_at(9, cfg) == pytest.approx(1.0)
    assert train.lr_at(55, cfg) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert train.lr_at(100, cfg) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="step must be an int >= 0"):
        train.lr_at(-1, cfg)


def test_preset_docstring_states_the_real_parameter_counts():
    stated = dict(re.findall(r"(tiny|cpu|gpu): .*?\(([\d.]+)M parameters", " ".join(train.preset.__doc__.split())))
    assert set(stated) == {"tiny", "cpu", "gpu"}
    for scale, millions in stated.items():
        counts = [models.count_params(k, train.preset(scale, k).model) for k in models.KINDS]
        decimals = len(millions.split(".")[1])
        assert all(round(c / 1e6, decimals) == float(millions) for c in counts), (scale, counts)


def test_clis_train_sample_evaluate(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train, "preset", lambda scale, kind, **kw: _cfg(kind=kind, **{k: v for k, v in kw.items()
                                                                                     if k in ("data", "seed")}))
    run = tmp_path / "run"
    train.main(["--model", "no_context", "--data", "stories", "--out", str(run)])
    texts = sample.main(["--run", str(run), "--n", "2", "--max-tokens", "20"])
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)
    text = tmp_path / "valid.txt"
    text.write_text("".join(f"{s}\n{stories.SEPARATOR}\n" for s in data.source("stories").validation(4)))
    res = evaluate.main(["--run", str(run), "--text", str(text)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"bits_per_byte={res['bits_per_byte']:.6f} accuracy={res['accuracy']:.6f}"


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "argument --steps: must be an int >= 1, got 0"),
    (["--steps", "-3"], "argument --steps: must be an int >= 1"),
    (["--lr", "0"], "argument --lr: must be a number > 0"),
    (["--lr", "nan"], "argument --lr: must be finite"),
    (["--lr", "inf"], "argument --lr: must be finite"),
    (["--seed", "-1"], "argument --seed: must be an int >= 0"),
    (["--seed", "2147483647"], "argument --seed: must be an int <= 2147483646"),
    (["--model", "lstm"], "argument --model: invalid choice"),
    (["--scale", "huge"], "argument --scale: invalid choice"),
    (["--precision", "fp8"], "argument --precision: invalid choice"),
    (["--extend-steps"], "--extend-steps goes with --resume and --steps"),
    (["--resume", "--overwrite"], "--resume and --overwrite exclude each other"),
])
def test_train_cli_refuses_bad_arguments(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        train.main(["--out", str(tmp_path / "run"), *argv])
    assert exit_.value.code == 2 and message in capsys.readouterr().err.strip().splitlines()[-1]
    assert not (tmp_path / "run").exists()


def test_train_cli_one_line_for_a_missing_run_or_bad_data(tmp_path, capsys):
    for argv, message in [(["--resume"], "nothing to resume in"), (["--data", str(tmp_path / "none.txt")],
                                                                    "data must be 'stories', 'tinystories'")]:
        with pytest.raises(SystemExit) as exit_:
            train.main(["--out", str(tmp_path / "run"), "--scale", "tiny", *argv])
        err = capsys.readouterr().err
        assert exit_.value.code == 1 and message in err and err.count("\n") == 1


def test_bad_arguments(tmp_path, full):
    cfg = _cfg()
    (tmp_path / "file").write_text("x")
    for kwargs, error, match in [
        (dict(cfg={"steps": 1}), TypeError, "cfg must be a TrainConfig"),
        (dict(resume=True), ValueError, "need out"),
        (dict(out=tmp_path / "r", resume=True, overwrite=True), ValueError, "exclude each other"),
        (dict(out=tmp_path / "file"), ValueError, "is a file"),
        (dict(out=3), TypeError, "out must be a folder path"),
        (dict(stop_after=0), ValueError, "stop_after must be an int >= 1"),
        (dict(resume=1, out=tmp_path / "r"), TypeError, "resume must be True or False"),
        (dict(tokenizer="gpt2"), TypeError, "tokenizer must be a genphys.lm.tokenizer.Tokenizer"),
        (dict(src="stories"), TypeError, "src must be a genphys.lm.data.Source"),
        (dict(validation="a story"), TypeError, "validation must be a non-empty list of strings"),
        (dict(validation=[]), TypeError, "validation must be a non-empty list of strings"),
    ]:
        with pytest.raises(error, match=match):
            train.train(**{"cfg": cfg, "out": None, "progress": False, **kwargs})
    with pytest.raises(ValueError, match="kind must be one of"):
        train.preset("tiny", "lstm")
    with pytest.raises(ValueError, match="unknown scale"):
        train.preset("huge")


# ---------------------------------------------------------------- precision, estimates, the gpu presets

@pytest.mark.parametrize("device_type, capability, requested, expected", [
    ("cuda", (8, 0), "auto", "bf16"),           # A100: bf16 tensor cores
    ("cuda", (9, 0), "auto", "bf16"),
    ("cuda", (7, 5), "auto", "fp16"),           # T4: bf16 only emulated
    ("cpu", None, "auto", "fp32"),
    ("cuda", (8, 0), "fp32", "fp32"),
    ("cuda", (7, 5), "fp32", "fp32"),
    ("cuda", (8, 0), "fp16", "fp16"),
    ("cpu", None, "fp16", "fp16"),
])
def test_precision_follows_the_card(device_type, capability, requested, expected):
    assert train.precision_for(device_type, capability, requested) == expected


@pytest.mark.parametrize("args, error, match", [
    (("cuda", (8, 0), "fp8"), ValueError, "requested must be one of 'auto', 'bf16', 'fp16', 'fp32'; got 'fp8'"),
    (("cuda", (7, 5), "bf16"), ValueError, "bf16 was requested on a CUDA card of compute capability 7.5"),
    (("cuda", None), TypeError, "capability must be a CUDA device's"),
    (("cuda", (8,)), TypeError, "capability must be a CUDA device's"),
    (("cuda", (8.0, 0)), TypeError, "capability must be a CUDA device's"),
    (("cpu", (8, 0)), ValueError, "capability is a CUDA device's"),
    ((3, None), TypeError, "device_type must be a str"),
])
def test_precision_refuses_bad_requests(args, error, match):
    with pytest.raises(error, match=re.escape(match)):
        train.precision_for(*args)


def test_choose_precision_reads_the_device_and_train_names_a_bad_precision():
    assert train.choose_precision("cpu") == train.choose_precision(torch.device("cpu")) == "fp32"
    assert train.choose_precision("cpu", "bf16") == "bf16"
    with pytest.raises(TypeError, match="device must be a torch.device or its name"):
        train.choose_precision(0)
    with pytest.raises(ValueError, match="precision must be one of"):
        train.train(_cfg(), None, progress=False, precision="half")


def test_an_fp16_run_checkpoints_its_gradient_scaler_and_resumes_bit_for_bit(tmp_path, full):
    reference = train.train(_cfg(), None, progress=False, tokenizer=full["tokenizer"], precision="fp16")
    assert reference["precision"] == "fp16" and _losses(reference["history"]) != _losses(full["history"])
    train.train(_cfg(), tmp_path, progress=False, tokenizer=full["tokenizer"], precision="fp16", stop_after=4)
    stored = checkpoint.read_checkpoint(tmp_path)
    assert stored["precision"] == "fp16" and stored["scaler"]["scale"] > 0
    resumed = train.train(_cfg(), tmp_path, progress=False, resume=True, precision="fp16")
    assert _losses(resumed["history"]) == _losses(reference["history"])
    _assert_same_run(tmp_path, reference)


def test_a_resumed_fp16_run_loads_the_stored_scale(tmp_path, full):
    train.train(_cfg(), tmp_path, progress=False, tokenizer=full["tokenizer"], precision="fp16", stop_after=3)
    ckpt = checkpoint.read_checkpoint(tmp_path)
    fresh = torch.amp.GradScaler("cpu").get_scale()
    ckpt["scaler"]["scale"] = fresh / 2**10                    # a scale no fresh scaler would hold after 3 steps
    checkpoint.save_checkpoint(tmp_path, {**ckpt, "config": ckpt["config"].to_dict()})
    train.train(_cfg(), tmp_path, progress=False, resume=True, precision="fp16", stop_after=4)
    assert checkpoint.read_checkpoint(tmp_path)["scaler"]["scale"] <= fresh / 2**10   # kept, or lowered on overflow


def test_a_run_that_changes_precision_on_resume_says_so(tmp_path, full):
    train.train(_cfg(), tmp_path, progress=False, tokenizer=full["tokenizer"], stop_after=3)
    assert checkpoint.read_checkpoint(tmp_path)["precision"] == "fp32"
    lines = []
    res = train.train(_cfg(), tmp_path, progress=False, resume=True, precision="bf16", log=lines.append)
    assert [r["event"] for r in res["history"] if "event" in r] == ["precision fp32 -> bf16"]
    assert lines == [f"{tmp_path} trained in fp32 so far; it continues in bf16 on this device"]


ESTIMATE = re.compile(r"^(\w+): about ([\d.]+) min for the remaining (\d+) steps at the current ([\d,]+) tokens/s$")


@pytest.mark.parametrize("steps", [14, 3])
def test_progress_prints_one_estimate_from_the_steps_after_the_first(steps, full):
    cfg, lines = _cfg(steps=steps, eval_every=100), []
    res = train.train(cfg, None, progress=True, tokenizer=full["tokenizer"], log=lines.append)
    found = [ESTIMATE.match(line) for line in lines]
    assert len([m for m in found if m]) == 1
    kind, minutes, remaining, rate = next(m for m in found if m).groups()
    timed = min(train.ESTIMATE_AFTER, steps - 1)
    assert kind == cfg.kind and int(remaining) == steps - timed
    measured = [r["tokens_per_s"] for r in res["history"] if "loss" in r][1:timed]      # the first step left out
    expected_rate = len(measured) / sum(1 / t for t in measured)
    assert int(rate.replace(",", "")) == round(expected_rate)
    tokens = cfg.batch_size * cfg.seq_len
    assert float(minutes) == pytest.approx(int(remaining) * tokens / expected_rate / 60, abs=0.051)


def test_no_estimate_without_progress_or_from_a_single_timed_step(full):
    for steps, progress in [(14, False), (2, True)]:
        lines = []
        train.train(_cfg(steps=steps), None, progress=progress, tokenizer=full["tokenizer"], log=lines.append)
        assert not any(ESTIMATE.match(line) for line in lines)


def test_flops_per_token_times_tokens_is_the_training_flops_and_refuses_bad_input():
    for kind in ("dissipative", "transformer"):
        cfg = train.preset("tiny", kind)
        assert train.flops_per_token(kind, cfg.model, cfg.seq_len) * cfg.tokens == train.training_flops(cfg)
    cfg = train.preset("tiny", "transformer")
    longer = train.flops_per_token("transformer", cfg.model, 2 * cfg.seq_len)
    assert longer - train.flops_per_token("transformer", cfg.model, cfg.seq_len) == \
        6 * cfg.model.n_layers * cfg.seq_len * cfg.model.d_model           # attention grows with the context
    with pytest.raises(ValueError, match="seq_len"):
        train.flops_per_token("transformer", cfg.model, 0)
    with pytest.raises(TypeError, match="model"):
        train.flops_per_token("transformer", {"d_model": 8}, 16)


def test_training_flops_count_six_n_d_plus_softmax_attention():
    for kind in models.KINDS:
        cfg = train.preset("tiny", kind, steps=7)
        params = models.build_model(kind, cfg.model).num_params()
        attention = 6 * cfg.model.n_layers * cfg.seq_len * cfg.model.d_model if kind not in models.RECURRENT else 0
        assert train.training_flops(cfg) == (6 * params + attention) * 7 * cfg.batch_size * cfg.seq_len


def test_estimated_time_follows_the_flops_the_card_and_its_precision():
    cfg = train.preset("gpu", "dissipative")
    for name, card in train.CARDS.items():
        precision = train.precision_for("cuda", card.capability)
        assert set(card.peak_flops) == {precision}                          # the peak at the precision it trains in
        seconds = train.estimated_seconds(cfg, name)
        assert train.estimated_seconds(dataclasses.replace(cfg, steps=2 * cfg.steps), name) == pytest.approx(2 * seconds)
        assert seconds * card.peak_flops[precision] * train.ASSUMED_MFU["recurrent"] == pytest.approx(
            train.training_flops(cfg))
    assert train.estimated_seconds(cfg, "A100") < train.estimated_seconds(cfg, "L4") < train.estimated_seconds(cfg, "T4")
    assert all(0 < mfu < 1 for mfu in train.ASSUMED_MFU.values())
    with pytest.raises(ValueError, match="card must be one of 'T4', 'L4', 'A100'; got 'V100'"):
        train.estimated_seconds(cfg, "V100")
    with pytest.raises(TypeError, match="cfg must be a TrainConfig"):
        train.estimated_seconds(cfg.to_dict(), "T4")


def test_kinds_to_train():
    assert set(train.GPU_DEFAULT_KINDS) <= set(models.KINDS)
    assert train.kinds_to_train(scale="gpu") == train.GPU_DEFAULT_KINDS
    assert set(train.LIVE_KINDS) <= set(models.KINDS)
    assert train.kinds_to_train(scale="tiny") == train.kinds_to_train(scale="cpu") == train.LIVE_KINDS
    assert train.kinds_to_train(["transformer", "hamiltonian"]) == ("transformer", "hamiltonian")
    assert train.kinds_to_train("selective") == ("selective",)
    for requested, error, match in [(["dissipative", "lstm"], ValueError, "unknown family 'lstm'"),
                                    ([], ValueError, "at least one family"),
                                    (["selective", "selective"], ValueError, "a family twice"),
                                    (3, TypeError, "requested must be a family name or a list"),
                                    ([None], TypeError, "requested must be a family name or a list")]:
        with pytest.raises(error, match=match):
            train.kinds_to_train(requested)
    with pytest.raises(ValueError, match="unknown scale"):
        train.kinds_to_train(scale="huge")


def test_the_chapter_can_switch_torch_compile_on():
    assert train.preset("gpu", "transformer", compile=True).compile is True
    assert train.preset("gpu", "transformer").compile is False


@pytest.mark.parametrize("kind", models.KINDS)
def test_every_gpu_configuration_takes_an_optimiser_step_at_gpu_shapes_on_cpu(kind):
    """The gpu preset's model, full row length and vocabulary: two rows of random ids, one AdamW step."""
    cfg = train.preset("gpu", kind)
    model = models.build_model(kind, cfg.model)
    device = torch.device("cpu")
    precision = train.choose_precision(device)
    rows = torch.randint(0, cfg.model.vocab_size, (2, cfg.seq_len + 1), generator=torch.Generator().manual_seed(0))
    opt = train._optimizer(model, cfg)
    before = [p.detach().clone() for p in model.parameters()]
    with train._autocast(device, precision):
        loss = train._loss(model, rows[:, :-1], rows[:, 1:])
    grad_norm = train._apply_gradients(loss, model, opt, train._grad_scaler(device, precision), cfg.clip)
    assert math.isfinite(loss.item()) and math.isfinite(grad_norm) and grad_norm > 0
    assert abs(loss.item() - math.log(cfg.model.vocab_size)) < 1     # near uniform at initialisation
    assert all(not torch.equal(a, p) for a, p in zip(before, model.parameters()) if p.grad is not None)


def test_the_shorter_gpu_run_of_chapter_4_is_the_gpu_model_on_a_valid_schedule():
    cfg = train.preset("gpu", "dissipative", steps=2000)
    assert cfg == dataclasses.replace(train.preset("gpu", "dissipative"), steps=2000)   # shapes tested above
    assert cfg.warmup < cfg.steps and cfg.eval_every <= cfg.steps and cfg.checkpoint_every <= cfg.steps
    assert train.lr_at(cfg.steps, cfg) == pytest.approx(cfg.lr * cfg.min_lr_ratio)


def test_resume_of_a_partial_run_whose_config_lacks_fields_is_refused_not_restarted(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"kind": "dissipative"}), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:                          # trained from scratch with defaults before
        train.main(["--out", str(out), "--resume"])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and err.count("\n") == 1
    assert f"{out / 'config.json'} is corrupt: TrainConfig fields missing: model, data, seed" in err
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]    # nothing trained, nothing written


def test_a_full_disk_is_one_line_and_leaves_the_run_as_it_was(tmp_path, capsys, monkeypatch):
    import errno
    monkeypatch.setattr(train, "preset", lambda scale, kind, **kw: _cfg(kind=kind, **{k: v for k, v in kw.items()
                                                                                     if k in ("data", "seed")}))
    out = tmp_path / "run"
    train.main(["--out", str(out)])                                  # a finished run of 8 steps: its files must survive
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = os.fsync

    def no_space_for_checkpoints(fd):                                # the disk fills while the checkpoint is written
        if "checkpoint.pt" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)
    monkeypatch.setattr(files.os, "fsync", no_space_for_checkpoints)
    with pytest.raises(SystemExit) as exit_:                          # a raw OSError traceback before
        train.main(["--out", str(out), "--resume", "--extend-steps", "--steps", "12"])
    monkeypatch.setattr(files.os, "fsync", real)
    err = capsys.readouterr().err.split("\r")[-1]                    # after the progress bar's redraws
    assert exit_.value.code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err == (f"python -m genphys.lm.train: error: the disk is full (no space left on the device): "
                   f"{out / 'checkpoint.pt'} was not written; its previous version is intact\n")
    assert checkpoint.read_checkpoint(out)["step"] == 8               # the last good checkpoint still loads
    assert before["checkpoint.pt"] == (out / "checkpoint.pt").read_bytes()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp") or p.name == files.LOCK_FILE]


def test_ctrl_c_while_setting_up_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train, "preset", lambda scale, kind, **kw: _cfg(kind=kind, **{k: v for k, v in kw.items()
                                                                                     if k in ("data", "seed")}))

    def interrupted(cfg, src):
        raise KeyboardInterrupt
    monkeypatch.setattr(train, "make_tokenizer", interrupted)        # Ctrl-C while the tokenizer trains
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_:
        train.main(["--out", str(out)])
    err = capsys.readouterr().err
    assert exit_.value.code == 130 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"python -m genphys.lm.train: interrupted (Ctrl-C) before training started in {out}: "
                          f"no checkpoint yet; start it again with: python -m genphys.lm.train --out {out} --resume")
    assert not (out / files.LOCK_FILE).exists()


def test_ctrl_c_while_the_libraries_load_is_one_line(tmp_path):
    """SIGINT a fraction of a second after start, while torch imports: one line, exit 130, nothing written."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "genphys.lm.train", "--out", str(tmp_path / "run")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(0.6)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("python -m genphys.lm.train: interrupted")
    if "while starting" in err:                                       # the usual case: torch was still loading
        assert not (tmp_path / "run").exists()
