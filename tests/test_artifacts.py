import json
import warnings

import numpy as np
import pytest

from genphys import artifacts
from genphys.artifacts import ArtifactError, ArtifactMissing, ArtifactWarning

CONFIG = {"model": "dissipative", "layers": 2, "lr": 3e-4, "seeds": (0, 1, 2)}


def produce():
    return {"curve": np.linspace(0.0, 1.0, 5), "bpb": np.float64(1.25), "samples": ["Once upon a time"]}


def test_round_trip_keeps_result_and_records_provenance(tmp_path):
    saved = artifacts.load_or_run("demo", CONFIG, produce, save=True, root=tmp_path, extra={"tokens_seen": 1000})
    assert not saved.loaded
    loaded = artifacts.load_or_run("demo", CONFIG, lambda: pytest.fail("must not recompute"), root=tmp_path)
    assert loaded.loaded
    assert loaded.result == saved.result == {"curve": [0.0, 0.25, 0.5, 0.75, 1.0], "bpb": 1.25,
                                             "samples": ["Once upon a time"]}
    prov = loaded.provenance
    for key in ("git_commit", "scale", "device", "wall_time_s", "versions", "date", "sha256", "config"):
        assert key in prov
    assert prov["config"] == artifacts.canonical(CONFIG)
    assert prov["tokens_seen"] == 1000
    assert prov["versions"]["numpy"] == np.__version__


def test_missing_artifact_is_computed_quietly(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        art = artifacts.load_or_run("absent", CONFIG, produce, root=tmp_path)
    assert not art.loaded and art.result["bpb"] == 1.25
    assert not (tmp_path / "absent").exists()
    with pytest.raises(ArtifactMissing, match="not found"):
        artifacts.load("absent", CONFIG, root=tmp_path)


def test_mismatched_config_is_named_and_not_used(tmp_path):
    artifacts.load_or_run("demo", CONFIG, produce, save=True, root=tmp_path)
    other = dict(CONFIG, lr=1e-3)
    with pytest.raises(ArtifactError, match=r"another configuration: lr: stored 0.0003, requested 0.001"):
        artifacts.load("demo", other, root=tmp_path)
    with pytest.warns(ArtifactWarning, match="lr: stored"):
        art = artifacts.load_or_run("demo", other, lambda: {"bpb": 2.0}, root=tmp_path)
    assert art.result == {"bpb": 2.0} and not art.loaded


def test_missing_and_extra_config_keys_are_reported(tmp_path):
    artifacts.store("demo", {"a": 1}, [1, 2], wall_time_s=0.0, root=tmp_path)
    with pytest.raises(ArtifactError, match="b: absent in the stored artifact"):
        artifacts.load("demo", {"a": 1, "b": 2}, root=tmp_path)
    with pytest.raises(ArtifactError, match="a: stored 1, absent in the request"):
        artifacts.load("demo", {}, root=tmp_path)


def test_corrupt_json_is_reported_and_recomputed(tmp_path):
    artifacts.store("demo", CONFIG, {"x": 1}, wall_time_s=0.0, root=tmp_path)
    (tmp_path / "demo" / artifacts.RESULT_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ArtifactError, match="corrupt"):
        artifacts.load("demo", CONFIG, root=tmp_path)
    with pytest.warns(ArtifactWarning, match="corrupt"):
        assert artifacts.load_or_run("demo", CONFIG, lambda: {"x": 2}, root=tmp_path).result == {"x": 2}


def test_edited_result_fails_its_checksum(tmp_path):
    artifacts.store("demo", CONFIG, {"bpb": 1.25}, wall_time_s=0.0, root=tmp_path)
    path = tmp_path / "demo" / artifacts.RESULT_FILE
    path.write_text(json.dumps({"bpb": 0.5}), encoding="utf-8")
    with pytest.raises(ArtifactError, match="SHA-256"):
        artifacts.load("demo", CONFIG, root=tmp_path)


def test_provenance_without_config_is_corrupt(tmp_path):
    artifacts.store("demo", CONFIG, {"bpb": 1.25}, wall_time_s=0.0, root=tmp_path)
    (tmp_path / "demo" / artifacts.PROVENANCE_FILE).write_text("{}", encoding="utf-8")
    with pytest.raises(ArtifactError, match="lacks config or sha256"):
        artifacts.load("demo", CONFIG, root=tmp_path)


def test_rerun_ignores_a_valid_artifact(tmp_path):
    artifacts.store("demo", CONFIG, {"bpb": 1.25}, wall_time_s=0.0, root=tmp_path)
    art = artifacts.load_or_run("demo", CONFIG, lambda: {"bpb": 1.0}, rerun=True, root=tmp_path)
    assert art.result == {"bpb": 1.0} and not art.loaded


@pytest.mark.parametrize("name", ["../escape", "Upper", "", "a/b", 3])
def test_bad_names_are_rejected(tmp_path, name):
    with pytest.raises(ValueError, match="artifact name"):
        artifacts.load_or_run(name, CONFIG, produce, root=tmp_path)


def test_unstorable_values_are_a_clear_type_error(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object"):
        artifacts.store("demo", CONFIG, {"x": object()}, wall_time_s=0.0, root=tmp_path)


def test_find_root_walks_up_to_the_book_repository(tmp_path, monkeypatch):
    monkeypatch.delenv("GENPHYS_ARTIFACTS", raising=False)
    (tmp_path / "_toc.yml").write_text("root: book/index\n", encoding="utf-8")
    nested = tmp_path / "book" / "chapter"
    nested.mkdir(parents=True)
    assert artifacts.find_root(nested) == tmp_path / "book" / "_artifacts"
    folder, how = artifacts.locate(start=nested)
    assert folder == tmp_path / "book" / "_artifacts" and how == f"the book repository around {nested}"


def test_find_root_of_this_repository(monkeypatch):
    monkeypatch.delenv("GENPHYS_ARTIFACTS", raising=False)
    root = artifacts.find_root()
    assert root.name == "_artifacts" and root.parent.name == "book"


def test_location_is_the_argument_then_the_environment_then_the_repository(tmp_path, monkeypatch):
    given, named = tmp_path / "given", tmp_path / "named"
    monkeypatch.setenv("GENPHYS_ARTIFACTS", str(named))
    assert artifacts.locate(given) == (given, "the folder given")
    assert artifacts.locate() == (named, "$GENPHYS_ARTIFACTS")
    assert artifacts.find_root(root=str(given)) == given
    artifacts.store("demo", CONFIG, {"x": 1}, wall_time_s=0.0)               # written where the variable says
    assert artifacts.load("demo", CONFIG, root=named).result == {"x": 1}
    with pytest.raises(ArtifactMissing, match=r"artifact 'demo' not found in .*given.demo \(the folder given\)"):
        artifacts.load("demo", CONFIG, root=given)
    monkeypatch.delenv("GENPHYS_ARTIFACTS")
    assert artifacts.locate()[1].startswith("the book repository")


def test_no_location_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("GENPHYS_ARTIFACTS", raising=False)
    monkeypatch.setattr(artifacts, "__file__", str(tmp_path / "site-packages" / "genphys" / "artifacts.py"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ArtifactMissing) as info:
        artifacts.load("demo", CONFIG)
    message = str(info.value)
    assert "\n" not in message and f"none encloses {tmp_path}" in message
    assert "pass root=" in message and "GENPHYS_ARTIFACTS" in message
    computed = artifacts.load_or_run("demo", CONFIG, lambda: {"x": 2})      # nothing stored: computed quietly
    assert computed.result == {"x": 2} and not computed.loaded


def test_a_blank_artifacts_variable_is_refused(monkeypatch):
    monkeypatch.setenv("GENPHYS_ARTIFACTS", " ")
    with pytest.raises(ValueError, match="GENPHYS_ARTIFACTS must name a folder"):
        artifacts.locate()


def test_non_finite_results_are_stored_as_strict_json_null(tmp_path):
    result = {"curve": np.array([0.5, np.nan, np.inf]), "x": float("-inf"), "ok": 1.5}
    saved = artifacts.store("demo", CONFIG, result, wall_time_s=0.0, root=tmp_path)
    text = (tmp_path / "demo" / artifacts.RESULT_FILE).read_text(encoding="utf-8")
    assert json.loads(text, parse_constant=pytest.fail) == {"curve": [0.5, None, None], "x": None, "ok": 1.5}
    assert artifacts.load("demo", CONFIG, root=tmp_path).result == saved.result
    computed = artifacts.load_or_run("other", CONFIG, lambda: result, root=tmp_path)     # the same when not stored
    assert computed.result == saved.result


def test_a_stored_nan_literal_is_corrupt(tmp_path):
    artifacts.store("demo", CONFIG, {"x": 1.0}, wall_time_s=0.0, root=tmp_path)
    path = tmp_path / "demo" / artifacts.RESULT_FILE
    path.write_text('{"x": NaN}\n', encoding="utf-8")
    with pytest.raises(ArtifactError, match=f"{tmp_path / 'demo'}.*result.json.*NaN is not JSON"):
        artifacts.load("demo", CONFIG, root=tmp_path)


def _edit_provenance(tmp_path, edit, keep_checksum=True):
    path = tmp_path / "demo" / artifacts.PROVENANCE_FILE
    prov = json.loads(path.read_text(encoding="utf-8"))
    edit(prov)
    if keep_checksum:        # an edit that also forges the provenance checksum: the fields are still checked
        prov["provenance_sha256"] = artifacts._provenance_digest(prov)
    path.write_text(json.dumps(prov), encoding="utf-8")


def test_provenance_is_covered_by_its_checksum(tmp_path):
    artifacts.store("demo", CONFIG, {"bpb": 1.25}, wall_time_s=3.0, root=tmp_path)
    _edit_provenance(tmp_path, lambda p: p.update(device="a faster machine"), keep_checksum=False)
    with pytest.raises(ArtifactError, match=f"{tmp_path / 'demo'} is corrupt: provenance.json has SHA-256"):
        artifacts.load("demo", CONFIG, root=tmp_path)


@pytest.mark.parametrize("field, value, message", [
    ("scale", "huge", "scale must be one of tiny, cpu, gpu"),
    ("date", "yesterday", "date must be an ISO-8601 date-time"),
    ("date", "2026-11-23T07:42:25", "date must carry its time zone"),
    ("git_commit", "main", "git_commit must be a hex commit"),
    ("git_commit", "0123abc+clean", "git_commit must be a hex commit"),
    ("wall_time_s", -1.0, "wall_time_s must be a number >= 0"),
    ("sha256", "abc", "sha256 must be 64 hex digits"),
])
def test_provenance_fields_are_validated(tmp_path, field, value, message):
    artifacts.store("demo", CONFIG, {"bpb": 1.25}, wall_time_s=3.0, root=tmp_path)
    _edit_provenance(tmp_path, lambda p: p.update({field: value}))
    with pytest.raises(ArtifactError, match=f"{tmp_path / 'demo'} is corrupt: {message}"):
        artifacts.load("demo", CONFIG, root=tmp_path)


@pytest.mark.parametrize("commit", ["0" * 40, "abcdef1234567+dirty", "unknown"])
def test_valid_commits_load(tmp_path, commit):
    artifacts.store("demo", CONFIG, {"bpb": 1.25}, wall_time_s=3.0, root=tmp_path)
    _edit_provenance(tmp_path, lambda p: p.update(git_commit=commit))
    assert artifacts.load("demo", CONFIG, root=tmp_path).provenance["git_commit"] == commit


def test_store_is_atomic(tmp_path, monkeypatch):
    artifacts.store("demo", CONFIG, {"bpb": 1.25}, wall_time_s=0.0, root=tmp_path)
    from genphys import files
    def crash(src, dst):
        raise OSError("crash")
    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="crash"):
        artifacts.store("demo", CONFIG, {"bpb": 0.5}, wall_time_s=0.0, root=tmp_path)
    monkeypatch.undo()
    assert artifacts.load("demo", CONFIG, root=tmp_path).result == {"bpb": 1.25}
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == [artifacts.PROVENANCE_FILE, artifacts.RESULT_FILE]


def test_bad_arguments(tmp_path):
    for call, error, match in [
        (lambda: artifacts.store("demo", CONFIG, {}, wall_time_s=float("nan"), root=tmp_path), ValueError,
         "wall_time_s must be finite"),
        (lambda: artifacts.store("demo", CONFIG, {}, wall_time_s=-1.0, root=tmp_path), ValueError, "wall_time_s must be"),
        (lambda: artifacts.store("demo", CONFIG, {}, wall_time_s="1", root=tmp_path), TypeError, "wall_time_s"),
        (lambda: artifacts.store("demo", CONFIG, {}, wall_time_s=0.0, root=tmp_path, extra={"sha256": "x"}),
         ValueError, "extra must not replace the provenance fields sha256"),
        (lambda: artifacts.store("demo", CONFIG, {}, wall_time_s=0.0, root=tmp_path, extra=[1]), TypeError, "extra"),
        (lambda: artifacts.store("demo", {"lr": float("nan")}, {}, wall_time_s=0.0, root=tmp_path), ValueError,
         "config holds NaN"),
        (lambda: artifacts.load("demo", {"lr": float("inf")}, root=tmp_path), ValueError, "config holds NaN"),
        (lambda: artifacts.load("demo", CONFIG, root=3), TypeError, "root must be a folder path"),
        (lambda: artifacts.locate(start=3), TypeError, "start must be a folder path"),
        (lambda: artifacts.load_or_run("demo", CONFIG, 42, root=tmp_path), TypeError, "produce must be a callable"),
        (lambda: artifacts.load_or_run("demo", CONFIG, produce, save="yes", root=tmp_path), TypeError, "save must be"),
    ]:
        with pytest.raises(error, match=match):
            call()
    assert not (tmp_path / "demo").exists()


def test_the_committed_artifacts_are_intact(monkeypatch):
    monkeypatch.delenv("GENPHYS_ARTIFACTS", raising=False)
    root = artifacts.find_root()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        config = json.loads((folder / artifacts.PROVENANCE_FILE).read_text(encoding="utf-8"))["config"]
        art = artifacts.load(folder.name, config)
        assert art.loaded and "NaN" not in (folder / artifacts.RESULT_FILE).read_text(encoding="utf-8")


@pytest.mark.parametrize("field, value, message", [
    ("versions", 3, "versions"), ("versions", {"torch": "2.13"}, "versions"), ("versions", {"python": 5}, "versions"),
    ("device", None, "device"), ("device", " ", "device"), ("name", "another", "names 'another'"),
])
def test_provenance_fields_are_checked(tmp_path, field, value, message):
    art = artifacts.store("probe", {"n": 1}, {"x": 1.0}, wall_time_s=1.0, root=tmp_path)
    path = tmp_path / "probe" / artifacts.PROVENANCE_FILE
    prov = json.loads(path.read_text(encoding="utf-8"))
    prov[field] = value
    prov["provenance_sha256"] = artifacts._provenance_digest(prov)      # a consistent, but wrong, record
    path.write_text(json.dumps(prov), encoding="utf-8")
    with pytest.raises(artifacts.ArtifactError, match=message):
        artifacts.load("probe", {"n": 1}, root=tmp_path)
    assert art.result == {"x": 1.0}
