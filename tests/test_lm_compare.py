"""genphys.lm.compare: the protocol (sweep on seed 0, best rate by dev set, more seeds) and its table."""

import numpy as np
import pytest
import torch

from genphys.lm import compare, train
from genphys.lm.models import ModelConfig

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker

MODEL = ModelConfig(vocab_size=300, d_model=32, n_layers=1, n_modes=8, n_heads=2, d_feature=4, chunk=16)


def test_table_means_and_sample_std():
    runs = [{"kind": "a", "lr": 0.1, "seed": s, "params": 10, "test_bits_per_byte": v, "test_accuracy": 0.5,
             "tokens_per_s": 100.0, "wall_time_s": 1.0} for s, v in enumerate([1.0, 2.0, 4.0])]
    runs.append({**runs[0], "lr": 0.3, "test_bits_per_byte": 9.0})          # another rate: not in the row
    row = compare.table({"best_lr": {"a": 0.1}, "runs": runs})[0]
    assert row["seeds"] == 3 and row["bits_per_byte"] == pytest.approx(7 / 3)
    assert row["bits_per_byte_std"] == pytest.approx(np.std([1.0, 2.0, 4.0], ddof=1))


def test_protocol_end_to_end(monkeypatch):
    def tiny_preset(scale, kind, **kw):
        base = dict(model=MODEL, kind=kind, seq_len=32, batch_size=4, steps=6, warmup=2, eval_every=6,
                    eval_stories=4, checkpoint_every=6, tokenizer_stories=60)
        return train.TrainConfig(**{**base, **kw})
    monkeypatch.setattr(train, "preset", tiny_preset)
    cfg = compare.settings("tiny", seeds=(0, 1), lrs=(1e-3, 1e-2), kinds=("no_context", "hamiltonian"))
    res = compare.run(cfg, log=lambda s: None)
    assert len(res["runs"]) == 2 * (2 + 1)
    for kind in ("no_context", "hamiltonian"):
        sweep = {r["lr"]: r["dev_bits_per_byte"] for r in res["runs"] if r["kind"] == kind and r["seed"] == 0}
        assert res["best_lr"][kind] == min(sweep, key=sweep.get)
        assert len(res["samples"][kind]) == 3 and kind in res["spectra"]
    assert res["source_bits_per_byte"] < min(r["test_bits_per_byte"] for r in res["runs"])
    assert [row["kind"] for row in res["table"]] == ["no_context", "hamiltonian"]
