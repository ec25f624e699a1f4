"""genphys.lm.data: sources, fallback message, deterministic packing, held-out validation."""

import itertools

import numpy as np
import pytest

from genphys import stories
from genphys.lm import data, tokenizer


@pytest.fixture(scope="module")
def tok():
    return tokenizer.train(stories.sample(100, 3), 280)


def _write(path, texts):
    path.write_text("".join(f"{t}\n{stories.SEPARATOR}\n" for t in texts), encoding="utf-8")
    return path


def test_fallback_message_when_hub_unreachable():
    lines = []
    def unreachable(split):
        raise ConnectionError("no network")
    src = data.source("tinystories", loader=unreachable, log=lines.append)
    assert src.name == "stories"
    assert len(lines) == 1 and "TinyStories unavailable" in lines[0] and "story source" in lines[0]


def test_tinystories_path_uses_loader_splits():
    class Split(list):
        def shuffle(self, seed):
            rng = np.random.default_rng(seed)
            return Split(self[i] for i in rng.permutation(len(self)))
        def select(self, idx):
            return Split(self[i] for i in idx)
    fake = {"train": Split({"text": f"story {i} "} for i in range(10)),
            "validation": Split({"text": f"valid {i}"} for i in range(5))}
    src = data.source("tinystories", loader=fake.__getitem__, log=pytest.fail)
    assert src.name == "tinystories"
    assert src.validation(3) == ["valid 0", "valid 1", "valid 2"]
    train = list(src.train(7))
    assert sorted(train) == sorted(f"story {i}" for i in range(10)) and train == list(src.train(7))


def test_stories_source_is_deterministic_and_validation_disjoint():
    src = data.source("stories")
    a, b = list(itertools.islice(src.train(1), 20)), list(itertools.islice(src.train(1), 20))
    assert a == b and a != list(itertools.islice(src.train(2), 20))
    assert src.validation(5) == stories.sample(5, data.VALID_SEED)
    with pytest.raises(ValueError, match="seed"):
        src.train(data.VALID_SEED)


def test_text_file_holdout_and_seeded_shuffle(tmp_path):
    texts = [f"Story number {i}." for i in range(100)]
    path = _write(tmp_path / "t.txt", texts)
    assert list(stories.read_stories(path)) == texts
    src = data.source(str(path))
    valid = src.validation(100)
    assert valid == texts[19::20]
    first = list(itertools.islice(src.train(0), 95))
    assert sorted(first) == sorted(set(texts) - set(valid))         # one epoch: every training story once
    assert first == list(itertools.islice(src.train(0), 95)) and first != list(itertools.islice(src.train(1), 95))


def test_packing_is_exact_and_resumable(tok):
    texts = stories.sample(40, 8)
    stream = data.PackedStream(iter(texts), tok, seq_len=31)
    rows = np.concatenate([stream.batch(4) for _ in range(3)])
    assert rows.shape == (12, 32) and stream.position == 12
    flat = [i for t in texts for i in tok.encode(t) + [tok.eot]]
    assert rows.ravel().tolist() == flat[:12 * 32]
    resumed = data.PackedStream(iter(texts), tok, seq_len=31, position=8)
    assert np.array_equal(resumed.batch(4), rows[8:12])


def test_bad_input(tok):
    with pytest.raises(ValueError, match="data must be"):
        data.source("no/such/file.txt")
    with pytest.raises(TypeError, match="data spec"):
        data.source(3)
    with pytest.raises(ValueError, match="seq_len"):
        data.PackedStream(iter([]), tok, seq_len=0)
