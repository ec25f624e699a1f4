"""genphys.lm.checkpoint: a validated TrainConfig, run files, and load_run refusing damaged or mismatched runs."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from genphys import stories
from genphys.lm import checkpoint, tokenizer, train
from genphys.lm.models import ModelConfig

torch.set_num_threads(1)

MODEL = ModelConfig(vocab_size=300, d_model=32, n_layers=2, n_modes=16, n_heads=2, d_feature=4, chunk=16)
BASE = dict(model=MODEL, kind="dissipative", data="stories", seed=3, seq_len=32, batch_size=4, steps=4,
            lr=3e-3, warmup=2, eval_every=4, eval_stories=4, checkpoint_every=2, tokenizer_stories=60)


def _cfg(**kw):
    return checkpoint.TrainConfig(**{**BASE, **kw})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    train.train(_cfg(), out, progress=False)
    return out


@pytest.mark.parametrize("field, value, error, match", [
    ("kind", "lstm", ValueError, "TrainConfig.kind must be one of"),
    ("kind", 3, ValueError, "TrainConfig.kind"),
    ("model", {"vocab_size": 300}, TypeError, "TrainConfig.model must be a ModelConfig"),
    ("data", "", ValueError, "TrainConfig.data must not be empty"),
    ("data", None, TypeError, "TrainConfig.data must be a str"),
    ("data", "a\nb", ValueError, "TrainConfig.data"),
    ("seed", -1, ValueError, "TrainConfig.seed must be an int >= 0"),
    ("seed", 2**31 - 1, ValueError, "TrainConfig.seed must be an int <"),
    ("seed", 1.0, TypeError, "TrainConfig.seed must be an int"),
    ("seed", True, TypeError, "TrainConfig.seed"),
    ("steps", 0, ValueError, "TrainConfig.steps must be an int >= 1"),
    ("seq_len", -5, ValueError, "TrainConfig.seq_len"),
    ("batch_size", 2.5, TypeError, "TrainConfig.batch_size"),
    ("eval_every", 0, ValueError, "TrainConfig.eval_every"),
    ("eval_stories", 0, ValueError, "TrainConfig.eval_stories"),
    ("checkpoint_every", 0, ValueError, "TrainConfig.checkpoint_every"),
    ("tokenizer_stories", 0, ValueError, "TrainConfig.tokenizer_stories"),
    ("warmup", -1, ValueError, "TrainConfig.warmup must be an int >= 0"),
    ("lr", 0.0, ValueError, "TrainConfig.lr must be a number > 0"),
    ("lr", float("nan"), ValueError, "TrainConfig.lr must be finite"),
    ("lr", float("inf"), ValueError, "TrainConfig.lr must be finite"),
    ("lr", "0.1", TypeError, "TrainConfig.lr must be a real number"),
    ("min_lr_ratio", -0.1, ValueError, "TrainConfig.min_lr_ratio must be a number >= 0"),
    ("min_lr_ratio", 1.5, ValueError, "TrainConfig.min_lr_ratio must be a number <= 1"),
    ("min_lr_ratio", float("nan"), ValueError, "TrainConfig.min_lr_ratio must be finite"),
    ("weight_decay", -1e-3, ValueError, "TrainConfig.weight_decay must be a number >= 0"),
    ("weight_decay", float("inf"), ValueError, "TrainConfig.weight_decay must be finite"),
    ("clip", 0.0, ValueError, "TrainConfig.clip must be a number > 0"),
    ("clip", float("nan"), ValueError, "TrainConfig.clip must be finite"),
    ("compile", 1, TypeError, "TrainConfig.compile must be True or False"),
])
def test_every_field_is_checked(field, value, error, match):
    with pytest.raises(error, match=match):
        _cfg(**{field: value})


def test_numpy_values_become_plain_python():
    cfg = _cfg(seed=np.int64(5), steps=np.int32(7), lr=np.float32(0.5), clip=np.float64(2.0), compile=np.bool_(False))
    d = cfg.to_dict()
    assert (d["seed"], d["steps"], d["lr"], d["clip"]) == (5, 7, 0.5, 2.0)
    assert [type(d[k]) for k in ("seed", "steps", "lr", "compile")] == [int, int, float, bool]
    assert json.loads(json.dumps(d)) == d and checkpoint.TrainConfig.from_dict(d) == cfg


def test_from_dict_refuses_unknown_fields():
    d = _cfg().to_dict()
    with pytest.raises(ValueError, match="unknown TrainConfig fields: stepz"):
        checkpoint.TrainConfig.from_dict({**d, "stepz": 3})
    with pytest.raises(ValueError, match="unknown ModelConfig fields: layers"):
        checkpoint.TrainConfig.from_dict({**d, "model": {**d["model"], "layers": 2}})
    with pytest.raises(TypeError, match="must be a dict"):
        checkpoint.TrainConfig.from_dict([("steps", 3)])


def test_differences_name_every_changed_field():
    a, b = _cfg(), _cfg(steps=9, lr=1e-2, model=dataclasses.replace(MODEL, d_model=64))
    assert checkpoint.differences(a, a) == []
    assert checkpoint.differences(a, b) == ["steps: stored 4, requested 9", "lr: stored 0.003, requested 0.01",
                                            "model.d_model: stored 32, requested 64"]


def test_run_files_and_load_run(run):
    assert all((run / name).is_file() for name in checkpoint.RUN_FILES) and checkpoint.has_run(run)
    cfg, source = checkpoint.read_config(run)
    assert cfg == _cfg() and source == "stories"
    model, tok, loaded_cfg = checkpoint.load_run(run)
    assert loaded_cfg == cfg and not model.training and tok.vocab_size == MODEL.vocab_size
    ckpt = checkpoint.read_checkpoint(run)
    assert ckpt["step"] == cfg.steps and ckpt["data_source"] == "stories"
    for a, b in zip(model.state_dict().values(), ckpt["model"].values()):
        assert torch.equal(a.cpu(), b)
    log = json.loads((run / checkpoint.METRICS_JSON).read_text(), parse_constant=pytest.fail)   # strict JSON
    assert [r["step"] for r in log if "loss" in r] == list(range(1, cfg.steps + 1))


def _copy(run, tmp_path):
    out = tmp_path / "copy"
    out.mkdir()
    for name in checkpoint.RUN_FILES:
        (out / name).write_bytes((run / name).read_bytes())
    return out


def test_corrupt_files_are_one_line_naming_the_file(run, tmp_path):
    out = _copy(run, tmp_path)
    good = (out / checkpoint.CHECKPOINT).read_bytes()
    (out / checkpoint.CHECKPOINT).write_bytes(good[: len(good) // 2])
    with pytest.raises(checkpoint.RunError, match=f"{out / checkpoint.CHECKPOINT} is corrupt") as err:
        checkpoint.load_run(out)
    assert "\n" not in str(err.value)
    torch.save({"model": {}}, out / checkpoint.CHECKPOINT)
    with pytest.raises(checkpoint.RunError, match="not a checkpoint of genphys.lm.train"):
        checkpoint.load_run(out)
    (out / checkpoint.CHECKPOINT).write_bytes(good)
    (out / tokenizer.FILE).write_text('{"version": "1.0", "model": ', encoding="utf-8")
    with pytest.raises(checkpoint.RunError, match=f"{out / tokenizer.FILE} is corrupt") as err:
        checkpoint.load_run(out)
    assert "\n" not in str(err.value)
    (out / tokenizer.FILE).write_bytes(b"\xff\xfe")
    with pytest.raises(checkpoint.RunError, match="cannot be read"):
        checkpoint.load_run(out)
    (out / checkpoint.CONFIG_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(checkpoint.RunError, match=f"{out / checkpoint.CONFIG_FILE} is corrupt"):
        checkpoint.read_config(out)


def test_tokenizer_and_model_must_agree(run, tmp_path):
    out = _copy(run, tmp_path)
    tokenizer.train(stories.sample(60, 9), 290).save(out)
    with pytest.raises(checkpoint.RunError, match="has 290 tokens but the model .* has 300"):
        checkpoint.load_run(out)
    tokenizer.train(stories.sample(60, 9), 300).save(out)        # same size, other merges
    with pytest.raises(checkpoint.RunError, match="not the tokenizer the model .* was trained with"):
        checkpoint.load_run(out)


def test_weights_that_do_not_fit_the_config_are_refused(run, tmp_path):
    out = _copy(run, tmp_path)
    ckpt = torch.load(out / checkpoint.CHECKPOINT, weights_only=False)
    ckpt["config"]["model"]["d_model"] = 64
    torch.save(ckpt, out / checkpoint.CHECKPOINT)
    with pytest.raises(checkpoint.RunError, match="do not fit its dissipative configuration"):
        checkpoint.load_run(out)


def test_missing_folders_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        checkpoint.load_run(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match=f"no checkpoint.pt in {tmp_path}"):
        checkpoint.load_run(tmp_path)
    with pytest.raises(FileNotFoundError, match="no config.json"):
        checkpoint.read_config(tmp_path)
    with pytest.raises(TypeError, match="folder must be a folder path"):
        checkpoint.load_run(3)
    with pytest.raises(ValueError, match="payload lacks"):
        checkpoint.save_checkpoint(tmp_path, {"model": {}})
    assert not checkpoint.has_run(tmp_path)


def test_a_checkpoint_with_a_nan_weight_is_refused_in_one_line_naming_the_weight(run, tmp_path):
    out = _copy(run, tmp_path)
    ckpt = torch.load(out / checkpoint.CHECKPOINT, weights_only=False)
    name = next(k for k, v in ckpt["model"].items() if v.is_floating_point() and v.numel() > 3)
    ckpt["model"][name].view(-1)[2] = float("nan")
    torch.save(ckpt, out / checkpoint.CHECKPOINT)
    for call in (checkpoint.load_run, checkpoint.read_checkpoint):
        with pytest.raises(checkpoint.RunError, match=rf"holds non-finite weights: 1 NaN or infinite entries in {name}") as err:
            call(out)
        assert "\n" not in str(err.value) and str(out / checkpoint.CHECKPOINT) in str(err.value)


def test_a_stored_configuration_missing_fields_is_refused_naming_them(run, tmp_path):
    with pytest.raises(ValueError, match="TrainConfig fields missing: model, kind, data, seed"):
        checkpoint.TrainConfig.from_dict({})                         # returned every default before
    d = _cfg().to_dict()
    del d["lr"], d["model"]["n_modes"]
    with pytest.raises(ValueError, match="TrainConfig fields missing: lr"):
        checkpoint.TrainConfig.from_dict(d)
    d = _cfg().to_dict()
    del d["model"]["n_modes"]
    with pytest.raises(ValueError, match="ModelConfig fields missing: model.n_modes"):
        checkpoint.TrainConfig.from_dict(d)
    out = _copy(run, tmp_path)                                       # a config.json holding only the kind
    (out / checkpoint.CONFIG_FILE).write_text(json.dumps({"kind": "dissipative"}), encoding="utf-8")
    with pytest.raises(checkpoint.RunError, match=f"{out / checkpoint.CONFIG_FILE} is corrupt: TrainConfig fields missing"):
        checkpoint.read_config(out)
    (out / checkpoint.CONFIG_FILE).write_text(json.dumps({"config": {"kind": "dissipative"}, "data_source": "stories"}))
    with pytest.raises(checkpoint.RunError, match="TrainConfig fields missing: model, data, seed"):
        checkpoint.read_config(out)
    # what fresh runs write (and every checkpoint holds) still loads, to the same configuration
    assert checkpoint.read_config(run) == (_cfg(), "stories")
    assert checkpoint.read_checkpoint(run)["config"] == _cfg()
