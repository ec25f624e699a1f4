"""Token Fock space, and a language model realized as an open quantum system (chapter 2, ``book/02_fock``).

Texts are vectors of the full (Boltzmann) Fock space over the Hilbert space of
tokens ``H = l^2(V)``: ``|x_1 ... x_n> = x_1 (x) ... (x) x_n``, truncated at length
``N``.  Generating a token is a quantum instrument whose Kraus operators
``K_y = r*(y) G_y`` append the token ``y`` (right creation) with amplitude
``sqrt(p(y | h))``; the Born rule then reproduces the model's chain-rule
probabilities exactly (the chapter's representation theorem).

Conventions (the chapter's section "choices"):

* basis: the orthonormal basis ``{|y>}`` of ``l^2(V)``, one vector per token (not
  embedding vectors, which are not orthogonal);
* order: ``r*(f)`` appends on the right (reading order), ``l*(f)`` prepends;
  a text's index lists the shorter texts first, then lexicographic order with the
  first token most significant;
* truncation: creation out of length ``N`` gives 0.  The instrument adds one
  outcome, ``halt`` (index ``V``), whose Kraus operator is the projector onto the
  *edge*: texts of length ``N`` and, with ``absorb_eot=True``, texts whose last
  generated token is end-of-text.  The instrument is then trace preserving on the
  whole reached domain (every text reached from the prompt with positive
  probability), edge included.

Everything is ``scipy.sparse`` except the checks that say "tiny sizes only"
(Choi matrix, unitary completion, decoherence functionals).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import sparse

from genphys import channels, histories, validate
from genphys.config import one_torch_thread
from genphys.channels import DENSE_LIMIT

__all__ = ["MAX_DIM", "MAX_OPERATOR_DIM", "FockSpace", "creation", "annihilation", "number_operator", "below_edge",
           "cuntz_toeplitz_errors", "symmetric_dimension", "symmetrizer", "occupations", "positional_text",
           "Instrument", "instrument", "diagonal_operator", "choi_min_eigenvalue", "history_states",
           "born_probabilities", "born_probability", "chain_rule_probabilities", "decoherence_functional", "verify",
           "stinespring_isometry", "stinespring_unitary", "sample_by_environment", "chi_square_two_samples",
           "random_unitary", "record_free_decoherence", "interference", "compare_with_model", "total_variation"]

#: Largest Fock-space dimension: basis indices must fit in int64 (and sparse matrices in memory).
MAX_DIM = 2**62
#: Largest dimension of a space that vectors and (sparse, O(dim) storage) operators are built on.
MAX_OPERATOR_DIM = 2**24


# --------------------------------------------------------------------------------------------
# The truncated full Fock space
# --------------------------------------------------------------------------------------------

def _dimension(V: int, N: int) -> int:
    """sum_{n<=N} V^n, stopped as soon as it exceeds MAX_DIM (eq. ch2-fock-dim)."""
    if V == 1:
        return N + 1
    total, term = 0, 1
    for _ in range(N + 1):                      # at most 63 terms before MAX_DIM is passed
        total += term
        if total > MAX_DIM:
            break
        term *= V
    return total


@dataclass(frozen=True)
class FockSpace:
    """The full Fock space over ``C^V`` truncated at length ``N``: ``F_N = sum_{n=0}^{N} (C^V)^{(x) n}``.

    Dimension ``sum_n V^n`` (eq. ch2-fock-dim of chapter 2).
    """

    V: int
    N: int

    def __post_init__(self):
        V, N = validate.integer(self.V, "V", low=1), validate.integer(self.N, "N", low=0)
        object.__setattr__(self, "V", V)                 # Python ints: V**n never overflows
        object.__setattr__(self, "N", N)
        if _dimension(V, N) > MAX_DIM:
            raise ValueError(f"the Fock space of V = {V} tokens truncated at N = {N} has dimension "
                             f"sum_n V^n > {MAX_DIM:.3g}, more basis texts than can be indexed")

    @functools.cached_property
    def offsets(self) -> np.ndarray:
        """``offsets[n]`` = index of the first text of length ``n`` (``n = 0 .. N+1``)."""
        return np.concatenate([[0], np.cumsum([self.V**n for n in range(self.N + 1)])]).astype(np.int64)

    @property
    def dim(self) -> int:
        """``dim F_N = sum_{n<=N} V^n``."""
        return int(self.offsets[-1])

    @functools.cached_property
    def lengths(self) -> np.ndarray:
        """Length of every basis text, in index order (the spectrum of the number operator)."""
        return np.repeat(np.arange(self.N + 1), [self.V**n for n in range(self.N + 1)])

    def check_text(self, text: Sequence[int], name: str = "text") -> tuple[int, ...]:
        """``text`` as a tuple of token ids, or a clear error (wrong type, token out of range, too long)."""
        if isinstance(text, (str, bytes)) or not isinstance(text, (Sequence, np.ndarray)):
            raise TypeError(f"{name} must be a sequence of token ids, got {type(text).__name__}")
        out = tuple(validate.integer(x, f"{name}[{i}]") for i, x in enumerate(text))
        if len(out) > self.N:
            raise ValueError(f"{name} has length {len(out)}, longer than the truncation N = {self.N}")
        bad = [x for x in out if not 0 <= x < self.V]
        if bad:
            raise ValueError(f"{name} has token ids {bad} outside the vocabulary 0..{self.V - 1}")
        return out

    def index(self, text: Sequence[int]) -> int:
        """Basis index of ``|x_1 ... x_n>``: ``offset(n) + sum_i x_i V^{n-i}``."""
        text = self.check_text(text)
        local = 0
        for x in text:
            local = local * self.V + x
        return int(self.offsets[len(text)]) + local

    def text(self, index: int) -> tuple[int, ...]:
        """The text with basis index ``index`` (inverse of :meth:`index`)."""
        index = validate.integer(index, "index", low=0)
        if index >= self.dim:
            raise ValueError(f"index must be < dim = {self.dim}, got {index}")
        n = int(np.searchsorted(self.offsets, index, side="right")) - 1
        return tuple(int(d) for d in self.digits(np.array([index - self.offsets[n]]), n)[0])

    def digits(self, local: np.ndarray, n: int) -> np.ndarray:
        """Tokens of the length-``n`` texts with local indices ``local``: array ``(len(local), n)``."""
        powers = self.V ** np.arange(n - 1, -1, -1, dtype=np.int64)
        return (np.asarray(local, dtype=np.int64)[:, None] // powers) % self.V

    def texts(self, n: int) -> np.ndarray:
        """All ``V^n`` texts of length ``n`` in index order, as an array ``(V^n, n)``."""
        n = validate.integer(n, "n", low=0)
        if n > self.N:
            raise ValueError(f"n must be <= N = {self.N}, got {n}")
        return self.digits(np.arange(self.V**n), n)

    def state(self, text: Sequence[int]) -> np.ndarray:
        """The basis vector ``|x_1 ... x_n>`` (dense, complex)."""
        index = self.index(text)
        psi = np.zeros(_operator_space(self).dim, dtype=complex)
        psi[index] = 1.0
        return psi

    def vacuum(self) -> np.ndarray:
        """The vacuum ``|Omega>``: the empty text."""
        return self.state(())


def _space(space, name: str = "space") -> FockSpace:
    return validate.instance(space, name, FockSpace, "a genphys.fock.FockSpace")


def _operator_space(space: FockSpace, name: str = "space") -> FockSpace:
    """``space`` if vectors and operators on it fit (dim <= MAX_OPERATOR_DIM); else a ValueError naming V and N."""
    if space.dim > MAX_OPERATOR_DIM:
        raise ValueError(f"{name}: the Fock space of V = {space.V} tokens truncated at N = {space.N} has "
                         f"{space.dim:,} texts; vectors and operators on it are built up to MAX_OPERATOR_DIM = "
                         f"{MAX_OPERATOR_DIM:,}")
    return space


def _token_vector(space: FockSpace, f, name: str) -> np.ndarray:
    """A one-token vector ``f`` in ``C^V``: a token id, or an array of ``V`` amplitudes."""
    _space(space)
    if isinstance(f, (int, np.integer)) and not isinstance(f, bool):
        space.check_text([f], name)
        vec = np.zeros(space.V, dtype=complex)
        vec[int(f)] = 1.0
        return vec
    vec = validate.finite_array(f, name, dtype=complex, shape=(space.V,))
    return vec


def creation(space: FockSpace, f, side: str = "right") -> sparse.csr_matrix:
    """Right creation ``r*(f)|x> = |x f>`` or left creation ``l*(f)|x> = |f x>``; 0 out of length ``N``.

    Chapter 2, eq. ch2-creation.  ``f`` is a token id or a vector in ``C^V``.
    """
    _operator_space(_space(space))
    validate.one_of(side, "side", ("right", "left"))
    vec = _token_vector(space, f, "f")
    rows, cols, vals = [], [], []
    for n in range(space.N):
        local = np.arange(space.V**n, dtype=np.int64)
        for y in np.flatnonzero(vec):
            new = local * space.V + y if side == "right" else y * space.V**n + local
            rows.append(space.offsets[n + 1] + new)
            cols.append(space.offsets[n] + local)
            vals.append(np.full(local.size, vec[y]))
    if not rows:
        return sparse.csr_matrix((space.dim, space.dim), dtype=complex)
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(space.dim, space.dim))


def annihilation(space: FockSpace, f, side: str = "right") -> sparse.csr_matrix:
    """``r(f) = r*(f)^dag`` (removes the last token against ``<f|``), or ``l(f)`` (the first token)."""
    return creation(space, f, side).conj().T.tocsr()


def number_operator(space: FockSpace) -> sparse.csr_matrix:
    """``N_op |x_1..x_n> = n |x_1..x_n>`` (chapter 2, eq. ch2-number)."""
    _operator_space(_space(space))
    return sparse.diags(space.lengths.astype(float)).tocsr()


def below_edge(space: FockSpace) -> sparse.csr_matrix:
    """Projector onto texts shorter than ``N``: where creation does not fall off the truncation."""
    _operator_space(_space(space))
    return sparse.diags((space.lengths < space.N).astype(float)).tocsr()


def cuntz_toeplitz_errors(space: FockSpace, side: str = "right") -> dict:
    """Largest deviations from the Cuntz-Toeplitz relations on the truncated space (chapter 2, eq. ch2-cuntz).

    ``orthogonality``: ``max_{i,j} |r(e_i) r*(e_j) - delta_ij P_{<N}|``;
    ``completeness``: ``|sum_y r*(e_y) r(e_y) - (I - |Omega><Omega|)|``.  Both vanish exactly.
    """
    _space(space)
    validate.one_of(side, "side", ("right", "left"))
    cre = [creation(space, y, side) for y in range(space.V)]
    below = below_edge(space)
    orth = max(abs(ci.conj().T @ cj - (i == j) * below).max() if space.N else 0.0
               for i, ci in enumerate(cre) for j, cj in enumerate(cre))
    total = sum((c @ c.conj().T for c in cre), sparse.csr_matrix((space.dim, space.dim)))
    not_vacuum = sparse.diags((space.lengths > 0).astype(float))
    return {"orthogonality": float(orth), "completeness": float(abs(total - not_vacuum).max())}


# --------------------------------------------------------------------------------------------
# The symmetric (bosonic) Fock space
# --------------------------------------------------------------------------------------------

def symmetric_dimension(V: int, N: int) -> int:
    """``dim`` of the symmetric Fock space: ``sum_{n<=N} C(V+n-1, n)`` (multisets of tokens) = ``C(V + N, N)``.

    Exact (a Python int) up to ``MAX_DIM``; a larger dimension is a ValueError naming V and N.
    """
    V, N = validate.integer(V, "V", low=1), validate.integer(N, "N", low=0)
    if min(V, N) > 200 or math.comb(V + N, min(V, N)) > MAX_DIM:    # C(400, 200) > 1e119 already
        raise ValueError(f"the symmetric Fock space of V = {V} tokens truncated at N = {N} has dimension "
                         f"C(V + N, N) > MAX_DIM = {MAX_DIM:.3g}")
    return math.comb(V + N, N)


def symmetrizer(space: FockSpace) -> sparse.csr_matrix:
    """``P_S |x_1..x_n> = (1/n!) sum_sigma |x_sigma(1) .. x_sigma(n)>`` (chapter 2, eq. ch2-symmetrizer).

    Built text by text from the distinct rearrangements; meant for small ``V^N`` (at most ``DENSE_LIMIT`` texts).
    """
    if _space(space).dim > DENSE_LIMIT:
        raise ValueError(f"space has {space.dim} texts; the symmetrizer is built text by text for at most {DENSE_LIMIT}")
    rows, cols, vals = [], [], []
    for n in range(space.N + 1):
        for local, text in enumerate(space.texts(n)):
            col = space.offsets[n] + local
            for perm, count in Counter(itertools.permutations(text.tolist())).items():
                rows.append(space.index(perm))
                cols.append(col)
                vals.append(count / math.factorial(n))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(space.dim, space.dim))


def occupations(text: Sequence[int], V: int) -> tuple[int, ...]:
    """Occupation numbers ``(n_0, .., n_{V-1})``: the label of the symmetric state of ``text``."""
    V = validate.integer(V, "V", low=1)
    if isinstance(text, (str, bytes)) or not isinstance(text, (Sequence, np.ndarray)):
        raise TypeError(f"text must be a sequence of token ids, got {type(text).__name__}")
    counts = np.bincount(np.asarray(FockSpace(V, len(text)).check_text(text), dtype=np.int64), minlength=V)
    return tuple(int(c) for c in counts)


def positional_text(text: Sequence[int], V: int, N: int) -> tuple[int, ...]:
    """Fold positions into the token vectors: ``x_i -> e_{x_i} (x) e_i`` in ``C^V (x) C^N`` (id ``x_i N + i``)."""
    text = FockSpace(V, N).check_text(text)
    return tuple(x * N + i for i, x in enumerate(text))


# --------------------------------------------------------------------------------------------
# Instruments: Kraus operators, trace preservation, complete positivity
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Instrument:
    """A quantum instrument ``Phi_k(rho) = K_k rho K_k^dag`` on a truncated Fock space, one outcome per token + halt.

    ``kraus[k]`` for ``k < V`` creates token ``k``; ``kraus[V]`` (halt) acts on the edge.
    ``domain`` marks the texts the instrument is defined on (those reached from the
    prompt); it must be trace preserving there: ``sum_k K_k^dag K_k = P_domain``.
    ``conditionals`` maps a text index to the model's ``p(. | X, h)`` used to build it.
    """

    space: FockSpace
    kraus: tuple
    domain: np.ndarray
    prompt: tuple = ()
    conditionals: dict | None = None
    vocab: tuple | None = None
    tol: float = 1e-10

    def __post_init__(self):
        d = _space(self.space).dim
        if isinstance(self.kraus, np.ndarray) or sparse.issparse(self.kraus) or not isinstance(self.kraus, Sequence):
            raise TypeError("kraus must be a sequence of V + 1 operators (one per token, then halt)")
        object.__setattr__(self, "prompt", self.space.check_text(self.prompt, "prompt"))
        if self.conditionals is not None:
            validate.instance(self.conditionals, "conditionals", dict, "a dict or None")
        if self.vocab is not None and (isinstance(self.vocab, str) or not all(isinstance(v, str) for v in self.vocab)):
            raise TypeError("vocab must be a sequence of token names (str) or None")
        if len(self.kraus) != self.space.V + 1:
            raise ValueError(f"kraus must hold V + 1 = {self.space.V + 1} operators (one per token, then halt), "
                             f"got {len(self.kraus)}")
        for k, op in enumerate(self.kraus):
            if op.shape != (d, d):
                raise ValueError(f"kraus[{k}] has shape {op.shape}, expected ({d}, {d}) for this Fock space")
        if self.vocab is not None and len(self.vocab) != self.space.V:
            raise ValueError(f"vocab has {len(self.vocab)} tokens but the Fock space has V = {self.space.V}")
        if np.asarray(self.domain).shape != (d,) or np.asarray(self.domain).dtype != bool:
            raise ValueError(f"domain must be a boolean mask of shape ({d},)")
        validate.real(self.tol, "tol", low=0)
        err = channels.trace_preservation_error(self.kraus, self.domain)
        validate.within_tolerance(err, self.tol, "kraus is not trace preserving on its domain (|sum K^dag K - P|)")

    @property
    def halt(self) -> int:
        """The outcome index of ``halt``: ``V``."""
        return self.space.V

    @property
    def initial_state(self) -> np.ndarray:
        """``|X>``: the prompt's text, whose projector is ``rho_X``."""
        return self.space.state(self.prompt)


def _prompt_block(space: FockSpace, prompt: tuple, n: int) -> np.ndarray:
    """Indices of the length-``n`` texts that start with ``prompt``."""
    m = len(prompt)
    code = space.index(prompt) - space.offsets[m]
    return space.offsets[n] + code * space.V ** (n - m) + np.arange(space.V ** (n - m), dtype=np.int64)


def _check_system(system, name: str = "system"):
    return validate.instance(system, name, histories.GAISystem, "a genphys.histories.GAISystem")


def instrument(system, N: int, prompt: Sequence[int] = (), absorb_eot: bool = True) -> Instrument:
    """The instrument of a GAI system: ``K_y = r*(y) G_y``, ``G_y = sum_h sqrt(p(y|X,h)) |X h><X h|`` (eq. ch2-kraus).

    ``system`` follows :class:`genphys.histories.GAISystem` (``vocab``, ``eot``,
    ``conditional``).  The space holds prompt + generated text up to length ``N``.  The
    domain is the set of texts reached from ``|X>`` with positive probability (the
    conditionals are asked only there); on the edge of the domain (length ``N``, and
    finished texts with ``absorb_eot``) only ``halt`` acts.
    """
    _check_system(system)
    absorb_eot = validate.flag(absorb_eot, "absorb_eot")
    space = _operator_space(FockSpace(len(system.vocab), validate.integer(N, "N", low=1)), "N")
    prompt = space.check_text(prompt, "prompt")
    if len(prompt) >= space.N:
        raise ValueError(f"prompt has length {len(prompt)}; N = {space.N} leaves no room to generate")
    domain = np.zeros(space.dim, dtype=bool)
    conditionals = {}
    reached = [space.index(prompt)]
    for n in range(len(prompt), space.N + 1):
        domain[reached] = True
        if n == space.N:
            break
        children = []
        for i in reached:
            h = space.digits(np.array([i - space.offsets[n]]), n)[0, len(prompt):]
            if absorb_eot and h.size and h[-1] == system.eot:
                continue
            conditionals[i] = system.next_distribution(h.tolist(), prompt)
            local = (i - space.offsets[n]) * space.V + np.flatnonzero(conditionals[i] > 0)
            children.extend((space.offsets[n + 1] + local).tolist())
        reached = children
    active = np.array(sorted(conditionals), dtype=np.int64)
    table = np.array([conditionals[i] for i in active]).reshape(len(active), space.V)
    kraus = [(creation(space, y) @ diagonal_operator(space.dim, active, np.sqrt(table[:, y]))).tocsr() for y in range(space.V)]
    edge = domain.copy()
    edge[active] = False
    kraus.append(sparse.diags(edge.astype(float)).tocsr())
    return Instrument(space, tuple(kraus), domain, prompt, conditionals, vocab=tuple(system.vocab))


def diagonal_operator(dim: int, where: np.ndarray, values: np.ndarray) -> sparse.csr_matrix:
    """The sparse diagonal matrix with ``values`` at the positions ``where`` (distinct indices in ``[0, dim)``)."""
    dim = validate.integer(dim, "dim", low=0, high=MAX_OPERATOR_DIM)
    where = histories.token_array(where, max(dim, 1), "where") if dim else np.zeros(0, dtype=np.int64)
    values = validate.finite_array(values, "values", dtype=complex, shape=(len(where),))
    if not np.any(values.imag):
        values = values.real
    return sparse.csr_matrix((values, (where, where)), shape=(dim, dim))


def _instrument(instr, name: str = "instr") -> Instrument:
    return validate.instance(instr, name, Instrument, "a genphys.fock.Instrument")


def choi_min_eigenvalue(instr: Instrument) -> float:
    """Smallest eigenvalue over the Choi matrices of every outcome map ``Phi_k`` (>= -1e-12 means CP)."""
    _instrument(instr)
    with one_torch_thread():
        return float(min(np.linalg.eigvalsh(channels.kraus_to_choi([k]))[0] for k in instr.kraus))


# --------------------------------------------------------------------------------------------
# Born rule = chain rule; the decoherence functional
# --------------------------------------------------------------------------------------------

def history_states(instr: Instrument, length: int) -> tuple[np.ndarray, sparse.csc_matrix]:
    """All token histories ``h`` of ``length`` and the columns ``C_h |X> = K_{y_L} .. K_{y_1} |X>``.

    Returns ``(histories (V^L, L), states (dim, V^L))`` in text order (first token
    most significant); each column is computed by applying the Kraus operators, all
    histories of one length at once.
    """
    _instrument(instr)
    length = validate.integer(length, "length", low=0)
    if len(instr.prompt) + length > instr.space.N:
        raise ValueError(f"length {length} + prompt {len(instr.prompt)} exceeds the truncation N = {instr.space.N}")
    hist = np.zeros((1, 0), dtype=np.int64)
    states = sparse.csc_matrix(instr.initial_state.reshape(-1, 1))
    V = instr.space.V
    for _ in range(length):
        m = states.shape[1]
        order = (np.arange(m * V) % V) * m + np.arange(m * V) // V  # text order: old history, then y
        states = sparse.hstack([instr.kraus[y] @ states for y in range(V)]).tocsc()[:, order]
        hist = np.vstack([np.column_stack([hist, np.full(len(hist), y)]) for y in range(V)])[order]
    return hist, states


def born_probabilities(instr: Instrument, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``P(h) = Tr[Phi_{y_L} .. Phi_{y_1}(rho_X)] = |C_h |X>|^2`` for every history of ``length`` (eq. ch2-born)."""
    hist, states = history_states(instr, length)
    return hist, np.asarray(abs(states).power(2).sum(axis=0)).ravel()


def born_probability(instr: Instrument, history: Sequence[int]) -> float:
    """``Tr[Phi_{y_L}( .. Phi_{y_1}(rho_X))]`` for one history, with the density matrix ``rho_X = |X><X|`` (sparse)."""
    history = _instrument(instr).space.check_text(history, "history")
    if len(instr.prompt) + len(history) > instr.space.N:
        raise ValueError(f"history has length {len(history)}; with the prompt it exceeds N = {instr.space.N}")
    x = sparse.csc_matrix(instr.initial_state.reshape(-1, 1))
    rho = x @ x.conj().T
    for y in history:
        rho = instr.kraus[y] @ rho @ instr.kraus[y].conj().T
    return float(rho.diagonal().sum().real)


def chain_rule_probabilities(instr: Instrument, length: int) -> np.ndarray:
    """``P(h) = prod_t p(y_t | X, y_<t)`` (chapter 1's chain rule) for all histories of ``length``, in text order.

    Products of the conditionals the instrument was built from, without any operator.
    """
    space, m = _instrument(instr).space, len(instr.prompt)
    length = validate.integer(length, "length", low=0, high=space.N - m)
    if instr.conditionals is None:
        raise ValueError("instr was built without its conditionals (build it with fock.instrument)")
    prob = np.ones(1)
    for t in range(length):
        idx = _prompt_block(space, instr.prompt, m + t)
        cond = np.array([instr.conditionals.get(int(i), np.zeros(space.V)) for i in idx])  # (V^t, V)
        prob = (prob[:, None] * cond).ravel()
    return prob


def decoherence_functional(instr: Instrument, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``d(h, h') = Tr[C_h rho_X C_{h'}^dag] = <X| C_{h'}^dag C_h |X>`` over histories of ``length`` (eq. ch2-decoherence)."""
    hist, states = history_states(instr, length)
    if len(hist) > DENSE_LIMIT:
        raise ValueError(f"the decoherence functional is dense: {len(hist)} histories > {DENSE_LIMIT}")
    return hist, (states.T @ states.conj()).toarray()


def verify(instr: Instrument) -> dict:
    """Every sparse check of the instrument: trace preservation and Born = chain rule for all histories.

    Returns the errors, the number of histories and the largest Born-versus-model error.
    """
    _instrument(instr)
    out = {"trace_error": channels.trace_preservation_error(instr.kraus, instr.domain), "histories": 0, "born_error": 0.0}
    for length in range(instr.space.N - len(instr.prompt) + 1):
        hist, born = born_probabilities(instr, length)
        reference = chain_rule_probabilities(instr, length)
        out["histories"] += len(hist)
        out["born_error"] = max(out["born_error"], float(np.max(np.abs(born - reference))))
        out[f"total_{length}"] = float(born.sum())
    return out


# --------------------------------------------------------------------------------------------
# Stinespring dilation and sampling by measuring the environment
# --------------------------------------------------------------------------------------------

def stinespring_isometry(instr: Instrument) -> sparse.csc_matrix:
    """``W = sum_k K_k (x) |k>_E`` from the system to system (x) environment (``E = V + 1``; eq. ch2-stinespring).

    ``W^dag W = sum_k K_k^dag K_k = P_domain``; row ``i E + k`` is ``|i> (x) |k>_E``.
    """
    _instrument(instr)
    E = len(instr.kraus)
    return sum((sparse.kron(k, sparse.csc_matrix(([1.0], ([j], [0])), shape=(E, 1))) for j, k in
                enumerate(instr.kraus)), sparse.csc_matrix((instr.space.dim * E, instr.space.dim))).tocsc()


def stinespring_unitary(instr: Instrument) -> np.ndarray:
    """A unitary ``U`` on system (x) environment with ``U (|psi> (x) |0>_E) = W |psi>`` on the domain (tiny sizes).

    The remaining columns complete an orthonormal basis (``scipy.linalg.null_space``).
    """
    _instrument(instr)
    from scipy.linalg import null_space

    W = stinespring_isometry(instr)
    d, E = instr.space.dim, len(instr.kraus)
    if d * E > DENSE_LIMIT:
        raise ValueError(f"stinespring_unitary is dense: dim (x) E = {d * E} > {DENSE_LIMIT}")
    U = np.zeros((d * E, d * E), dtype=complex)
    used = np.flatnonzero(instr.domain) * E
    U[:, used] = W.toarray()[:, instr.domain]
    free = np.setdiff1d(np.arange(d * E), used)
    with one_torch_thread():
        U[:, free] = null_space(U[:, used].conj().T)
    return U


def sample_by_environment(instr: Instrument, n: int, seed: int) -> list[tuple[int, ...]]:
    """Sample ``n`` histories by applying ``W`` and measuring the environment in ``{|k>_E}`` until ``halt``.

    Outcome ``k`` has probability ``|(I (x) <k|) W psi|^2 = |K_k psi|^2`` and leaves
    ``K_k psi / |K_k psi|``; the system stays a basis text (times a phase), so the
    step reads one column of ``W``.
    """
    _instrument(instr)
    n = validate.integer(n, "n", low=0, high=histories.MAX_SAMPLES)
    rng = np.random.default_rng(validate.seed(seed))
    W, E = stinespring_isometry(instr), len(instr.kraus)
    start = instr.space.index(instr.prompt)
    out = []
    for _ in range(n):
        i, history = start, []
        while True:
            col = W[:, [i]]
            probs = np.abs(col.data) ** 2
            row = col.indices[rng.choice(probs.size, p=probs / probs.sum())]
            i, k = divmod(int(row), E)
            if k == instr.halt:
                break
            history.append(k)
        out.append(tuple(history))
    return out


def chi_square_two_samples(a: Sequence, b: Sequence, min_expected: float = 5.0) -> dict:
    """Chi-square test that two samples of histories come from one distribution (rare outcomes pooled).

    Categories whose pooled expected count is below ``min_expected`` are merged into one
    bin; returns ``statistic``, ``dof`` and ``p_value`` (``scipy.stats.chi2_contingency``).
    """
    from scipy.stats import chi2_contingency

    for name, sample in (("a", a), ("b", b)):
        if isinstance(sample, (str, bytes)) or not isinstance(sample, (Sequence, np.ndarray)) or not len(sample):
            raise TypeError(f"{name} must be a non-empty sequence of histories (sequences of token ids)")
        for h in sample:
            if isinstance(h, (str, bytes)) or not isinstance(h, (Sequence, np.ndarray)):
                raise TypeError(f"{name} must hold histories (sequences of token ids), got {type(h).__name__}")
    min_expected = validate.real(min_expected, "min_expected", low=0, low_open=True)
    ca, cb = Counter(map(tuple, a)), Counter(map(tuple, b))
    keys = sorted(set(ca) | set(cb))
    table = np.array([[ca[k] for k in keys], [cb[k] for k in keys]], dtype=float)
    expected = table.sum(axis=0) * min(table.sum(axis=1)) / table.sum()
    common, rare = table[:, expected >= min_expected], table[:, expected < min_expected].sum(axis=1, keepdims=True)
    if rare.sum() > 0:
        common = np.hstack([common, rare])
    if common.shape[1] < 2:
        raise ValueError(f"chi_square_two_samples needs at least two categories of a and b with expected count >= "
                         f"min_expected = {min_expected:g}")
    stat, p, dof, _ = chi2_contingency(common, correction=False)
    return {"statistic": float(stat), "dof": int(dof), "p_value": float(p)}


# --------------------------------------------------------------------------------------------
# The record-free contrast
# --------------------------------------------------------------------------------------------

def random_unitary(V: int, seed: int) -> np.ndarray:
    """A Haar-random unitary on ``C^V`` (``scipy.stats.unitary_group``)."""
    from scipy.stats import unitary_group

    return unitary_group.rvs(validate.integer(V, "V", low=2, high=DENSE_LIMIT), random_state=validate.seed(seed))


def record_free_decoherence(U: np.ndarray, psi0: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Decoherence functional of a record-free model: state in ``C^V``, ``psi -> P_y U psi`` per token (eq. ch2-recordfree).

    ``C_h = P_{y_L} U .. P_{y_1} U``; ``d(h, h') = <psi0| C_{h'}^dag C_h |psi0>``.
    """
    U = validate.square_matrix(U, "U")
    V = U.shape[0]
    if V == 0:
        raise ValueError("U must not be empty")
    validate.within_tolerance(float(np.abs(U.conj().T @ U - np.eye(V)).max()), 1e-10, "U must be unitary")
    psi0 = validate.finite_array(psi0, "psi0", dtype=complex, shape=(V,))
    validate.within_tolerance(abs(float(np.linalg.norm(psi0)) - 1), 1e-10, "psi0 must be a unit vector")
    length = validate.integer(length, "length", low=0, high=DENSE_LIMIT)
    if V ** min(length, 64) > DENSE_LIMIT:
        raise ValueError(f"{V}^{length} histories exceed {DENSE_LIMIT}")
    hist = np.array(list(itertools.product(range(V), repeat=length)), dtype=np.int64).reshape(-1, length)
    states = np.empty((V, len(hist)), dtype=complex)
    for col, h in enumerate(hist):
        psi = psi0
        for y in h:
            psi = U @ psi
            psi = np.where(np.arange(V) == y, psi, 0)
        states[:, col] = psi
    return hist, states.T @ states.conj()


def interference(d: np.ndarray) -> float:
    """Size of the off-diagonal part of a decoherence functional: ``max_{h != h'} |d(h, h')|``."""
    d = validate.square_matrix(d, "d")
    return float(np.abs(d - np.diag(np.diag(d))).max()) if d.size else 0.0


def compare_with_model(instr: Instrument, system) -> dict:
    """Born probabilities against chapter 1's exact enumeration of ``system`` (``histories.enumerate_histories``).

    Every history of the sample space up to the truncation (finished ones and those
    of the largest length); ``vocab`` must be the instrument's.  Returns the largest
    absolute error and the arrays compared.
    """
    _instrument(instr)
    _check_system(system)
    if instr.vocab is not None and tuple(system.vocab) != tuple(instr.vocab):
        raise ValueError(f"system vocab {tuple(system.vocab)[:6]}... does not match the instrument's "
                         f"{tuple(instr.vocab)[:6]}...")
    if len(system.vocab) != instr.space.V:
        raise ValueError(f"system has V = {len(system.vocab)} tokens, the instrument's Fock space V = {instr.space.V}")
    exact = histories.enumerate_histories(system, instr.space.N - len(instr.prompt), instr.prompt)
    born = np.array([born_probability(instr, h) for h in exact]) if len(exact) <= 2000 else None
    if born is None:
        by_length = {}
        for h in exact:
            by_length.setdefault(len(h), []).append(h)
        born_map = {}
        for length, hs in by_length.items():
            hist, probs = born_probabilities(instr, length)
            local = dict(zip(map(tuple, hist.tolist()), probs))
            born_map.update({h: local[h] for h in hs})
        born = np.array([born_map[h] for h in exact])
    model = np.array(list(exact.values()))
    return {"histories": list(exact), "born": born, "model": model,
            "max_error": float(np.max(np.abs(born - model))) if len(model) else 0.0}


def total_variation(p: dict, q: dict) -> float:
    """``TV(P, Q) = 1/2 sum_h |P(h) - Q(h)|`` over the union of two dictionaries of history probabilities."""
    p, q = histories.check_probabilities(p, "p"), histories.check_probabilities(q, "q")
    return 0.5 * float(sum(abs(p.get(h, 0.0) - q.get(h, 0.0)) for h in set(p) | set(q)))
