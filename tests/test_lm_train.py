"""genphys.lm.train: exact resume, NaN stop, checkpoints, logs, schedule; the CLIs end to end."""

import json
import math

import pytest
import torch

from genphys import stories
from genphys.lm import data, evaluate, sample, train
from genphys.lm.models import ModelConfig

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker

MODEL = ModelConfig(vocab_size=300, d_model=32, n_layers=2, n_modes=16, n_heads=2, d_feature=4, chunk=16)


def _cfg(**kw):
    base = dict(model=MODEL, kind="dissipative", data="stories", seed=3, seq_len=32, batch_size=4, steps=8,
                lr=3e-3, warmup=2, eval_every=4, eval_stories=6, checkpoint_every=3, tokenizer_stories=100)
    return train.TrainConfig(**{**base, **kw})


def _losses(history):
    return [r["loss"] for r in history if "loss" in r]


@pytest.mark.parametrize("kind", ["dissipative", "transformer"])
def test_interrupted_and_resumed_run_is_bit_for_bit(kind, tmp_path):
    cfg = _cfg(kind=kind)
    full = train.train(cfg, tmp_path / "full", progress=False)
    train.train(cfg, tmp_path / "cut", progress=False, stop_after=5)
    resumed = train.train(cfg, tmp_path / "cut", progress=False, resume=True)
    assert _losses(resumed["history"]) == _losses(full["history"])       # exact equality, not a tolerance
    for a, b in zip(full["model"].state_dict().values(), resumed["model"].state_dict().values()):
        assert torch.equal(a, b)
    log = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert [r["loss"] for r in log if "loss" in r] == _losses(full["history"])
    assert (tmp_path / "cut" / "metrics.csv").read_text().count("\n") == len(log) + 1


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


def test_schedule_warmup_and_cosine():
    cfg = _cfg(steps=100, warmup=10, lr=1.0, min_lr_ratio=0.1)
    assert train.lr_at(0, cfg) == pytest.approx(0.1) and train.lr_at(9, cfg) == pytest.approx(1.0)
    assert train.lr_at(55, cfg) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert train.lr_at(100, cfg) == pytest.approx(0.1)


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


def test_bad_config():
    with pytest.raises(ValueError, match="kind"):
        _cfg(kind="lstm")
    with pytest.raises(ValueError, match="steps"):
        _cfg(steps=0)
    with pytest.raises(TypeError, match="TrainConfig"):
        train.train({"steps": 1})
