"""genphys.lm.tokenizer: byte-level BPE with an exact round trip."""

import pytest

from genphys import stories
from genphys.lm import tokenizer


@pytest.fixture(scope="module")
def tok():
    return tokenizer.train(stories.sample(200, 11), 300)


def test_vocabulary_and_eot(tok):
    assert tok.vocab_size == 300
    assert tok.decode([tok.eot]) == tokenizer.EOT


@pytest.mark.parametrize("text", ["", "Once upon a time, Lily saw a cat.", "  two  spaces\n\nnew\tlines ",
                                  "accents é ü, CJK 世界, emoji 🙂, and \x00 control", "<|endoftext|>between"])
def test_exact_round_trip(tok, text):
    assert tok.decode(tok.encode(text)) == text


def test_round_trip_on_held_out_stories_and_compression(tok):
    texts = stories.sample(30, 99)
    ids = [tok.encode(t) for t in texts]
    assert all(tok.decode(i) == t for i, t in zip(ids, texts))
    assert sum(map(len, ids)) < 0.8 * sum(len(t.encode()) for t in texts)   # merges learned


def test_save_load(tok, tmp_path):
    tok.save(tmp_path)
    again = tokenizer.Tokenizer.load(tmp_path)
    text = stories.sample(1, 5)[0]
    assert again.encode(text) == tok.encode(text) and again.eot == tok.eot


def test_bad_input(tok, tmp_path):
    with pytest.raises(ValueError, match="vocab_size"):
        tokenizer.train(["a"], 10)
    with pytest.raises(TypeError, match="text"):
        tok.encode(b"bytes")
    with pytest.raises(FileNotFoundError):
        tokenizer.Tokenizer.load(tmp_path / "nothing")
