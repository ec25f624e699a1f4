"""genphys.lm.evaluate: bits per byte on hand-computable cases; the story source's floor."""

import math

import pytest
import torch

from genphys import stories
from genphys.lm import evaluate, tokenizer

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker


@pytest.fixture(scope="module")
def tok():
    return tokenizer.train(stories.sample(100, 4), 280)


class Uniform(torch.nn.Module):
    """Logits all zero: every token costs ln V nats."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab = vocab
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, idx):
        return torch.zeros(*idx.shape, self.vocab, dtype=torch.float64) + 0 * self.dummy


class Oracle(torch.nn.Module):
    """Puts probability p on the true next token of one known sequence, the rest uniformly."""

    def __init__(self, vocab, ids, p):
        super().__init__()
        self.vocab, self.ids, self.p = vocab, ids, p
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, idx):
        probs = torch.full((*idx.shape, self.vocab), (1 - self.p) / (self.vocab - 1), dtype=torch.float64)
        for t in range(idx.shape[1]):
            probs[:, t, self.ids[t + 1]] = self.p
        return probs.log()


def test_uniform_model_bits_per_byte_by_hand(tok):
    texts = ["Tom had a red ball.", "Sue é 世界!", "a"]
    res = evaluate.evaluate(Uniform(tok.vocab_size), tok, texts, batch_size=2)
    n_tokens = sum(len(tok.encode(t)) + 1 for t in texts)                  # each story's tokens and its <eot>
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    assert res["tokens"] == n_tokens and res["bytes"] == n_bytes
    assert res["bits_per_byte"] == pytest.approx(n_tokens * math.log2(tok.vocab_size) / n_bytes, rel=1e-12)


def test_oracle_bits_and_accuracy_by_hand(tok):
    text = "Lily saw a big dog."
    ids = [tok.eot] + tok.encode(text) + [tok.eot]
    res = evaluate.evaluate(Oracle(tok.vocab_size, ids, 0.5), tok, [text])
    assert res["accuracy"] == 1.0
    assert res["bits_per_byte"] == pytest.approx((len(ids) - 1) * 1.0 / len(text.encode()), rel=1e-12)


def test_source_floor_matches_stories_entropy():
    texts = stories.sample(20, 17)
    ref = stories.entropy_bits_per_byte(20, 17)
    assert evaluate.source_bits_per_byte(texts) == pytest.approx(ref["mean"], rel=1e-12)


def test_bad_input(tok):
    with pytest.raises(ValueError, match="empty"):
        evaluate.evaluate(Uniform(tok.vocab_size), tok, [])
    with pytest.raises(TypeError, match="list of strings"):
        evaluate.evaluate(Uniform(tok.vocab_size), tok, "a story")


def test_bad_arguments(tok):
    model = Uniform(tok.vocab_size)
    for kwargs, error, match in [
        (dict(texts=("a", 3)), TypeError, "list of strings"),
        (dict(texts=None), TypeError, "list of strings"),
        (dict(texts=["", ""]), ValueError, "hold no characters"),
        (dict(texts=["a"], batch_size=0), ValueError, "batch_size must be an int >= 1"),
        (dict(texts=["a"], batch_size=1.5), TypeError, "batch_size must be an int"),
    ]:
        with pytest.raises(error, match=match):
            evaluate.evaluate(model, tok, **kwargs)


def test_token_ids_beyond_the_models_vocabulary_are_a_value_error(tok):
    from genphys.lm import models
    small = models.build_model("dissipative", models.ModelConfig(vocab_size=64, d_model=16, n_layers=1, n_modes=8,
                                                                 n_heads=2, d_feature=4, chunk=8))
    with pytest.raises(ValueError, match=r"tokenizer has 280 tokens, the model only 64"):
        evaluate.evaluate(small, tok, ["Tom had a red ball."])
    with pytest.raises(ValueError, match=r"token ids outside \[0, 64\)"):
        small(torch.tensor([[1, 2, 64]]))
    with pytest.raises(ValueError, match=r"token ids outside \[0, 64\)"):
        small(torch.tensor([[-1, 2]]))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from genphys.lm import train
    from genphys.lm.models import ModelConfig
    cfg = train.TrainConfig(model=ModelConfig(vocab_size=280, d_model=16, n_layers=1, n_modes=8, n_heads=2,
                                              d_feature=4, chunk=8),
                            seq_len=16, batch_size=2, steps=2, warmup=1, eval_every=2, eval_stories=2,
                            checkpoint_every=2, tokenizer_stories=50)
    out = tmp_path_factory.mktemp("run")
    train.train(cfg, out, progress=False)
    return out


def test_cli_cuts_by_paragraph_only_when_asked(run, tmp_path, capsys):
    texts = stories.sample(5, 11)
    path = tmp_path / "plain.txt"
    path.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        evaluate.main(["--run", str(run), "--text", str(path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and f"{path} holds no '<|endoftext|>' line" in err and err.count("\n") == 1
    res = evaluate.main(["--run", str(run), "--text", str(path), "--unit", "paragraph", "--max-stories", "3"])
    assert res["stories"] == 3 and res["bytes"] == sum(len(t.encode()) for t in texts[:3])


@pytest.mark.parametrize("argv, message", [
    (["--max-stories", "0"], "argument --max-stories: must be an int >= 1, got 0"),
    (["--max-stories", "-2"], "argument --max-stories: must be an int >= 1"),
    (["--batch-size", "0"], "argument --batch-size: must be an int >= 1"),
    (["--unit", "line"], "argument --unit: invalid choice"),
])
def test_cli_refuses_out_of_range_arguments(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        evaluate.main(["--run", str(tmp_path), "--text", str(tmp_path / "t.txt"), *argv])
    assert exit_.value.code == 2 and message in capsys.readouterr().err.strip().splitlines()[-1]


def test_cli_one_line_for_bad_files(run, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Once upon a time\xff.\n<|endoftext|>\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(f"A story.\n{stories.SEPARATOR}\n", encoding="utf-8")
    for argv, message in [([str(run), str(bad)], f"{bad} is not UTF-8 text: invalid byte at offset 16"),
                          ([str(run), str(tmp_path / "none.txt")], "not found"),
                          ([str(run), str(empty)], f"{empty} holds no stories"),
                          ([str(tmp_path / "norun"), str(good)], f"run folder {tmp_path / 'norun'} does not exist")]:
        with pytest.raises(SystemExit) as exit_:
            evaluate.main(["--run", argv[0], "--text", argv[1]])
        err = capsys.readouterr().err
        assert exit_.value.code == 1 and message in err and err.count("\n") == 1, err


def test_window_splits_the_loss_without_losing_any(tok):
    texts = stories.sample(6, 11)
    whole = evaluate.evaluate(Uniform(tok.vocab_size), tok, texts)
    split = evaluate.evaluate(Uniform(tok.vocab_size), tok, texts, window=40)
    lengths = [len(tok.encode(t)) + 1 for t in texts]                          # the story's tokens and <eot>
    assert split["beyond"]["tokens"] == sum(max(0, n - 40) for n in lengths) > 0
    assert split["tokens"] + split["beyond"]["tokens"] == whole["tokens"]
    assert abs(split["nll_nats"] + split["beyond"]["nll_nats"] - whole["nll_nats"]) < 1e-9
    assert whole["bytes"] == sum(len(t.encode()) for t in texts) and whole["beyond"]["tokens"] == 0
    assert abs(split["nll_nats"] - split["tokens"] * math.log(tok.vocab_size)) < 1e-9


def test_recall_metric_counts_the_tokens_of_repeat_mentions(tok):
    story = "Tom had a red ball. Tom threw the ball to Sue. Sue gave Tom's ball back."
    spans = stories.repeat_mentions(story, ["Tom", "ball", "Sue"])
    ids, offsets = tok.encode_with_offsets(story)
    by_hand = sum(any(a < e and s < b for s, e in spans) for a, b in offsets)
    res = evaluate.evaluate(Uniform(tok.vocab_size), tok, [story], mentions=[spans])
    assert res["recall"]["tokens"] == by_hand >= 5
    assert res["recall"]["tokens"] + res["other"]["tokens"] == res["tokens"]
    assert abs(res["recall"]["nats_per_token"] - math.log(tok.vocab_size)) < 1e-12


def test_cli_refuses_a_checkpoint_with_a_nan_weight_in_one_line(run, tmp_path, capsys):
    import torch

    from genphys.lm import checkpoint
    out = tmp_path / "nan-run"
    out.mkdir()
    for name in checkpoint.RUN_FILES:
        (out / name).write_bytes((run / name).read_bytes())
    ckpt = torch.load(out / checkpoint.CHECKPOINT, weights_only=False)
    first = next(k for k, v in ckpt["model"].items() if v.is_floating_point())
    ckpt["model"][first].view(-1)[0] = float("nan")
    torch.save(ckpt, out / checkpoint.CHECKPOINT)
    good = tmp_path / "good.txt"
    good.write_text(f"A story.\n{stories.SEPARATOR}\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:                          # printed bits_per_byte=nan, exit 0, before
        evaluate.main(["--run", str(out), "--text", str(good)])
    captured = capsys.readouterr()
    assert exit_.value.code == 1 and captured.out == ""
    assert captured.err.count("\n") == 1 and f"holds non-finite weights: 1 NaN or infinite entries in {first}" in captured.err
