"""The linear recurrence psi_t = a_t psi_{t-1} + b_t three ways, side by side (chapter 7).

Forward + backward time of one layer's recurrence (N complex modes, batches of ``--tokens``
tokens) on one thread, for a constant multiplier (the dissipative family) and a time-varying
one (the selective family):

* ``chunked``  - ``genphys.lm.models.scan``: chunks run side by side from a zero state, carried
  across by log-space cumulative sums (the package's choice);
* ``transfer`` - a masked lower-triangular transfer matrix e^{L_j - L_i} per chunk (one product
  per chunk, O(T chunk N) work);
* ``fft``      - a causal convolution with the kernel a^t by FFT (O(T log T), S4D's way; constant only);
* ``demodulated`` - ``genphys.lm.models.scan_demodulated``: the fixed phase e^{i omega t} taken out, a real scan
  over 2N channels (time-varying modulus with a fixed phase, as every family of modes has; varying only).

Each line reports the median time and the largest deviation from ``models.scan_loop``
(float32 inputs, so deviations of order 1e-3 relative to states of size ~100 are rounding).
The last line is a JSON map ``{"<kind>/<T>": {candidate: ms}}``.

    python benchmarks/lm_scan.py [--contexts 256 1024 4096] [--modes 128] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

from genphys.lm.models import scan, scan_demodulated, scan_loop


def scan_transfer(log_a, b, chunk):
    """Within chunks: local_j = sum_{i<=j} e^{L_j - L_i} b_i, a masked (c x c) transfer per chunk and mode."""
    batch, length, modes = b.shape
    c = min(chunk, length)
    pad = (-length) % c
    n = (length + pad) // c
    b = F.pad(b, (0, 0, 0, pad)).view(batch, n, c, modes)
    if log_a.dim() == 1:
        cum = log_a * torch.arange(1, c + 1, dtype=log_a.real.dtype)[:, None]
    else:
        cum = F.pad(log_a, (0, 0, 0, pad)).view(batch, n, c, modes).cumsum(2)
    causal = torch.ones(c, c, dtype=torch.bool).tril()[:, :, None]
    transfer = torch.exp(torch.where(causal, cum[..., :, None, :] - cum[..., None, :, :], -math.inf))
    local = torch.einsum("jin,bkin->bkjn" if log_a.dim() == 1 else "bkjin,bkin->bkjn", transfer, b)
    if n > 1:
        ends = scan_transfer(cum[-1] if cum.dim() == 2 else cum[:, :, -1], local[:, :, -1], chunk)
        local = local + torch.exp(cum) * F.pad(ends[:, :-1], (0, 0, 1, 0))[:, :, None, :]
    return local.reshape(batch, n * c, modes)[:, :length]


def scan_fft(log_a, b, chunk=None):
    """psi = b * a^t (causal convolution along t) by FFT of length 2T; constant multipliers only."""
    length = b.shape[1]
    kernel = torch.exp(torch.arange(length, dtype=log_a.real.dtype)[:, None] * log_a[None, :])    # (T, N)
    spectrum = torch.fft.fft(kernel, n=2 * length, dim=0) * torch.fft.fft(b, n=2 * length, dim=1)
    return torch.fft.ifft(spectrum, dim=1)[:, :length]


def timed(f, log_a, b, repeats):
    out = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        y = f()
        (y.real.sum() + y.imag.sum()).backward()
        out.append(time.perf_counter() - t0)
        log_a.grad = b.grad = None
    return statistics.median(out[1:]) * 1e3


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--tokens", type=int, default=4096)
    parser.add_argument("--modes", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    results = {}
    for T in args.contexts:
        batch = max(1, args.tokens // T)
        b = torch.randn(batch, T, args.modes, dtype=torch.complex64, generator=gen).requires_grad_()
        for kind in ("constant", "varying"):
            shape = (args.modes,) if kind == "constant" else (batch, T, args.modes)
            omega = 3 * torch.rand(args.modes, generator=gen)              # a fixed phase per mode, as the families have
            log_a = torch.complex(-0.3 * torch.rand(shape, generator=gen), omega.expand(shape).contiguous())
            log_a.requires_grad_()
            with torch.no_grad():
                ref = scan_loop(log_a, b)
            cands = {f"chunked{c}": (lambda c: lambda: scan(log_a, b, c))(c) for c in (8, 16, 32)}
            cands.update({f"transfer{c}": (lambda c: lambda: scan_transfer(log_a, b, c))(c) for c in (8, 16)})
            if kind == "constant":
                cands["fft"] = lambda: scan_fft(log_a, b)
            else:
                cands.update({f"demodulated{c}": (lambda c: lambda: scan_demodulated(
                    log_a.real, log_a.imag[0, 0], b, c))(c) for c in (16, 32)})
            row = {}
            for name, f in cands.items():
                with torch.no_grad():
                    err = (f() - ref).abs().max().item()
                row[name] = round(timed(f, log_a, b, args.repeats), 2)
                print(f"{kind:8s} T={T:5d} {name:11s} {row[name]:8.2f} ms   max |diff| from the loop {err:.1e}", flush=True)
            results[f"{kind}/{T}"] = row
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
