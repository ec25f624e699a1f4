"""genphys.histories: the chain rule, exact enumeration, sampling, consistency checks, propositions."""

import collections
import math

import numpy as np
import pytest

from genphys import histories as H
from genphys import stories

VOCAB = ("a", "b", "c", "<eot>")


def _table_model(order=2, seed=0, V=4):
    rng = np.random.default_rng(seed)
    table = rng.dirichlet(np.ones(V), size=(V,) * order)
    return H.TableModel(VOCAB[:V - 1] + ("<eot>",), V - 1, table)


class Leaky(H.GAISystem):
    """A broken system: its conditionals sum to 1.1."""
    vocab, eot = VOCAB, 3

    def conditional(self, history, prompt=()):
        return np.array([0.3, 0.3, 0.3, 0.2])


class Stateful(H.GAISystem):
    """A broken system: its conditional depends on how often it was called, not only on the history."""
    vocab, eot = VOCAB, 3

    def __init__(self):
        self.calls = 0

    def conditional(self, history, prompt=()):
        self.calls += 1
        return np.array([0.1, 0.2, 0.3, 0.4]) if self.calls % 2 else np.array([0.4, 0.3, 0.2, 0.1])


@pytest.mark.parametrize("order", [0, 1, 2])
def test_table_family_is_normalised_and_consistent(order):
    model = _table_model(order) if order else H.TableModel(VOCAB, 3, [0.2, 0.3, 0.1, 0.4])
    for prompt in [(), (0,), (1, 2)]:
        assert H.normalisation_error(model, 5, prompt) < 1e-12
        assert H.kolmogorov_error(model, 5, prompt) < 1e-12
        assert H.coarse_graining_error(model, 4, 1, prompt) < 1e-12


def test_number_of_histories_is_the_combinatorial_count():
    model, L, V = _table_model(), 5, 4
    probs = H.enumerate_histories(model, L)
    # complete histories of length n: (V-1)^(n-1) * 1 ; unfinished of length L: (V-1)^L
    assert len(probs) == sum((V - 1) ** (n - 1) for n in range(1, L + 1)) + (V - 1) ** L


def test_log_joint_is_the_chain_rule_on_the_table():
    model = _table_model(order=2, seed=3)
    t, e = model.table, 3
    prompt, hist = (1,), (0, 2, 2, 3)
    ctx = [e, 1, 0, 2, 2]   # eot padding, prompt, history
    expected = sum(math.log(t[ctx[i], ctx[i + 1], hist[i]]) for i in range(4))
    assert H.log_joint(model, hist, prompt) == pytest.approx(expected, abs=1e-12)


def test_prompts_index_different_families():
    model = _table_model(order=1, seed=4)
    p0, p1 = H.enumerate_histories(model, 3, (0,)), H.enumerate_histories(model, 3, (1,))
    assert max(abs(p0[h] - p1[h]) for h in p0) > 1e-3


def test_checks_fail_on_broken_systems():
    with pytest.raises(ValueError, match="sum to 1"):
        Leaky().next_distribution(())
    assert H.kolmogorov_error(Leaky(), 3) > 0.05
    assert H.coarse_graining_error(Stateful(), 3, 0) > 1e-3


@pytest.mark.parametrize("bad, match", [
    (lambda: H.TableModel((), 0, []), "vocab must not be empty"),
    (lambda: H.TableModel(VOCAB, 3, [0.5, 0.5, 0.5, 0.5]), "sum to 1"),
    (lambda: H.TableModel(VOCAB, 3, [1.5, -0.5, 0.0, 0.0]), "negative"),
    (lambda: H.TableModel(VOCAB, 7, [0.25] * 4), "eot must be an int < 4"),
    (lambda: H.TableModel(VOCAB, 3, np.full((4, 3), 1 / 3)), "shape"),
    (lambda: H.log_joint(_table_model(), (0, 9)), r"history\[1\] must be an int < 4"),
    (lambda: H.log_joint(_table_model(), (0, 3, 1)), "after end-of-text"),
    (lambda: H.enumerate_histories(_table_model(), -1), "max_len"),
    (lambda: H.sample(_table_model(), 3, 0, temperature=0), "temperature"),
    (lambda: H.check_distribution([0.5, 0.5], 4), "shape"),
    (lambda: H.NGramModel(VOCAB, 3, 2).fit([[0, 7]]), "outside the vocabulary"),
    (lambda: H.NGramModel(VOCAB, 3, 0), "order"),
    (lambda: H.NGramModel(VOCAB, 3, 2, discount=1.5), "discount"),
    (lambda: H.TableModel.from_rows(("a", "<eot>"), {"a": {"b": 1.0}, "<eot>": {"a": 1.0}}), "not in the vocabulary"),
])
def test_bad_input_is_refused_clearly(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()


def test_bad_types_are_refused_clearly():
    with pytest.raises(TypeError, match="history"):
        H.log_joint(_table_model(), "ab")
    with pytest.raises(TypeError, match="eot"):
        H.TableModel(VOCAB, "3", [0.25] * 4)


def test_sampling_agrees_with_exact_probabilities():
    model = _table_model(order=1, seed=5)
    result = H.chi_square_test(model, 4000, seed=1, max_len=3)
    assert result.dof >= 10 and result.p_value > 1e-3


def test_chi_square_detects_a_wrong_sampler(monkeypatch):
    model = _table_model(order=1, seed=5)
    true_sample = H.sample
    monkeypatch.setattr(H, "sample", lambda *a, **k: true_sample(*a, **{**k, "temperature": 0.7}))
    assert H.chi_square_test(model, 4000, seed=1, max_len=3).p_value < 1e-6


def test_sampling_is_deterministic_per_seed_and_respects_top_k():
    model = _table_model(order=1, seed=6)
    assert H.sample(model, 20, seed=3) == H.sample(model, 20, seed=3)
    assert H.sample(model, 20, seed=3) != H.sample(model, 20, seed=4)
    top1 = H.sample(model, 5, seed=0, top_k=1, max_len=6)
    assert len(set(top1)) == 1     # greedy decoding is deterministic
    p = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(H.warp(p, 0.5), p**2 / (p**2).sum(), atol=1e-15)
    np.testing.assert_allclose(H.warp(p, 1.0, top_k=2), [0, 0, 3 / 7, 4 / 7], atol=1e-15)


def _reference_ngram(train, order, D, V, eot):
    """Naive dict implementation of interpolated absolute discounting, for comparison."""
    counts = [collections.Counter() for _ in range(order + 1)]
    for seq in train:
        padded = [eot] * (order - 1) + list(seq) + [eot]
        for j in range(order - 1, len(padded)):
            for k in range(1, order + 1):
                counts[k][tuple(padded[j - k + 1:j + 1])] += 1

    def prob(context, w):
        p = 1.0 / V
        for k in range(1, order + 1):
            h = tuple(context[len(context) - (k - 1):]) if k > 1 else ()
            grams = {g: c for g, c in counts[k].items() if g[:-1] == h}
            c_h = sum(grams.values())
            if c_h:
                p = max(grams.get(h + (w,), 0) - D, 0) / c_h + D * len(grams) / c_h * p
        return p
    return prob


@pytest.mark.parametrize("order", [1, 2, 3])
def test_ngram_matches_a_naive_reference_and_is_normalised(order):
    rng = np.random.default_rng(order)
    V, eot = 5, 0
    train = [list(rng.integers(1, V, size=rng.integers(3, 12))) for _ in range(30)]
    model = H.NGramModel([str(i) for i in range(V)], eot, order, 0.6).fit(train)
    ref = _reference_ngram(train, order, 0.6, V, eot)
    for ctx in [(), (1,), (2, 3), (4, 4, 1)]:
        p = model.conditional(ctx)
        assert abs(p.sum() - 1) < 1e-12
        padded = [eot] * (order - 1) + list(ctx)
        np.testing.assert_allclose(p, [ref(padded, w) for w in range(V)], atol=1e-12)
    seq = [1, 2, 3, 4]
    chain = [model.conditional(seq[:t])[y] for t, y in enumerate(seq + [eot])]
    np.testing.assert_allclose(np.exp(model.log_probs(seq)), chain, atol=1e-12)


def test_torch_model_is_a_normalised_family():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Embedding(4, 8), torch.nn.Linear(8, 4)).double()
    model = H.TorchModel(module, VOCAB, 3)
    logits = module(torch.tensor([[3, 0, 1]]))[0, -1]
    np.testing.assert_allclose(model.conditional((1,), prompt=(0,)),
                               torch.softmax(logits, -1).detach().numpy(), atol=1e-12)
    assert H.normalisation_error(model, 4) < 1e-12
    assert H.kolmogorov_error(model, 4) < 1e-12
    with pytest.raises(ValueError, match="logits"):
        H.TorchModel(module, VOCAB[:3] + ("x", "<eot>"), 4, bos=0).conditional(())


def test_story_source_chain_rule_gives_the_exact_story_probability():
    model = stories.StorySourceModel()
    story = min(stories.sample(20, seed=11), key=len)
    tokens = model.tokens(story) + (model.eot,)
    assert H.log_joint(model, tokens) == pytest.approx(stories.log_prob(story), abs=1e-8)
    with pytest.raises(ValueError, match="never written"):
        model.tokens("\u00e9")


def test_decoherence_functional_is_diagonal_on_exclusive_propositions():
    model = _table_model(order=1, seed=7)
    probs = H.enumerate_histories(model, 4)
    a_before_b = H.occurs_before(0, 1)
    props = [a_before_b, lambda h: 1 in h and not a_before_b(h), lambda h: 1 not in h and 0 not in h]
    D = H.decoherence_functional(probs, props)
    np.testing.assert_allclose(D - np.diag(np.diag(D)), 0, atol=0)
    assert np.trace(D) == pytest.approx(1.0, abs=1e-12)
    overlapping = H.decoherence_functional(probs, [lambda h: 0 in h, lambda h: 1 in h])
    assert overlapping[0, 1] == pytest.approx(
        H.proposition_probability(probs, lambda h: 0 in h and 1 in h), abs=1e-15)
    assert overlapping[0, 1] > 0


def test_class_operators_are_projectors_that_give_the_history_probability():
    model = _table_model(order=0 + 1, seed=8)
    hist = (0, 2, 1)
    ops = H.class_operator(hist, 4)
    for P in ops:
        np.testing.assert_array_equal(P @ P, P)
    # classical histories: P(h) = chain of <y_t| p(.|past) weighted by the projectors
    prob, past = 1.0, ()
    for P, y in zip(ops, hist):
        prob *= float(np.ones(4) @ P @ model.conditional(past))
        past += (y,)
    assert prob == pytest.approx(math.exp(H.log_joint(model, hist)), abs=1e-15)


def test_history_tree_children_add_up_to_their_parent():
    model = _table_model(order=1, seed=9)
    root = H.history_tree(model, 3)
    stack = [root]
    while stack:
        node = stack.pop()
        if node.children:
            assert math.fsum(c.prob for c in node.children) == pytest.approx(node.prob, abs=1e-15)
        stack.extend(node.children)
    pruned = H.history_tree(model, 3, top_k=2)
    assert all(len(n.children) <= 2 for n in pruned.children)


def test_from_rows_builds_the_table_and_refuses_missing_rows():
    rows = {"a": {"b": 1.0}, "b": {"<eot>": 0.5, "a": 0.5}, "<eot>": {"a": 1.0}}
    model = H.TableModel.from_rows(("a", "b", "<eot>"), rows)
    assert math.exp(H.log_joint(model, (0, 1, 2))) == pytest.approx(0.5, abs=1e-15)
    with pytest.raises(ValueError, match="lacks the row"):
        H.TableModel.from_rows(("a", "b", "<eot>"), {"a": {"b": 1.0}})


def test_sampling_with_temperature_draws_from_the_warped_family():
    model = _table_model(order=1, seed=10)
    warped = H.WarpedModel(model, temperature=0.6, top_k=3)
    assert H.normalisation_error(warped, 4) < 1e-12
    exact = H.enumerate_histories(warped, 3)
    counts = collections.Counter(H.sample(model, 3000, seed=2, temperature=0.6, top_k=3, max_len=3))
    from scipy import stats
    keys = [h for h, p in exact.items() if 3000 * p >= 5]
    obs = [counts[h] for h in keys] + [3000 - sum(counts[h] for h in keys)]
    exp = [3000 * exact[h] for h in keys] + [3000 * (1 - sum(exact[h] for h in keys))]
    assert stats.chisquare(obs, exp).pvalue > 1e-3


# ----------------------------------------------------------------------------- raw conditionals and propositions

def _ngram_model():
    return H.NGramModel(VOCAB, 3, 3).fit([[0, 1, 2, 0], [1, 1, 2]])


def _torch_model(**kw):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Embedding(4, 8), torch.nn.Linear(8, 4)).double()
    return H.TorchModel(module, VOCAB, 3, **kw)


@pytest.mark.parametrize("make", [lambda: _table_model(2), _ngram_model, _torch_model], ids=["table", "ngram", "torch"])
@pytest.mark.parametrize("history, prompt, argument, error", [
    ((4,), (), r"history\[0\]", ValueError),                 # a token beyond the vocabulary
    ((0, -1), (), r"history\[1\]", ValueError),              # a negative index wrapped silently to the last row
    ((0.7,), (), r"history\[0\]", TypeError),
    ((True,), (), r"history\[0\]", TypeError),
    ((), (9,), r"prompt\[0\]", ValueError),
    ("ab", (), "history", TypeError),
])
def test_raw_conditionals_refuse_tokens_outside_the_vocabulary(make, history, prompt, argument, error):
    with pytest.raises(error, match=argument):
        make().conditional(history, prompt)


def test_raw_conditionals_still_equal_the_validated_ones():
    for model in (_table_model(2), _ngram_model(), _torch_model()):
        for hist in ((), (0,), (1, 2), (2, 0, 1)):
            assert np.array_equal(model.conditional(hist, (1,)), model.next_distribution(hist, (1,)))


@pytest.mark.parametrize("kw, error, match", [
    (dict(bos=4), ValueError, "bos"), (dict(bos=-1), ValueError, "bos"), (dict(bos=1.5), TypeError, "bos"),
    (dict(max_context=0), ValueError, "max_context"), (dict(max_context=-2), ValueError, "max_context"),
    (dict(max_context=2.0), TypeError, "max_context"),
])
def test_torch_model_checks_bos_and_max_context(kw, error, match):
    with pytest.raises(error, match=match):
        _torch_model(**kw)


def test_max_context_keeps_the_last_tokens():
    torch = pytest.importorskip("torch")
    short = _torch_model(max_context=2)                        # bos 0 1 2 -> the module reads 1 2
    expected = torch.softmax(short.module(torch.tensor([[1, 2]]))[0, -1].double(), -1).detach().numpy()
    assert np.array_equal(short.conditional((0, 1, 2)), expected)


@pytest.mark.parametrize("probs, kw, match", [
    ({(0,): -0.2, (1,): 0.5}, {}, r"probs\[\(0,\)\]"),                    # a negative probability
    ({(0,): float("nan")}, {}, r"probs\[\(0,\)\]"),
    ({(0,): 0.7, (1,): 0.6}, {}, "probs sums to 1.3"),
    ({(0, 7): 0.5}, dict(vocab_size=4), r"probs key \(0, 7\): a token"),   # a token outside the vocabulary
    ({(-1,): 0.5}, {}, r"probs key \(-1,\)"),
    ({"ab": 0.5}, {}, "probs keys must be histories"),
    ([((0,), 0.5)], {}, "probs must be a mapping"),
])
def test_proposition_probability_refuses_what_is_not_a_probability_of_histories(probs, kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        H.proposition_probability(probs, H.occurs_before(0, 1), **kw)


def test_proposition_probability_is_the_sum_over_the_proposition():
    model = _table_model(1)
    probs = H.enumerate_histories(model, 4)
    alpha = H.occurs_before(0, 1)
    direct = math.fsum(p for h, p in probs.items() if 0 in h and (1 not in h or h.index(0) < h.index(1)))
    assert H.proposition_probability(probs, alpha, vocab_size=4) == direct
    with pytest.raises(TypeError, match="proposition"):
        H.proposition_probability(probs, "0 before 1")


def test_exact_enumerations_refuse_lengths_they_cannot_finish():
    model = _table_model(1)
    for call in (lambda: H.enumerate_histories(model, 10**15), lambda: H.kolmogorov_error(model, 10**6),
                 lambda: H.normalisation_error(model, 200)):
        with pytest.raises(ValueError, match="max_len .* MAX_HISTORIES"):
            call()
    with pytest.raises(ValueError, match="depth"):
        H.history_tree(model, 10**15)
    with pytest.raises(ValueError, match="n"):
        H.sample(model, H.MAX_SAMPLES + 1, 0)
