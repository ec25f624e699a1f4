"""genphys.lm.evaluate: bits per byte on hand-computable cases; the story source's floor."""

import math

import pytest
import torch

from genphys import stories
from genphys.lm import evaluate, tokenizer

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker


@pytest.fixture(scope="module")
def tok():
    return tokenizer.train(stories.sample(100, 4), 280)


class Uniform(torch.nn.Module):
    """Logits all zero: every token costs ln V nats."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab = vocab
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, idx):
        return torch.zeros(*idx.shape, self.vocab, dtype=torch.float64) + 0 * self.dummy


class Oracle(torch.nn.Module):
    """Puts probability p on the true next token of one known sequence, the rest uniformly."""

    def __init__(self, vocab, ids, p):
        super().__init__()
        self.vocab, self.ids, self.p = vocab, ids, p
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, idx):
        probs = torch.full((*idx.shape, self.vocab), (1 - self.p) / (self.vocab - 1), dtype=torch.float64)
        for t in range(idx.shape[1]):
            probs[:, t, self.ids[t + 1]] = self.p
        return probs.log()


def test_uniform_model_bits_per_byte_by_hand(tok):
    texts = ["Tom had a red ball.", "Sue é 世界!", "a"]
    res = evaluate.evaluate(Uniform(tok.vocab_size), tok, texts, batch_size=2)
    n_tokens = sum(len(tok.encode(t)) + 1 for t in texts)                  # each story's tokens and its <eot>
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    assert res["tokens"] == n_tokens and res["bytes"] == n_bytes
    assert res["bits_per_byte"] == pytest.approx(n_tokens * math.log2(tok.vocab_size) / n_bytes, rel=1e-12)


def test_oracle_bits_and_accuracy_by_hand(tok):
    text = "Lily saw a big dog."
    ids = [tok.eot] + tok.encode(text) + [tok.eot]
    res = evaluate.evaluate(Oracle(tok.vocab_size, ids, 0.5), tok, [text])
    assert res["accuracy"] == 1.0
    assert res["bits_per_byte"] == pytest.approx((len(ids) - 1) * 1.0 / len(text.encode()), rel=1e-12)


def test_source_floor_matches_stories_entropy():
    texts = stories.sample(20, 17)
    ref = stories.entropy_bits_per_byte(20, 17)
    assert evaluate.source_bits_per_byte(texts) == pytest.approx(ref["mean"], rel=1e-12)


def test_bad_input(tok):
    with pytest.raises(ValueError, match="empty"):
        evaluate.evaluate(Uniform(tok.vocab_size), tok, [])
    with pytest.raises(TypeError, match="list of strings"):
        evaluate.evaluate(Uniform(tok.vocab_size), tok, "a story")
