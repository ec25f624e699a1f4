"""genphys.stories: the story source, its exact probabilities, entropy and the n-gram ladder."""

import json
import math
import re
import subprocess
import sys

import pytest

from genphys import stories as S

REDUCED = [
    {"problem.kind": 6, "helper": 3, "moral.kind": 4, "end": 2, "unstick": 3},
    {"obj.first": 3, "hero.kind.first": 3, "after": 6, "describe.more": 6},
    {"open": 5, "named": 2, "obj.intro": 3, "obj.like": 4, "place.why": 3, "ask": 3, "tell": 3},
    {"describe": 5, "hero.name": 3, "felt": 3, "felt.happy": 3, "thanks": 3, "promise": 3, "came": 4},
]


def _toy(ch):
    """A deliberately ambiguous grammar: "xy" has two derivations."""
    i = ch.pick("first", ["x", "xy"], S._dist((1, 2)))
    if ch.pick("second", ["y", ""], S._dist((3, 1))) == 0 and i == 1:
        ch.emit("!")


def test_stream_is_deterministic_per_seed():
    assert S.sample(5, 0) == S.sample(5, 0)
    assert S.sample(5, 0) != S.sample(5, 1)
    it = S.stream(0)
    assert [next(it) for _ in range(5)] == S.sample(5, 0)


def test_log_prob_of_sampled_stories_is_the_recorded_log_prob():
    ambiguous = 0
    for story, recorded in S.sample_with_log_prob(150, seed=3):
        derivations = S.derivation_log_probs(story)
        assert recorded in derivations or any(abs(d - recorded) < 1e-12 for d in derivations)
        ambiguous += len(derivations) > 1
        if len(derivations) == 1:
            assert S.log_prob(story) == pytest.approx(recorded, abs=1e-10)
        else:
            assert S.log_prob(story) > recorded
    assert ambiguous == 0   # the full grammar writes each sampled story in exactly one way


@pytest.mark.parametrize("keep", REDUCED, ids=range(len(REDUCED)))
def test_reduced_grammar_probabilities_sum_to_one(keep):
    texts, n_derivations = S.enumerate_stories(keep)
    assert n_derivations > 100
    assert math.fsum(texts.values()) == pytest.approx(1.0, abs=1e-12)
    for text, p in list(texts.items())[:: max(1, len(texts) // 300)]:
        assert S.log_prob(text, keep) == pytest.approx(math.log(p), abs=1e-12)


def test_local_ambiguity_paper_boat_is_explored():
    """'a paper boat' is adjective+noun or one noun: the replay must try both readings."""
    first, _ = S._first_options(S._OBJ_ADJ, S._OBJECTS, 0.6, True)
    nouns = S._OBJECTS[0]
    keep = {"obj.first": (first.index("a paper "), first.index("a boat"), first.index("a paper boat")),
            "obj.noun": (nouns.index("boat"), nouns.index("paper boat")), "problem.kind": 6}
    texts, n = S.enumerate_stories(keep)
    assert math.fsum(texts.values()) == pytest.approx(1.0, abs=1e-12)
    assert any("a paper boat" in t for t in texts)
    for text, p in texts.items():
        assert S.log_prob(text, keep) == pytest.approx(math.log(p), abs=1e-12)


def test_log_prob_sums_over_all_derivations():
    texts, n = S.enumerate_stories({"*": 2}, program=_toy)
    assert n == 4 and set(texts) == {"xy", "xyy!", "x"}
    assert math.fsum(texts.values()) == pytest.approx(1.0, abs=1e-15)
    assert math.exp(S.log_prob("xy", {"*": 2}, program=_toy)) == pytest.approx(1 / 3 * 3 / 4 + 2 / 3 * 1 / 4)
    assert len(S.derivation_log_probs("xy", {"*": 2}, program=_toy)) == 2


def test_next_char_distribution_is_the_ratio_of_prefix_probabilities():
    story = S.sample(1, seed=5)[0]
    for cut in (0, 30, len(story) // 2, len(story)):
        prefix = story[:cut]
        dist = S.next_char_distribution(prefix)
        assert math.fsum(dist.values()) == pytest.approx(1.0, abs=1e-12)
        base = S.prefix_log_prob(prefix)
        for c, p in list(dist.items())[:4]:
            if c is not None:
                assert S.prefix_log_prob(prefix + c) - base == pytest.approx(math.log(p), abs=1e-10)
    assert S.next_char_distribution(story)[None] == pytest.approx(
        math.exp(S.log_prob(story) - S.prefix_log_prob(story)), abs=1e-12)


def test_log_prob_refuses_what_the_source_cannot_write():
    story = S.sample(1, seed=0)[0]
    with pytest.raises(ValueError, match="cannot produce"):
        S.log_prob("Hello world.")
    with pytest.raises(ValueError, match="cannot produce"):
        S.log_prob(story + " And more.")
    with pytest.raises(TypeError, match="str"):
        S.log_prob(42)
    with pytest.raises(ValueError, match="n must be"):
        S.sample(-1, 0)


def test_stories_are_childrens_stories_with_context():
    sample = S.sample(1500, seed=7)
    words = [len(s.split()) for s in sample]
    assert min(words) >= 80 and max(words) <= 250
    vocab = {w for s in sample for w in re.findall(r"[a-z'-]+", s.lower())}
    assert len(vocab) >= 1000
    assert set("".join(sample)) <= set(S.ALPHABET)
    for story in sample[:300]:
        name = re.search(r"(?:named|called) ([A-Z][a-z]+)\.", story).group(1)
        assert story.count(name) >= 2      # introduced early, referred to later
        obj = re.search(r" the ([a-z -]+?) (?:to|up|was|with|,|and)", story)
        assert obj is None or story.count("the " + obj.group(1)) >= 1
    assert len({s.split(".")[0] for s in sample}) > 500   # varied openings


def test_entropy_estimates_from_two_seeds_agree_within_their_intervals():
    a, b = S.entropy_bits_per_byte(300, 0), S.entropy_bits_per_byte(300, 1)
    for h in (a, b):
        assert h["ci95_low"] < h["mean"] < h["ci95_high"]
        assert h["stories"] == 300 and h["bytes"] > 300 * 400
    assert abs(a["mean"] - b["mean"]) < 4 * math.hypot(a["stderr"], b["stderr"])


def test_ngram_ladder_decreases_and_stays_above_the_exact_entropy():
    ladder = S.ngram_ladder(orders=(1, 2, 3, 4, 5), n_train=400, n_test=60, train_seed=1, test_seed=2)
    bpb = [row["bits_per_byte"] for row in ladder["orders"]]
    assert all(x > y for x, y in zip(bpb, bpb[1:]))
    assert bpb[-1] > ladder["exact"]["ci95_high"]
    # order 1 is close to the plug-in unigram entropy of the test bytes (plus the end symbol)
    data = b"".join(s.encode() for s in S.sample(60, 2))
    counts = [data.count(bytes([c])) for c in set(data)]
    plug_in = -sum(c / len(data) * math.log2(c / len(data)) for c in counts)
    assert abs(bpb[0] - plug_in) < 0.1


def test_corpus_round_trip_and_command_line(tmp_path):
    info = S.write_corpus(tmp_path / "c.txt", 7, seed=4)
    text = (tmp_path / "c.txt").read_text()
    assert text.count("\n" + S.SEPARATOR + "\n") == 7 and info["stories"] == 7
    assert list(S.read_stories(tmp_path / "c.txt")) == S.sample(7, 4)
    out = subprocess.run([sys.executable, "-m", "genphys.stories", "--n", "30", "--out", str(tmp_path / "d.txt")],
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    expected = S.entropy_bits_per_byte(30, 0)
    assert result["entropy_bits_per_byte"] == pytest.approx(expected["mean"], abs=1e-12)
    assert result["stories"] == 30 and result["bytes"] == expected["bytes"]
    assert list(S.read_stories(tmp_path / "d.txt")) == S.sample(30, 0)


@pytest.mark.parametrize("argv, message", [
    (["--n", "1"], "argument --n: must be an int >= 2, got 1"),
    (["--n", "0"], "argument --n: must be an int >= 2, got 0"),
    (["--n", "ten"], "argument --n: must be an int, got 'ten'"),
    (["--seed", "-1"], "argument --seed: must be an int >= 0, got -1"),
])
def test_command_line_refuses_out_of_range_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        S.main(argv)
    assert exit_.value.code == 2 and capsys.readouterr().err.strip().splitlines()[-1].endswith(message)


def test_corpus_is_written_whole_or_not_at_all(tmp_path, monkeypatch, capsys):
    from genphys import files

    def crash(src, dst):
        raise OSError("crash before the rename")
    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="crash"):
        S.write_corpus(tmp_path / "c.txt", 5, seed=1)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="no_dir"):
        S.write_corpus(tmp_path / "no_dir" / "c.txt", 5, seed=1)
    with pytest.raises(TypeError, match="path must be a file path"):
        S.write_corpus(7, 5, seed=1)
    with pytest.raises(SystemExit) as exit_:
        S.main(["--n", "3", "--out", str(tmp_path / "no_dir" / "d.txt")])
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and err.count("\n") == 1 and "no_dir" in err
    assert list(tmp_path.iterdir()) == []


def test_sampler_frequencies_match_the_enumerated_probabilities():
    from scipy import stats

    keep = {"hero.kind.first": 4, "problem.kind": 6, "helper": 3}
    texts, _ = S.enumerate_stories(keep)
    n = 3000
    counts = {}
    for text, _ in S.sample_with_log_prob(n, seed=8, keep=keep):
        counts[text] = counts.get(text, 0) + 1
    assert set(counts) <= set(texts)
    keys = sorted(texts)
    result = stats.chisquare([counts.get(t, 0) for t in keys], [n * texts[t] for t in keys])
    assert len(keys) > 20 and result.pvalue > 1e-3
    assert S._article("honest") == "an" and S._article("unicorn") == "a" and S._article("owl") == "an"


def test_repeat_mentions_on_a_hand_made_story():
    story = "Tom had a red ball. Tom threw the ball to Sue. Sue gave Tom's ball back."
    spans = S.repeat_mentions(story, ["Tom", "ball", "Sue"])
    assert [story[a:b] for a, b in spans] == ["Tom", "ball", "Sue", "Tom", "ball"]
    assert spans[0] == (20, 23)
    assert S.repeat_mentions("A ballroom. A ball.", ["ball"]) == []      # whole words only


def test_sample_with_mentions_gives_the_sampled_stories():
    pairs = S.sample_with_mentions(30, 5)
    assert [s for s, _ in pairs] == S.sample(30, 5)
    assert sum(len(m) for _, m in pairs) > 30                                  # stories do refer back
