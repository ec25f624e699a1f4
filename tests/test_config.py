from pathlib import Path

import numpy as np
import pytest
import torch

from genphys import config


@pytest.fixture
def fresh_scale(monkeypatch):
    """Make config.scale() read the environment again, before and after the test."""
    config.scale.cache_clear()
    yield monkeypatch
    config.scale.cache_clear()


@pytest.mark.parametrize("name", ["tiny", "cpu", "gpu", " GPU ", "Tiny"])
def test_validate_scale_accepts_the_three_scales(name):
    assert config.validate_scale(name) == name.strip().lower()


@pytest.mark.parametrize("name", ["huge", "", "cuda", "tiny2"])
def test_unknown_scale_names_the_allowed_values(name):
    with pytest.raises(ValueError, match="tiny, cpu, gpu"):
        config.validate_scale(name)


def test_scale_must_be_a_string():
    with pytest.raises(TypeError, match="scale must be a string"):
        config.validate_scale(3)


def test_scale_reads_the_environment(fresh_scale):
    fresh_scale.setenv("GENPHYS_SCALE", "tiny")
    assert config.scale() == "tiny"


def test_scale_is_read_once(fresh_scale):
    fresh_scale.setenv("GENPHYS_SCALE", "tiny")
    assert config.scale() == "tiny"
    fresh_scale.setenv("GENPHYS_SCALE", "gpu")
    assert config.scale() == "tiny"


def test_unknown_scale_in_the_environment_raises(fresh_scale):
    fresh_scale.setenv("GENPHYS_SCALE", "enormous")
    with pytest.raises(ValueError, match="GENPHYS_SCALE must be one of tiny, cpu, gpu"):
        config.scale()


@pytest.mark.parametrize("cuda, expected", [(False, "cpu"), (True, "gpu")])
def test_default_scale_follows_cuda(fresh_scale, cuda, expected):
    fresh_scale.delenv("GENPHYS_SCALE", raising=False)
    fresh_scale.setattr(config, "cuda_available", lambda: cuda)
    assert config.scale() == expected


def test_by_scale_picks_the_current_scale(fresh_scale):
    for name in config.SCALES:
        fresh_scale.setenv("GENPHYS_SCALE", name)
        config.scale.cache_clear()
        assert config.by_scale(tiny=1, cpu=2, gpu=3) == {"tiny": 1, "cpu": 2, "gpu": 3}[name]


def test_runs_folder_defaults_to_runs_in_the_working_folder(monkeypatch):
    monkeypatch.delenv("GENPHYS_RUNS", raising=False)
    assert config.runs_folder() == Path("runs") and not config.runs_folder().is_absolute()


def test_runs_folder_reads_the_environment_at_every_call(monkeypatch, tmp_path):
    for name in ("drive", "other"):               # e.g. a Colab cell points it at Drive after import genphys
        monkeypatch.setenv("GENPHYS_RUNS", str(tmp_path / name))
        assert config.runs_folder() == tmp_path / name
    monkeypatch.delenv("GENPHYS_RUNS")
    assert config.runs_folder() == Path("runs")


def test_runs_folder_expands_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GENPHYS_RUNS", "~/MyDrive/runs")
    assert config.runs_folder() == tmp_path / "MyDrive" / "runs"


@pytest.mark.parametrize("value", ["", "   "])
@pytest.mark.parametrize("var, read", [("GENPHYS_RUNS", config.runs_folder),
                                       ("GENPHYS_ARTIFACTS", config.artifacts_folder)])
def test_a_blank_folder_variable_is_refused(monkeypatch, value, var, read):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=f"{var} must name a folder"):
        read()


def test_artifacts_folder_is_unset_by_default_and_read_at_every_call(monkeypatch, tmp_path):
    monkeypatch.delenv("GENPHYS_ARTIFACTS", raising=False)
    assert config.artifacts_folder() is None
    monkeypatch.setenv("GENPHYS_ARTIFACTS", str(tmp_path / "results"))
    assert config.artifacts_folder() == tmp_path / "results"
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GENPHYS_ARTIFACTS", "~/book/_artifacts")
    assert config.artifacts_folder() == tmp_path / "book" / "_artifacts"


def test_device_matches_torch():
    assert config.device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_seed_everything_reproduces_numpy_and_torch_draws():
    config.seed_everything(1234)
    first = (np.random.rand(5), torch.rand(5))
    config.seed_everything(1234)
    second = (np.random.rand(5), torch.rand(5))
    np.testing.assert_array_equal(first[0], second[0])
    assert torch.equal(first[1], second[1])
    config.seed_everything(1235)
    assert not torch.equal(first[1], torch.rand(5))


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), (True, TypeError)])
def test_seed_everything_rejects_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        config.seed_everything(seed)
