"""genphys.lm.sample: greedy is the argmax chain of the full model, the sampler follows softmax(logits / T)
restricted to the top k, seeds reproduce, the caller's training mode survives, bad arguments are refused."""

import numpy as np
import pytest
import torch
from scipy import stats

from genphys import stories
from genphys.lm import models, sample, tokenizer

torch.set_num_threads(1)

CFG = models.ModelConfig(vocab_size=300, d_model=32, n_layers=2, n_modes=16, n_heads=2, d_feature=4, chunk=16)


@pytest.fixture(scope="module")
def tok():
    return tokenizer.train(stories.sample(80, 5), CFG.vocab_size)


@pytest.fixture(scope="module", params=["dissipative", "transformer"])
def model(request):
    torch.manual_seed(0)
    return models.build_model(request.param, CFG)


class Fixed(torch.nn.Module):
    """The same next-token logits after every token (an i.i.d. source): the sampler's law is known exactly."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.as_tensor(logits, dtype=torch.float32))

    def init_state(self, batch):
        return None

    def step(self, idx, state):
        return self.logits.expand(idx.shape[0], -1), state


class Ids:
    """A tokenizer whose text is the token ids, so the samples can be counted."""

    eot = 0

    def encode(self, text):
        return [int(t) for t in text.split()]

    def decode(self, ids):
        return " ".join(map(str, ids))


def test_temperature_zero_is_the_argmax_chain_of_the_full_model(model, tok):
    out = sample.generate(model, tok, "Once upon a time", n=2, max_new_tokens=12, temperature=0)
    assert out[0] == out[1]
    ids = [tok.eot] + tok.encode("Once upon a time")
    new = []
    with torch.no_grad():
        for _ in range(12):
            nxt = int(model(torch.tensor([ids]))[0, -1].argmax())
            if nxt == tok.eot:
                break
            ids.append(nxt)
            new.append(nxt)
    assert out[0] == "Once upon a time" + tok.decode(new)


def test_top_k_one_is_greedy_and_seeds_reproduce(model, tok):
    greedy = sample.generate(model, tok, "Tom", n=2, max_new_tokens=10, temperature=0)
    assert sample.generate(model, tok, "Tom", n=2, max_new_tokens=10, temperature=1.3, top_k=1, seed=5) == greedy
    a = sample.generate(model, tok, "Tom", n=3, max_new_tokens=10, temperature=1.0, seed=7)
    assert a == sample.generate(model, tok, "Tom", n=3, max_new_tokens=10, temperature=1.0, seed=7)
    assert a != sample.generate(model, tok, "Tom", n=3, max_new_tokens=10, temperature=1.0, seed=8)
    assert all(t.startswith("Tom") for t in a)
    assert sample.generate(model, tok, "Tom", n=2, max_new_tokens=0) == ["Tom", "Tom"]


@pytest.mark.parametrize("mode", [True, False])
def test_the_callers_training_mode_is_restored(model, tok, mode):
    model.train(mode)
    sample.generate(model, tok, "", n=1, max_new_tokens=3, seed=0)
    assert model.training is mode and all(m.training is mode for m in model.modules())
    with pytest.raises(ValueError):
        sample.generate(model, tok, "", n=0)
    assert model.training is mode


def test_sampler_follows_softmax_over_temperature_and_top_k():
    logits = torch.tensor([-30.0, 1.0, 0.5, 0.0, -0.5, -1.0])       # token 0 (eot) practically never drawn
    n = 4000
    for temperature, top_k in [(1.0, None), (0.5, None), (2.0, 3)]:
        texts = sample.generate(Fixed(logits), Ids(), "", n=n, max_new_tokens=1, temperature=temperature,
                                top_k=top_k, seed=1)
        counts = np.bincount([int(t) for t in texts], minlength=6)[1:]
        p = torch.softmax(logits[1:].double() / temperature, 0).numpy()
        if top_k is not None:
            p[top_k:] = 0.0
            p /= p.sum()
            assert counts[top_k:].sum() == 0
        keep = p > 0
        assert stats.chisquare(counts[keep], counts.sum() * p[keep] / p[keep].sum()).pvalue > 1e-3


def test_generation_stops_at_end_of_text():
    logits = torch.tensor([5.0, -5.0, -5.0])                           # eot is by far the most likely
    assert sample.generate(Fixed(logits), Ids(), "2", n=3, max_new_tokens=50, temperature=0) == ["2"] * 3


def test_token_ids_beyond_the_vocabulary_are_refused(model):
    class Big(Ids):
        eot = CFG.vocab_size + 4
    with pytest.raises(ValueError, match=r"outside \[0, 300\)"):
        sample.generate(model, Big(), "", n=1, max_new_tokens=2)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(prompt=3), TypeError, "prompt must be a str"),
    (dict(n=0), ValueError, "n must be an int >= 1"),
    (dict(n=2.0), TypeError, "n must be an int"),
    (dict(n=True), TypeError, "n must be an int"),
    (dict(max_new_tokens=-1), ValueError, "max_new_tokens must be an int >= 0"),
    (dict(temperature=-0.5), ValueError, "temperature must be a number >= 0"),
    (dict(temperature=float("nan")), ValueError, "temperature must be finite"),
    (dict(temperature=float("inf")), ValueError, "temperature must be finite"),
    (dict(temperature="hot"), TypeError, "temperature must be a real number"),
    (dict(top_k=0), ValueError, "top_k must be an int >= 1"),
    (dict(top_k=2.5), TypeError, "top_k must be an int"),
    (dict(seed=-1), ValueError, "seed must be an int >= 0"),
    (dict(seed=2**32), ValueError, "seed must be an int <"),
])
def test_bad_arguments(model, tok, kwargs, error, match):
    with pytest.raises(error, match=match):
        sample.generate(model, tok, **{"prompt": "", **kwargs})


@pytest.mark.parametrize("argv, message", [
    (["--n", "0"], "argument --n: must be an int >= 1, got 0"),
    (["--max-tokens", "-1"], "argument --max-tokens: must be an int >= 1, got -1"),
    (["--temperature", "nan"], "argument --temperature: must be finite, got nan"),
    (["--temperature", "-1"], "argument --temperature: must be a number >= 0"),
    (["--top-k", "0"], "argument --top-k: must be an int >= 1, got 0"),
    (["--seed", "-3"], "argument --seed: must be an int >= 0, got -3"),
])
def test_cli_refuses_out_of_range_arguments(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        sample.main(["--run", str(tmp_path), *argv])
    assert exit_.value.code == 2 and message in capsys.readouterr().err.strip().splitlines()[-1]


def test_cli_names_a_folder_that_is_not_a_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        sample.main(["--run", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and err.count("\n") == 1 and str(tmp_path / "nope") in err
