"""Throughput and memory of every chapter-7 family against the transformer at equal parameters (chapter 7).

For each context length T (256 ... 4096), side by side in one process, interleaved, for every
family of ``genphys.lm.models.KINDS`` and a *no-mixing* reference (the same blocks with the sequence
mixing removed and the MLP widened to the same parameter count: the speed no mixer at this size can
beat, since every parameter still costs its matrix product per token):

* training tokens/s - forward + backward + AdamW step on batches of ``--tokens`` tokens (batch = tokens / T);
* training activation memory - bytes of the tensors autograd saves for the backward pass
  (device-independent), and on CUDA also the peak allocated memory;
* generation tokens/s and memory per sequence - one token at a time after a context of T tokens:
  the recurrent state (fixed size) against the transformer's key/value cache (grows with T).

Prints a table and every family's ratio to the transformer; the last line is a JSON object mapping
each context length to the training tokens/s ratio (dissipative / transformer).  On CUDA the step
runs under bf16 autocast and ``--peak-tflops`` (the GPU's dense bf16 peak) gives the model FLOPs
utilisation, with the FLOPs per token of ``genphys.lm.train.flops_per_token`` (the count chapter 7's
estimates and the comparison's FLOPs axis use).

    python benchmarks/lm_throughput.py [--contexts 256 512 1024 2048 4096] [--repeats 3] [--threads 1] [--save]
"""

from __future__ import annotations

import argparse
import json
import time

from dataclasses import replace

import torch

from genphys import config
from genphys.lm.models import KINDS, LM, ModelConfig, build_model, count_params, matched_configs
from genphys.lm.train import flops_per_token

ARTIFACT = "ch07-throughput"


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def saved_bytes(model, idx) -> int:
    """Bytes autograd keeps for the backward pass of one forward (the training activations)."""
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(idx)
    return total


class NoMixing(torch.nn.Module):
    """A block's sequence mixing removed: contributes nothing, costs nothing."""

    def forward(self, x, sequential=False):
        return torch.zeros_like(x)


def no_mixing_model(cfg: ModelConfig, target: int) -> LM:
    """The blocks without sequence mixing, the MLP widened so that the parameter count is ``target``."""
    per_unit = 3 * cfg.d_model * cfg.n_layers
    mixing = sum(p.numel() for b in build_model("transformer", cfg).blocks for p in b.mix.parameters())
    base = count_params("transformer", cfg) - mixing - cfg.hidden * per_unit
    model = build_model("transformer", replace(cfg, mlp_hidden=round((target - base) / per_unit)))
    for block in model.blocks:
        block.mix = NoMixing()
    model.kind = "no_mixing"
    return model


def train_step_time(model, opt, idx, device) -> float:
    _sync(device)
    t0 = time.perf_counter()
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits = model(idx[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), idx[:, 1:].flatten())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    _sync(device)
    return time.perf_counter() - t0


def state_bytes(state) -> int:
    return sum(v.numel() * v.element_size() for s in state for v in s.values() if isinstance(v, torch.Tensor))


@torch.no_grad()
def generation(model, context: int, steps: int, device) -> tuple[float, int]:
    """Tokens/s of one sequence generating ``steps`` tokens after ``context`` tokens, and its state bytes."""
    state = model.init_state(1)
    if model.kind == "no_mixing":
        return float("nan"), 0
    if model.kind == "transformer":     # a filled cache of the right size (values do not change the cost)
        h, d = model.cfg.n_heads, model.cfg.d_model // model.cfg.n_heads
        for s in state:
            s["k"] = torch.randn(1, h, context, d, device=device)
            s["v"] = torch.randn(1, h, context, d, device=device)
            s["t"] = context
    else:                               # the recurrent state after any context has the same size
        _, state = model.step(torch.zeros(1, dtype=torch.long, device=device), state)
    tok = torch.zeros(1, dtype=torch.long, device=device)
    _, state = model.step(tok, state)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        _, state = model.step(tok, state)
    _sync(device)
    return steps / (time.perf_counter() - t0), state_bytes(state)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--tokens", type=int, default=4096, help="tokens per training batch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gen-steps", type=int, default=32)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--chunk", type=int, default=ModelConfig.chunk, help="chunk of the scan and linear attention")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--peak-tflops", type=float, default=None, help="the GPU's dense bf16 peak, for MFU")
    parser.add_argument("--save", action="store_true", help="store the result as the artifact ch07-throughput")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = config.device()
    base = ModelConfig(vocab_size=4096, d_model=args.d_model, n_layers=args.layers, n_modes=args.d_model // 2,
                       n_heads=4, d_feature=16, chunk=args.chunk)
    cfgs = matched_configs(base, kinds=args.kinds)
    models = {k: build_model(k, cfgs[k]).to(device) for k in args.kinds}
    models["no_mixing"] = no_mixing_model(base, count_params("dissipative", base)).to(device)
    kinds = list(models)
    opts = {k: torch.optim.AdamW(m.parameters(), lr=1e-4) for k, m in models.items()}
    print(f"device={device} threads={torch.get_num_threads()}  params: " + ", ".join(f"{k}={m.num_params():,}" for k, m in models.items()))
    rows, ratios = [], {}
    for T in args.contexts:
        batch = max(1, args.tokens // T)
        idx = torch.randint(0, base.vocab_size, (batch, T + 1), device=device)
        times = {k: [] for k in kinds}
        for k in kinds:                                               # warm-up
            train_step_time(models[k], opts[k], idx, device)
        for _ in range(args.repeats):                                 # interleaved, side by side
            for k in kinds:
                times[k].append(train_step_time(models[k], opts[k], idx, device))
        row = {"context": T, "batch": batch}
        for k in kinds:
            row[f"{k}_train_tok_s"] = batch * T / min(times[k])     # the fastest repeat: other load only adds time
            row[f"{k}_act_MB"] = saved_bytes(models[k], idx[:, :-1]) / 2**20
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
                train_step_time(models[k], opts[k], idx, device)
                row[f"{k}_peak_MB"] = torch.cuda.max_memory_allocated() / 2**20
                if args.peak_tflops:
                    per_token = flops_per_token(k, cfgs[k], T) if k in cfgs else 6 * models[k].num_params()
                    flops = per_token * row[f"{k}_train_tok_s"]
                    row[f"{k}_mfu"] = flops / (args.peak_tflops * 1e12)
            if k in ("dissipative", "transformer"):
                row[f"{k}_gen_tok_s"], mem = generation(models[k], T, args.gen_steps, device)
                row[f"{k}_gen_state_KB"] = mem / 2**10
        for k in kinds:
            row[f"{k}_train_ratio"] = row[f"{k}_train_tok_s"] / row["transformer_train_tok_s"]
        row["train_ratio"] = row["dissipative_train_ratio"]
        row["gen_ratio"] = row["dissipative_gen_tok_s"] / row["transformer_gen_tok_s"]
        row["act_mem_ratio"] = row["dissipative_act_MB"] / row["transformer_act_MB"]
        ratios[str(T)] = round(row["train_ratio"], 4)
        rows.append(row)
        print(f"T={T:5d} batch={batch:3d} | train tok/s / transformer's ({row['transformer_train_tok_s']:.0f}): "
              + "  ".join(f"{k} {row[f'{k}_train_ratio']:.2f}" for k in kinds if k != "transformer")
              + f" | activations MB {row['dissipative_act_MB']:.0f} vs {row['transformer_act_MB']:.0f}"
              f" | gen tok/s {row['dissipative_gen_tok_s']:.0f} vs {row['transformer_gen_tok_s']:.0f}"
              f" | gen state KB {row['dissipative_gen_state_KB']:.0f} vs {row['transformer_gen_state_KB']:.0f}",
              flush=True)
    result = {"rows": rows, "ratios": ratios, "params": {k: m.num_params() for k, m in models.items()},
              "threads": torch.get_num_threads()}
    if args.save:
        from genphys import artifacts
        settings = {"contexts": args.contexts, "tokens": args.tokens, "repeats": args.repeats,
                    "gen_steps": args.gen_steps, "d_model": args.d_model, "layers": args.layers,
                    "chunk": args.chunk, "kinds": args.kinds}
        artifacts.store(ARTIFACT, settings, result, wall_time_s=time.perf_counter() - start)
    print(json.dumps(ratios))
    return result


if __name__ == "__main__":
    main()
