"""genphys.lindblad against qutip.mesolve: side-by-side times at equal accuracy (chapter 3).

Problems: the book's own models - a driven, thermally damped oscillator in d Fock states and an
open XX spin chain (d = 2^sites), d = 2, 4, ..., 64 - and the standard quantum-optics models of
genphys.open_systems that nobody tuned the solver for (Jaynes-Cummings, dissipative Ising chain,
Kerr oscillator, optomechanics, Lambda atom in a cavity, superradiance, coupled cavities,
thermal qubits, parametric oscillator), each at several sizes from about 4 to 256 states.  Every
problem runs on a uniform grid over t in [0, 10]: 1,000 points for d <= 32, fewer for the largest
(GRID below: 2,000 at d <= 8 down to 100 at d > 128), so that the output stays dense but the
largest cases (an output of T d^2 numbers) stay modest; those also use fewer repeats.

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

``--max-dim D`` runs only the problems with at most D states (the full run takes a while).
``--save`` stores rows and summary as the artifact ``book/_artifacts/ch03-benchmark`` (with
provenance) that chapter 3 shows.

The table lists model, states, times, genphys s, qutip s, speed-up and error; then the worst case
and the median.  The last line printed is a JSON object with ``median_speedup_vs_qutip`` (QuTiP
time / genphys time, median over the single-problem cases), ``min_speedup_vs_qutip`` and
``max_abs_error`` (genphys against the reference).
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

from genphys import artifacts, lindblad, open_systems  # noqa: E402

TARGET = 1e-8
REPEATS = 3
T_MAX = 10.0
TIMES = np.linspace(0.0, T_MAX, 1000)            # the grid of the batched run
#: Time points by Hilbert-space dimension: (largest d, points), the first that fits.
GRID = [(8, 2000), (32, 1000), (64, 500), (128, 200), (10**9, 100)]
LADDER = [1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11]
OWN_DIMS = [2, 4, 8, 16, 32, 64]
CONFIG = {"time_points": int(TIMES.size), "t_max": T_MAX, "target": TARGET, "repeats": REPEATS,
          "dims": OWN_DIMS, "qutip_rtol_ladder": LADDER, "batched_problems": 64,
          "grid": GRID, "models": {name: list(sizes) for name, (_, sizes) in open_systems.MODELS.items()}}


def grid(d: int) -> np.ndarray:
    return np.linspace(0.0, T_MAX, next(points for top, points in GRID if d <= top))


def repeats(d: int) -> int:
    return REPEATS if d <= 32 else 2 if d <= 64 else 1


def problems(max_dim: int = 10**9):
    for d in OWN_DIMS:
        if d <= max_dim:
            yield lindblad.damped_oscillator(d, omega=1.0, kappa=0.2, n_thermal=0.1, drive=0.3)
    for sites in range(1, 7):
        if 2**sites <= max_dim:
            yield lindblad.spin_chain(sites, coupling=1.0, field=1.0, gamma=0.1, gamma_phi=0.05)
    for build, sizes in open_systems.MODELS.values():
        for size in sizes:
            system = build(size)
            if system.dim <= max_dim:
                yield system


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


def mesolve(system, rho0, rtol, times=TIMES):
    H = qutip.Qobj(system.H).to("csr")
    c_ops = [qutip.Qobj(c).to("csr") for c in system.c_ops]
    options = {"atol": rtol / 100, "rtol": rtol, "nsteps": 10**7, "store_states": True}
    result = qutip.mesolve(H, qutip.Qobj(rho0), times, c_ops, options=options)
    return np.stack([s.full() for s in result.states])


def auto_method(L, times) -> str:
    """The method ``evolve(..., method="auto")`` takes for this L and grid (as it decides)."""
    n = L.shape[0]
    if n > lindblad.DENSE_LIMIT:
        return lindblad.choose_method(n, uniform=True)
    norm_span = float(abs(L).sum(axis=0).max()) * float(times[-1] - times[0])
    return lindblad.choose_method(n, uniform=True, n_times=times.size, nnz=L.nnz, norm_span=norm_span)


HEADER = (f"{'model':<40}{'states':>7}{'times':>7}  {'method':<8}{'genphys s':>11}{'qutip s':>11}"
          f"{'speed-up':>10}{'error':>10}  qutip rtol")


def single_problem_rows(max_dim: int = 10**9):
    rows = []
    print(HEADER, flush=True)
    for system in problems(max_dim):
        d = system.dim
        times = grid(d)
        rho0 = initial_state(d)
        reference = mesolve(system, rho0, 1e-10, times)
        rtol = next(r for r in LADDER if np.abs(mesolve(system, rho0, r, times) - reference).max() <= TARGET)
        t_qutip, rho_q = best_time(lambda: mesolve(system, rho0, rtol, times), repeats(d))
        method = auto_method(system.liouvillian(sparse=True), times)

        def ours():
            # built dense while that is cheap (d^2 <= DENSE_MAX), sparse above; evolve converts where it must
            return lindblad.evolve(system.liouvillian(sparse=d * d > lindblad.DENSE_MAX), rho0, times)

        t_ours, rho = best_time(ours, repeats(d))
        rows.append({"problem": system.name, "d": d, "time_points": int(times.size), "method": method,
                     "qutip_rtol": rtol, "t_genphys_s": t_ours, "t_qutip_s": t_qutip, "speedup": t_qutip / t_ours,
                     "err_genphys": float(np.abs(rho - reference).max()),
                     "err_qutip": float(np.abs(rho_q - reference).max())})
        del rho, rho_q, reference
        r = rows[-1]
        print(f"{r['problem']:<40}{d:>7}{times.size:>7}  {method:<8}{t_ours:>11.4f}{t_qutip:>11.4f}"
              f"{r['speedup']:>10.2f}{r['err_genphys']:>10.1e}  {rtol:.0e}", flush=True)
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


def main(save: bool = False, max_dim: int = 10**9):
    start = time.perf_counter()
    torch.set_num_threads(1)
    print(f"genphys.lindblad vs qutip {qutip.__version__}: 100 to 2000 time points on t in [0, {T_MAX:g}], "
          f"target max abs error {TARGET:g}, BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}")
    rows = single_problem_rows(max_dim)
    batch = batched_row()
    speedups = [r["speedup"] for r in rows]
    worst = min(rows, key=lambda r: r["speedup"])
    print(f"worst: {worst['problem']} ({worst['d']} states, {worst['time_points']} times): "
          f"speed-up {worst['speedup']:.2f};  median speed-up {np.median(speedups):.2f} over {len(rows)} problems",
          flush=True)
    summary = {
        "median_speedup_vs_qutip": float(np.median(speedups)),
        "min_speedup_vs_qutip": float(worst["speedup"]),
        "worst_problem": f"{worst['problem']} d={worst['d']}",
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
    args = sys.argv[1:]
    main(save="--save" in args, max_dim=int(args[args.index("--max-dim") + 1]) if "--max-dim" in args else 10**9)
