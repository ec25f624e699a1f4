"""Generative AI systems as families of histories (chapter 1, "Histories").

A generative AI (GAI) system over a finite vocabulary with an end-of-text token
``eot`` is anything that returns next-token conditionals p(y_t | X, y_<t).  By the
chain rule these define, for every input text (prompt) X, a probability on token
histories,

    P_X(y_1 ... y_n) = prod_t p(y_t | X, y_<t)                       (ch. 1, eq. hist-chain)

and this module computes with that family: joint log-probabilities, exact
enumeration, sampling, the checks that make it a consistent family
(normalisation, Kolmogorov consistency, coarse-graining) and history
propositions with their classical decoherence functional
D(alpha, beta) = sum_{h in alpha and beta} P(h) (Isham 1994; diagonal here).

Histories stop at ``eot``: a history that has emitted ``eot`` is complete.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from genphys import validate

__all__ = ["SUM_TOL", "MAX_HISTORIES", "MAX_ENUMERATION_WORK", "MAX_SAMPLES", "MIN_DISCOUNT", "EOT", "check_tokens",
           "token_array", "check_distribution", "GAISystem", "TableModel", "NGramModel", "TorchModel", "WarpedModel",
           "log_joint", "enumerate_histories", "sample", "warp", "normalisation_error", "kolmogorov_error",
           "coarse_graining_error", "ChiSquare", "chi_square_test", "check_probabilities", "proposition_probability",
           "occurs_before", "class_operator", "decoherence_functional", "Node", "history_tree", "plot_history_tree"]

#: Tolerance within which a conditional must sum to one.
SUM_TOL = 1e-9
#: Most histories (tree nodes) an exact enumeration visits: above it a ValueError names max_len (or depth).
MAX_HISTORIES = 10**5
#: Work budget of an exact enumeration: histories visited plus their tokens (each visit reads its history).
MAX_ENUMERATION_WORK = 10**6
#: Most histories :func:`sample` draws in one call, and its longest history.
MAX_SAMPLES = 10**7
#: Smallest discount of :class:`NGramModel`: D^order times the counts' ratios must stay a normal double.
MIN_DISCOUNT = 1e-6

#: The end-of-text token: it ends a history, separates stories in text files, and is the
#: special token of every tokenizer of the book (its one definition).
EOT = "<|endoftext|>"


# --------------------------------------------------------------------------- validation
def check_tokens(tokens: Sequence[int], vocab_size: int, name: str = "history") -> tuple[int, ...]:
    """``tokens`` as a tuple of ints in ``[0, vocab_size)``, or a clear error naming ``name``."""
    vocab_size = validate.integer(vocab_size, "vocab_size", low=1)
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of token indices, got {type(tokens).__name__}")
    return tuple(validate.integer(t, f"{name}[{i}]", low=0, high=vocab_size, high_open=True)
                 for i, t in enumerate(tokens))


def token_array(tokens: Sequence[int], vocab_size: int, name: str = "sequence") -> np.ndarray:
    """Vectorised :func:`check_tokens` for long sequences: an int64 array of tokens in ``[0, vocab_size)``."""
    vocab_size = validate.integer(vocab_size, "vocab_size", low=1)
    if isinstance(tokens, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of token indices, got a {type(tokens).__name__}")
    if isinstance(tokens, (list, tuple)) and any(isinstance(t, (bool, np.bool_)) for t in tokens):
        raise TypeError(f"{name} must hold integer token indices, not bools")
    arr = np.asarray(tokens)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must be a 1-d sequence of integer token indices")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= vocab_size):
        raise ValueError(f"{name} holds tokens outside the vocabulary [0, {vocab_size})")
    return arr


def check_distribution(p, vocab_size: int, name: str = "conditional") -> np.ndarray:
    """``p`` as a float64 vector of shape (V,), non-negative and summing to 1 within SUM_TOL."""
    vocab_size = validate.integer(vocab_size, "vocab_size", low=1)
    arr = validate.finite_array(p, name, ndim=1)
    if arr.shape != (vocab_size,):
        raise ValueError(f"{name} must have vocab_size = {vocab_size} entries, got shape {arr.shape}")
    if arr.min() < 0:
        raise ValueError(f"{name} holds negative probabilities (min {arr.min():.3g})")
    total = arr.sum()
    if abs(total - 1.0) > SUM_TOL:
        raise ValueError(f"{name} must sum to 1 (within {SUM_TOL:g}), sums to {total:.12g}")
    return arr


def _check_vocab(vocab: Sequence[str], eot: int) -> tuple[tuple[str, ...], int]:
    if isinstance(vocab, (str, bytes)):
        raise TypeError("vocab must be a sequence of token names, not a single string")
    if not isinstance(vocab, (Sequence, np.ndarray)):
        raise TypeError(f"vocab must be a sequence of token names (str), got {type(vocab).__name__}")
    if not all(isinstance(v, str) for v in vocab):
        raise TypeError("vocab must hold token names (str)")
    vocab = tuple(vocab)
    if not vocab:
        raise ValueError("vocab must not be empty")
    if len(set(vocab)) != len(vocab):
        raise ValueError("vocab holds duplicate token names")
    return vocab, validate.integer(eot, "eot", low=0, high=len(vocab), high_open=True)


# --------------------------------------------------------------------------- systems
class GAISystem(abc.ABC):
    """A generative AI system: next-token conditionals p(. | X = prompt, y_<t = history).

    Subclasses set ``vocab`` (token names) and ``eot`` (index of end-of-text) and
    implement :meth:`conditional`.
    """

    vocab: tuple[str, ...]
    eot: int

    @property
    def V(self) -> int:
        """Vocabulary size."""
        return len(self.vocab)

    @abc.abstractmethod
    def conditional(self, history: Sequence[int], prompt: Sequence[int] = ()) -> np.ndarray:
        """The float64 vector p(. | X = prompt, y_<t = history), shape (V,), summing to 1."""

    def next_distribution(self, history: Sequence[int], prompt: Sequence[int] = ()) -> np.ndarray:
        """:meth:`conditional` with its input and output validated (clear errors on bad systems)."""
        history = check_tokens(history, self.V, "history")
        prompt = check_tokens(prompt, self.V, "prompt")
        return check_distribution(self.conditional(history, prompt), self.V,
                                  f"conditional after {len(history)} tokens")

    def encode(self, names: Iterable[str]) -> tuple[int, ...]:
        """Token names to indices."""
        index = {v: i for i, v in enumerate(self.vocab)}
        try:
            return tuple(index[n] for n in names)
        except KeyError as err:
            raise ValueError(f"token {err.args[0]!r} is not in the vocabulary") from None

    def decode(self, tokens: Sequence[int], sep: str = " ") -> str:
        """Token indices to their names, joined by ``sep``."""
        return sep.join(self.vocab[t] for t in check_tokens(tokens, self.V, "tokens"))


class TableModel(GAISystem):
    """An n-gram / Markov chain given by a table: p(y_t | last k tokens of X y_<t).

    ``table`` has shape (V,)*k + (V,): ``table[c_1, ..., c_k]`` is the conditional
    after context c_1 ... c_k (oldest first).  Contexts shorter than k (start of
    text) are left-padded with ``eot``, which doubles as the start symbol.
    """

    def __init__(self, vocab: Sequence[str], eot: int, table):
        self.vocab, self.eot = _check_vocab(vocab, eot)
        arr = validate.finite_array(table, "table")
        V = len(self.vocab)
        if arr.ndim < 1 or any(s != V for s in arr.shape):
            raise ValueError(f"table must have shape (V,)*(k+1) with V={V}, got {arr.shape}")
        if arr.min() < 0:
            raise ValueError("table holds negative probabilities")
        sums = arr.sum(axis=-1)
        if np.max(np.abs(sums - 1.0)) > SUM_TOL:
            raise ValueError(f"every row of table must sum to 1; worst row sums to "
                             f"{sums.flat[np.argmax(np.abs(sums - 1.0))]:.12g}")
        self.table = arr
        self.order = arr.ndim - 1

    @classmethod
    def from_rows(cls, vocab: Sequence[str], rows: Mapping, eot: str = "<eot>") -> "TableModel":
        """A Markov chain (k = 1) from readable rows ``{context token: {next token: probability}}``.

        Every token needs a row; the row of ``eot`` is the start of text.
        """
        vocab = tuple(vocab)
        if eot not in vocab:
            raise ValueError(f"eot {eot!r} is not in the vocabulary")
        index = {v: i for i, v in enumerate(vocab)}
        table = np.zeros((len(vocab), len(vocab)))
        for ctx in vocab:
            if ctx not in rows:
                raise ValueError(f"rows lacks the row of context token {ctx!r}")
            for nxt, prob in rows[ctx].items():
                if nxt not in index:
                    raise ValueError(f"row {ctx!r} names {nxt!r}, which is not in the vocabulary")
                table[index[ctx], index[nxt]] = prob
        return cls(vocab, index[eot], table)

    def conditional(self, history, prompt=()):
        """p(y | c) = table[c], c the last k tokens of prompt + history, eot-padded (eq. hist-chain)."""
        history, prompt = check_tokens(history, self.V, "history"), check_tokens(prompt, self.V, "prompt")
        context = (self.eot,) * self.order + prompt + history
        return self.table[context[len(context) - self.order:]] if self.order else self.table


class NGramModel(GAISystem):
    """Interpolated absolute-discounting n-gram model fitted by vectorised counting (chapter 1).

    p_k(w | h) = max(c(h w) - D, 0) / c(h) + D N1+(h .) / c(h) * p_{k-1}(w | h'),
    with h' the context h without its oldest token and p_0 = 1/V (Ney, Essen and
    Kneser 1994).  Each sequence is padded with ``order - 1`` ``eot`` tokens in
    front and one ``eot`` behind, so the model also predicts the end of text.
    """

    def __init__(self, vocab: Sequence[str], eot: int, order: int, discount: float = 0.75):
        self.vocab, self.eot = _check_vocab(vocab, eot)
        order = validate.integer(order, "order", low=1)
        if len(self.vocab) > 1 and (order >= 62 or len(self.vocab) ** order >= 2**62):
            raise ValueError(f"order {order} is too large for a vocabulary of {len(self.vocab)} (keys overflow)")
        discount = validate.real(discount, "discount", low=0, high=1, low_open=True, high_open=True)
        if discount < MIN_DISCOUNT:
            raise ValueError(f"discount must be >= {MIN_DISCOUNT:g}, got {discount:g}: below it the probabilities of "
                             "unseen n-grams fall below the smallest double and their log-probability is -inf")
        self.order, self.discount = order, float(discount)
        self._tables: list | None = None

    def _keys(self, seqs: Sequence[Sequence[int]]) -> Iterator[np.ndarray]:
        """Keys of the k-grams ending at every target position, for k = 1..order in turn."""
        n, V = self.order, self.V
        padded = [np.concatenate([np.full(n - 1, self.eot), s, [self.eot]]) for s in seqs]
        flat = np.concatenate(padded).astype(np.int64)
        mask = np.ones(len(flat), dtype=bool)
        for start in np.cumsum([0] + [len(p) for p in padded[:-1]]):
            mask[start:start + n - 1] = False
        targets = np.nonzero(mask)[0]
        key = np.zeros(len(targets), dtype=np.int64)
        for k in range(n):
            key += flat[targets - k] * V**k
            yield key

    def fit(self, sequences: Sequence[Sequence[int]]) -> "NGramModel":
        """Count all k-grams (k <= order) of ``sequences`` (lists of token indices)."""
        seqs = [token_array(s, self.V) for s in sequences]
        if not seqs:
            raise ValueError("fit needs at least one sequence")
        self._tables = []
        for key in self._keys(seqs):
            grams, counts = np.unique(key, return_counts=True)
            ctx = grams // self.V
            ctx_keys, first, distinct = np.unique(ctx, return_index=True, return_counts=True)
            totals = np.add.reduceat(counts, first)
            self._tables.append((grams, counts, ctx_keys, totals, distinct))
        return self

    def _probs(self, keys: Iterable[np.ndarray]) -> np.ndarray:
        """p_order(w | h) for the k-gram keys of each query position."""
        if self._tables is None:
            raise RuntimeError("NGramModel is not fitted; call fit(sequences) first")
        p = None
        for (grams, counts, ctx_keys, totals, distinct), key in zip(self._tables, keys):
            if p is None:
                p = np.full(len(key), 1.0 / self.V)
            c_hw = _lookup(grams, counts, key)
            ctx = key // self.V
            c_h = _lookup(ctx_keys, totals, ctx)
            n1 = _lookup(ctx_keys, distinct, ctx)
            seen = c_h > 0
            safe = np.where(seen, c_h, 1)
            interp = np.maximum(c_hw - self.discount, 0) / safe + self.discount * n1 / safe * p
            p = np.where(seen, interp, p)
        return p

    def log_probs(self, sequence: Sequence[int]) -> np.ndarray:
        """Natural-log probabilities of every token of ``sequence`` and of its final eot."""
        return np.log(self._probs(self._keys([token_array(sequence, self.V)])))

    def total_nll(self, sequences: Sequence[Sequence[int]]) -> float:
        """-sum ln p over every token and final eot of ``sequences`` (nats)."""
        seqs = [token_array(s, self.V) for s in sequences]
        return float(-np.log(self._probs(self._keys(seqs))).sum())

    def conditional(self, history, prompt=()):
        """The smoothed conditional over all V next tokens (the formula in the class docstring)."""
        history, prompt = check_tokens(history, self.V, "history"), check_tokens(prompt, self.V, "prompt")
        context = (self.eot,) * (self.order - 1) + prompt + history
        key = np.arange(self.V, dtype=np.int64)
        keys = [key.copy()]
        for k in range(1, self.order):
            key = key + context[-k] * self.V**k
            keys.append(key.copy())
        return self._probs(keys)


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[i] where sorted_keys[i] == query, else 0 (vectorised)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(query))
    idx = np.minimum(np.searchsorted(sorted_keys, query), len(sorted_keys) - 1)
    return np.where(sorted_keys[idx] == query, values[idx], 0).astype(np.float64)


class TorchModel(GAISystem):
    """Any torch module mapping a LongTensor (B, T) to logits (B, T, V), as a GAI system.

    The input is ``bos`` (default ``eot``) followed by prompt and history, cut to
    the last ``max_context`` tokens; the conditional is softmax of the last logits
    in float64.
    """

    def __init__(self, module, vocab: Sequence[str], eot: int, *, bos: int | None = None,
                 max_context: int | None = None, device=None):
        self.vocab, self.eot = _check_vocab(vocab, eot)
        if not callable(module):
            raise TypeError("module must be a callable torch module mapping (B, T) tokens to (B, T, V) logits")
        bos = self.eot if bos is None else validate.integer(bos, "bos", low=0, high=len(self.vocab), high_open=True)
        if max_context is not None:
            max_context = validate.integer(max_context, "max_context", low=1)
        self.module, self.bos = module, bos
        self.max_context, self.device = max_context, device

    def conditional(self, history, prompt=()):
        """softmax(logits[-1]) of the module on bos + prompt + history."""
        import torch

        history, prompt = check_tokens(history, self.V, "history"), check_tokens(prompt, self.V, "prompt")
        seq = [self.bos, *prompt, *history]
        if self.max_context is not None:
            seq = seq[-self.max_context:]
        idx = torch.tensor([seq], dtype=torch.long, device=self.device)
        with torch.no_grad():
            logits = self.module(idx)
        if isinstance(logits, (tuple, list)):
            logits = logits[0]
        if logits.shape[-1] != self.V:
            raise ValueError(f"module returned {logits.shape[-1]} logits per position, vocabulary has {self.V}")
        return torch.softmax(logits[0, -1].double(), dim=-1).cpu().numpy()


# --------------------------------------------------------------------------- chain rule
class WarpedModel(GAISystem):
    """``system`` decoded with a temperature and top-k: p'(y) ~ p(y)^(1/T) on the k likeliest tokens.

    Sampling ``system`` with :func:`sample` (temperature, top_k) draws exactly from this family.
    """

    def __init__(self, system: GAISystem, temperature: float = 1.0, top_k: int | None = None):
        _system(system)
        _check_warp(temperature, top_k)
        self.system, self.temperature, self.top_k = system, temperature, top_k
        self.vocab, self.eot = system.vocab, system.eot

    def conditional(self, history, prompt=()):
        """warp(p, T, k) of the wrapped system's conditional."""
        return warp(self.system.conditional(history, prompt), self.temperature, self.top_k)


def log_joint(system: GAISystem, history: Sequence[int], prompt: Sequence[int] = ()) -> float:
    """ln P_X(y_1 ... y_n) = sum_t ln p(y_t | X, y_<t)   (ch. 1, eq. hist-chain)."""
    history = check_tokens(history, _system(system).V, "history")
    if system.eot in history[:-1]:
        raise ValueError("history continues after end-of-text")
    total = 0.0
    for t, y in enumerate(history):
        p = system.next_distribution(history[:t], prompt)[y]
        if p == 0:
            return -math.inf
        total += math.log(p)
    return total


def enumerate_histories(system: GAISystem, max_len: int, prompt: Sequence[int] = (),
                        min_prob: float = 0.0) -> dict[tuple[int, ...], float]:
    """Every history of the family up to ``max_len`` tokens, with its probability.

    Complete histories (ending in eot, length <= max_len) and unfinished ones of
    length exactly ``max_len`` partition the sample space, so the values sum to 1
    (ch. 1, eq. hist-norm).  Branches with probability <= ``min_prob`` (in [0, 1]) are dropped.
    An enumeration that would visit more than ``MAX_HISTORIES`` histories (or read more than
    ``MAX_ENUMERATION_WORK`` of their tokens) is a ValueError naming max_len.
    """
    _system(system)
    max_len = validate.integer(max_len, "max_len", low=0)
    min_prob = validate.real(min_prob, "min_prob", low=0, high=1)
    prompt = check_tokens(prompt, system.V, "prompt")
    out: dict[tuple[int, ...], float] = {}
    frontier: list[tuple[tuple[int, ...], float]] = [((), 1.0)]
    visited = 0
    while frontier:
        hist, prob = frontier.pop()
        visited = _count_visit(visited, len(hist), "max_len", max_len)
        if len(hist) == max_len or (hist and hist[-1] == system.eot):
            out[hist] = prob
            continue
        p = system.next_distribution(hist, prompt)
        for y in np.nonzero(p > 0)[0]:
            q = prob * float(p[y])
            if q > min_prob:
                frontier.append((hist + (int(y),), q))
    return dict(sorted(out.items()))


def sample(system: GAISystem, n: int, seed: int, temperature: float = 1.0, top_k: int | None = None,
           max_len: int = 64, prompt: Sequence[int] = ()) -> list[tuple[int, ...]]:
    """``n`` histories drawn token by token from p^(1/temperature), optionally cut to the top-k tokens.

    Each history stops at eot (included) or after ``max_len`` tokens.
    """
    _system(system)
    n = validate.integer(n, "n", low=0, high=MAX_SAMPLES)
    max_len = validate.integer(max_len, "max_len", low=0, high=MAX_SAMPLES)
    temperature, top_k = _check_warp(temperature, top_k)
    prompt = check_tokens(prompt, system.V, "prompt")
    rng = np.random.default_rng(validate.seed(seed))
    out = []
    for _ in range(n):
        hist: tuple[int, ...] = ()
        while len(hist) < max_len and not (hist and hist[-1] == system.eot):
            p = warp(system.next_distribution(hist, prompt), temperature, top_k)
            hist += (int(rng.choice(system.V, p=p)),)
        out.append(hist)
    return out


def _count_visit(visited: tuple[int, int] | int, length: int, name: str, value: int) -> tuple[int, int]:
    """One more history (of ``length`` tokens) visited by an exact enumeration: (histories, work) so far;
    a ValueError naming ``name`` past MAX_HISTORIES histories or MAX_ENUMERATION_WORK."""
    count, work = (visited, visited) if isinstance(visited, int) else visited
    if count >= MAX_HISTORIES or work >= MAX_ENUMERATION_WORK:
        raise ValueError(f"{name} = {value}: the exact enumeration visits more than MAX_HISTORIES = {MAX_HISTORIES} "
                         f"histories (or reads more than {MAX_ENUMERATION_WORK} of their tokens); lower {name} "
                         "(or raise min_prob)")
    return count + 1, work + 1 + length


def _check_warp(temperature, top_k) -> tuple[float, int | None]:
    temperature = validate.real(temperature, "temperature", low=0, low_open=True)
    return temperature, None if top_k is None else validate.integer(top_k, "top_k", low=1)


def _system(system) -> "GAISystem":
    return validate.instance(system, "system", GAISystem, "a genphys.histories.GAISystem")


def warp(p: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """p_i^(1/T) restricted to the k most probable tokens, renormalised."""
    q = validate.finite_array(p, "p", ndim=1, empty=False)
    if q.min() < 0:
        raise ValueError(f"p must be non-negative, holds {q.min():.3g}")
    temperature, top_k = _check_warp(temperature, top_k)
    if top_k is not None and top_k < len(q):
        cut = np.sort(q)[-top_k]
        q = np.where(q >= cut, q, 0.0)
    with np.errstate(divide="ignore"):
        logq = np.where(q > 0, np.log(np.where(q > 0, q, 1.0)) / temperature, -np.inf)
    q = np.exp(logq - logq.max())
    return q / q.sum()


# --------------------------------------------------------------------------- checks
def normalisation_error(system: GAISystem, max_len: int, prompt: Sequence[int] = ()) -> float:
    """|sum_h P_X(h) - 1| over the histories of :func:`enumerate_histories` (ch. 1, eq. hist-norm)."""
    return abs(math.fsum(enumerate_histories(system, max_len, prompt).values()) - 1.0)


def kolmogorov_error(system: GAISystem, max_len: int, prompt: Sequence[int] = ()) -> float:
    """max_h |P(h) - sum_y P(h y)| over unfinished histories shorter than ``max_len``.

    Summing out the last token must give the shorter history's probability
    (ch. 1, eq. hist-kolmogorov); a system whose conditionals do not sum to 1 fails.
    The conditionals are used raw (unvalidated) so that the check can fail.
    """
    max_len = validate.integer(max_len, "max_len", low=0)
    prompt = check_tokens(prompt, _system(system).V, "prompt")
    worst, frontier, visited = 0.0, [((), 1.0)], 0
    while frontier:
        hist, prob = frontier.pop()
        visited = _count_visit(visited, len(hist), "max_len", max_len)
        if len(hist) >= max_len or (hist and hist[-1] == system.eot):
            continue
        p = np.asarray(system.conditional(hist, prompt), dtype=np.float64)
        children = prob * p
        worst = max(worst, abs(math.fsum(children) - prob))
        frontier.extend((hist + (int(y),), float(children[y])) for y in np.nonzero(p > 0)[0])
    return worst


def coarse_graining_error(system: GAISystem, max_len: int, position: int, prompt: Sequence[int] = ()) -> float:
    """Coarse-graining the intermediate token ``position`` into a proposition must add up (ch. 1, eq. hist-coarse).

    For each pattern y_<i * y_>i (token i = ``position`` left open, a later token
    fixed), the proposition's probability from the enumerated family equals
    sum_y P(y_<i y y_>i) recomputed by the chain rule for each value y.  A
    system whose conditionals depend on anything but the history fails.
    Returns the largest discrepancy.
    """
    position = validate.integer(position, "position", low=0)
    probs = enumerate_histories(system, max_len, prompt)
    fine: dict[tuple, float] = {}
    for h, p in probs.items():
        if len(h) > position + 1:
            key = h[:position] + (None,) + h[position + 1:]
            fine[key] = fine.get(key, 0.0) + p
    worst = 0.0
    for key, p_fine in fine.items():
        coarse = math.fsum(math.exp(log_joint(system, key[:position] + (y,) + key[position + 1:], prompt))
                           for y in range(system.V) if y != system.eot)
        worst = max(worst, abs(p_fine - coarse))
    return float(worst)


@dataclass(frozen=True)
class ChiSquare:
    """Result of :func:`chi_square_test`."""

    statistic: float
    dof: int
    p_value: float
    n: int


def chi_square_test(system: GAISystem, n: int, seed: int, max_len: int, prompt: Sequence[int] = (),
                    min_expected: float = 5.0) -> ChiSquare:
    """Pearson chi-square of ``n`` sampled histories against their exact probabilities.

    Histories with expected count below ``min_expected`` are pooled into one cell.
    """
    from scipy import stats

    min_expected = validate.real(min_expected, "min_expected", low=0, low_open=True)
    exact = enumerate_histories(system, max_len, prompt)
    counts: dict[tuple[int, ...], int] = {}
    for h in sample(system, n, seed, max_len=max_len, prompt=prompt):
        counts[h] = counts.get(h, 0) + 1
    obs, exp, pool_o, pool_e = [], [], 0, 0.0
    for h, p in exact.items():
        if n * p >= min_expected:
            obs.append(counts.get(h, 0))
            exp.append(n * p)
        else:
            pool_o += counts.get(h, 0)
            pool_e += n * p
    if pool_e > 0:
        obs.append(pool_o)
        exp.append(pool_e)
    if len(obs) < 2:
        raise ValueError(f"chi_square_test needs at least two cells with expected count >= min_expected = "
                         f"{min_expected:g}; raise n or max_len, or lower min_expected")
    exp_arr = np.asarray(exp) * (sum(obs) / sum(exp))
    stat, pval = stats.chisquare(obs, exp_arr)
    return ChiSquare(float(stat), len(obs) - 1, float(pval), n)


# --------------------------------------------------------------------------- propositions
Proposition = Callable[[tuple[int, ...]], bool]


def check_probabilities(probs, name: str = "probs", vocab_size: int | None = None) -> dict[tuple[int, ...], float]:
    """``probs`` - history (a tuple of token indices, each in ``[0, vocab_size)`` when given) to probability -
    as a dict of floats in [0, 1] whose total is at most 1 (within SUM_TOL); else a clear error naming ``name``."""
    if not isinstance(probs, Mapping):
        raise TypeError(f"{name} must be a mapping from histories (tuples of token indices) to probabilities, "
                        f"got {type(probs).__name__}")
    high = None if vocab_size is None else validate.integer(vocab_size, "vocab_size", low=1)
    out = {}
    for h, p in probs.items():
        if not isinstance(h, tuple):
            raise TypeError(f"{name} keys must be histories (tuples of token indices), got {type(h).__name__} {h!r}")
        for t in h:
            validate.integer(t, f"{name} key {h!r}: a token", low=0, high=high, high_open=True)
        out[h] = validate.real(p, f"{name}[{h!r}]", low=0, high=1)
    total = math.fsum(out.values())
    if total > 1 + SUM_TOL:
        raise ValueError(f"{name} sums to {total:.12g} > 1: not the probabilities of distinct histories")
    return out


def _check_proposition(proposition, name: str = "proposition") -> Proposition:
    if not callable(proposition):
        raise TypeError(f"{name} must be a callable predicate on histories, got {type(proposition).__name__}")
    return proposition


def proposition_probability(probs: Mapping[tuple[int, ...], float], proposition: Proposition,
                            vocab_size: int | None = None) -> float:
    """P(alpha) = sum_{h in alpha} P(h) for a history proposition alpha (a predicate on histories).

    ``probs`` maps histories to probabilities (:func:`enumerate_histories`): non-negative, at most 1 in
    total, tokens non-negative ints (below ``vocab_size`` when given); anything else is a clear error.
    """
    probs = check_probabilities(probs, "probs", vocab_size)
    _check_proposition(proposition)
    return math.fsum(p for h, p in probs.items() if proposition(h))


def occurs_before(first: int, second: int) -> Proposition:
    """The proposition "token ``first`` occurs, and before any ``second``" (e.g. the dog before the park)."""
    first, second = validate.integer(first, "first", low=0), validate.integer(second, "second", low=0)

    def prop(h: tuple[int, ...]) -> bool:
        if first not in h:
            return False
        return second not in h or h.index(first) < h.index(second)
    return prop


def class_operator(history: Sequence[int], vocab_size: int) -> list[np.ndarray]:
    """The classical class operator of a history: the time-ordered projectors |y_t><y_t| (ch. 1).

    Dense V x V matrices: ``vocab_size`` at most 4096 and len(history) V^2 at most 2^25 entries.
    """
    vocab_size = validate.integer(vocab_size, "vocab_size", low=1, high=4096)
    history = check_tokens(history, vocab_size, "history")
    if len(history) * vocab_size**2 > 2**25:
        raise ValueError(f"history of {len(history)} tokens with vocab_size {vocab_size}: the projectors exceed 2^25 entries")
    out = []
    for y in history:
        proj = np.zeros((vocab_size, vocab_size))
        proj[y, y] = 1.0
        out.append(proj)
    return out


def decoherence_functional(probs: Mapping[tuple[int, ...], float],
                           propositions: Sequence[Proposition]) -> np.ndarray:
    """D(alpha, beta) = sum_{h in alpha and beta} P(h): the classical decoherence functional (ch. 1, eq. hist-dfun).

    For an exclusive set of propositions it is diagonal with D(alpha, alpha) = P(alpha).
    """
    probs = check_probabilities(probs, "probs")
    if callable(propositions) or isinstance(propositions, (str, bytes)) or not isinstance(propositions, Sequence):
        raise TypeError("propositions must be a sequence of predicates on histories (wrap a single one in a list)")
    for k, prop in enumerate(propositions):
        _check_proposition(prop, f"propositions[{k}]")
    members = np.array([[bool(prop(h)) for h in probs] for prop in propositions], dtype=np.float64)
    members = members.reshape(len(propositions), len(probs))
    weights = np.fromiter(probs.values(), dtype=np.float64, count=len(probs))
    return (members * weights) @ members.T


# --------------------------------------------------------------------------- trees
@dataclass
class Node:
    """A node of the tree of histories: the history, its probability and its children."""

    history: tuple[int, ...]
    prob: float
    children: list["Node"] = field(default_factory=list)


def history_tree(system: GAISystem, depth: int, prompt: Sequence[int] = (), top_k: int | None = None,
                 min_prob: float = 0.0) -> Node:
    """The tree of histories up to ``depth`` tokens; each node keeps its ``top_k`` likeliest children."""
    depth = validate.integer(depth, "depth", low=0)
    top_k = None if top_k is None else validate.integer(top_k, "top_k", low=1)
    min_prob = validate.real(min_prob, "min_prob", low=0, high=1)
    prompt = check_tokens(prompt, _system(system).V, "prompt")
    root = Node((), 1.0)
    stack, visited = [root], 0
    while stack:
        node = stack.pop()
        visited = _count_visit(visited, len(node.history), "depth", depth)
        if len(node.history) >= depth or (node.history and node.history[-1] == system.eot):
            continue
        p = system.next_distribution(node.history, prompt)
        order = [int(y) for y in np.argsort(-p, kind="stable") if p[y] > 0]
        for y in order[:top_k]:
            if node.prob * p[y] > min_prob:
                child = Node(node.history + (y,), node.prob * float(p[y]))
                node.children.append(child)
                stack.append(child)
    return root


def plot_history_tree(system: GAISystem, root: Node, ax=None, title: str | None = None):
    """Draw a :func:`history_tree` left to right: edges labelled token and conditional, width ~ probability."""
    import matplotlib.pyplot as plt

    _system(system)
    validate.instance(root, "root", Node, "a histories.Node (from history_tree)")
    if title is not None:
        validate.text(title, "title")
    leaves: list[Node] = []

    def collect(node):
        if not node.children:
            leaves.append(node)
        for c in node.children:
            collect(c)

    collect(root)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, max(2.5, 0.22 * len(leaves))))
    ypos: dict[int, float] = {}

    def place(node) -> float:
        if not node.children:
            y = -leaves.index(node)
        else:
            y = float(np.mean([place(c) for c in node.children]))
        ypos[id(node)] = y
        return y

    place(root)

    def draw(node):
        x0, y0 = len(node.history), ypos[id(node)]
        for c in node.children:
            x1, y1 = len(c.history), ypos[id(c)]
            ax.plot([x0, x1], [y0, y1], color="0.35", lw=0.6 + 5 * c.prob, solid_capstyle="round")
            label = system.vocab[c.history[-1]].replace(EOT, "<eot>")
            ax.annotate(f"{label}  {c.prob / node.prob:.2f}", (x1, y1), xytext=(3, 2),
                        textcoords="offset points", fontsize=8)
            draw(c)

    draw(root)
    depth = max(len(leaf.history) for leaf in leaves)
    ax.set_xlim(-0.2, depth + 0.9)
    ax.set_xticks(range(depth + 1))
    ax.set_xlabel("token time t")
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax
