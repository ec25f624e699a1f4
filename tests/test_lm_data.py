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
    first, second = itertools.islice(src.train(7), 10), itertools.islice(src.train(7), 20)
    train = list(first)
    assert sorted(train) == sorted(f"story {i}" for i in range(10))       # one epoch: every story once
    again = list(second)
    assert again[:10] == train                                              # seeded
    assert sorted(again[10:]) == sorted(train) and again[10:] != train      # the next epoch, shuffled anew


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


def test_a_list_packs_like_its_iterator_and_an_ended_stream_is_a_clear_error(tok):
    texts = stories.sample(6, 8)
    from_list = data.PackedStream(texts, tok, seq_len=15)
    from_iter = data.PackedStream(iter(texts), tok, seq_len=15)
    n_tokens = sum(len(tok.encode(t)) + 1 for t in texts)
    rows = n_tokens // 16
    assert np.array_equal(from_list.batch(rows), from_iter.batch(rows))
    with pytest.raises(data.StreamEnded, match=f"ended after {rows} rows of 16 tokens"):
        from_list.batch(1)
    assert isinstance(data.StreamEnded("x"), ValueError)


def test_check_file_counts_stories_and_refuses_what_cannot_be_trained_on(tmp_path):
    path = _write(tmp_path / "ok.txt", [f"Story {i}." for i in range(25)])
    assert data.check_file(path) == 25
    few = _write(tmp_path / "few.txt", [f"Story {i}." for i in range(19)])
    with pytest.raises(ValueError, match=f"{few} holds 19 stories; at least 20"):
        data.source(str(few))
    plain = tmp_path / "plain.txt"
    plain.write_text("\n\n".join(f"Story {i}." for i in range(25)), encoding="utf-8")
    with pytest.raises(ValueError, match=f"{plain} holds no"):
        data.source(str(plain))
    assert data.check_file(plain, unit="paragraph") == 25
    bad = tmp_path / "bad.txt"
    bad.write_bytes(path.read_bytes()[:40] + b"\xc3\x28" + path.read_bytes()[40:])
    with pytest.raises(ValueError, match=f"{bad} is not UTF-8 text: invalid byte at offset 40"):
        data.source(str(bad))


def test_bad_input(tok, tmp_path):
    with pytest.raises(ValueError, match="data must be"):
        data.source("no/such/file.txt")
    with pytest.raises(TypeError, match="data spec"):
        data.source(3)
    with pytest.raises(ValueError, match="seq_len"):
        data.PackedStream(iter([]), tok, seq_len=0)
    with pytest.raises(TypeError, match="seq_len"):
        data.PackedStream(iter([]), tok, seq_len=2.0)
    with pytest.raises(ValueError, match="position must be an int >= 0"):
        data.PackedStream(iter([]), tok, seq_len=4, position=-1)
    with pytest.raises(TypeError, match="stories must be an iterable of str"):
        data.PackedStream("a story", tok, seq_len=4)
    with pytest.raises(TypeError, match="stories must yield str"):
        data.PackedStream([b"bytes"], tok, seq_len=4).batch(1)
    with pytest.raises(ValueError, match="size must be an int >= 1"):
        data.PackedStream(iter(["a"]), tok, seq_len=4).batch(0)
    src = data.source("stories")
    for seed, error in [(-1, ValueError), (1.5, TypeError), (True, TypeError)]:
        with pytest.raises(error, match="training seed"):
            src.train(seed)
    for n, error in [(0, ValueError), (2.0, TypeError)]:
        with pytest.raises(error, match="n must be an int"):
            src.validation(n)
    path = _write(tmp_path / "t.txt", [f"Story {i}." for i in range(40)])
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        data.source(str(path)).validation(0)
    with pytest.raises(ValueError, match="training seed"):
        next(data.source(str(path)).train(-2))
