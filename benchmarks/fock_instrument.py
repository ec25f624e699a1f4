"""genphys.fock: time to build and verify the instrument of a GAI system (chapter 2).

The system is a random second-order table over V tokens (``histories.TableModel``); the
instrument lives on the truncated Fock space F_N (sum_n V^n texts), with ``absorb_eot=False``
so that every text is a history.  "Verify" is :func:`genphys.fock.verify`: trace preservation
sum_k K_k^dag K_k = I and Born = chain rule for every history up to N.

Side by side in one run: the trace-preservation check with the sparse Kraus operators against
the same check with dense matrices (numpy), at sizes where dense still fits.  BLAS runs on one
thread for both, so that a shared machine's thread contention does not distort the ratio.
Each time is the best of REPEATS runs.

The last line printed is a JSON object: the build and verify times at V = 8, N = 6 and the
dense / sparse time ratios.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from genphys import channels, fock, histories  # noqa: E402

REPEATS = 3


def table(V: int, seed: int = 0) -> histories.TableModel:
    rng = np.random.default_rng(seed)
    return histories.TableModel(tuple(f"w{i}" for i in range(V - 1)) + ("<eot>",), V - 1,
                                rng.dirichlet(np.ones(V), size=(V, V)))


def best(fn):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def dense_trace_error(instr) -> float:
    dense = [k.toarray() for k in instr.kraus]
    total = sum(k.conj().T @ k for k in dense)
    return float(np.abs(total - np.diag(instr.domain.astype(float))).max())


def main() -> dict:
    summary = {}
    for V, N in ((4, 4), (4, 5)):
        instr = fock.instrument(table(V), N, absorb_eot=False)
        t_sparse, e_sparse = best(lambda: channels.trace_preservation_error(instr.kraus, instr.domain))
        t_dense, e_dense = best(lambda: dense_trace_error(instr))
        ratio = t_dense / t_sparse
        print(f"V={V} N={N} dim={instr.space.dim}: trace check sparse {t_sparse * 1e3:.2f} ms, "
              f"dense {t_dense * 1e3:.1f} ms, dense/sparse {ratio:.0f}x (errors {e_sparse:.1e}, {e_dense:.1e})")
        summary[f"dense_over_sparse_V{V}_N{N}"] = round(ratio, 1)
    system = table(8)
    t_build, instr = best(lambda: fock.instrument(system, 6, absorb_eot=False))
    t_verify, checks = best(lambda: fock.verify(instr))
    print(f"V=8 N=6 dim={instr.space.dim}: build {t_build:.2f} s, verify {t_verify:.2f} s "
          f"({checks['histories']} histories, Born error {checks['born_error']:.1e}, "
          f"trace error {checks['trace_error']:.1e})")
    summary.update({"v8_n6_dim": instr.space.dim, "v8_n6_build_s": round(t_build, 3),
                    "v8_n6_verify_s": round(t_verify, 3), "v8_n6_born_error": checks["born_error"],
                    "v8_n6_trace_error": checks["trace_error"]})
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
