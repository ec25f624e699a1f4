"""genphys.lm.report: paired differences, bootstrap intervals, Holm's correction and verdicts, against SciPy and
statsmodels, and on comparisons with a planted difference."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from genphys.lm import report


def _runs(effects: dict, seeds=range(6), noise=0.002, seed_spread=0.01, rng_seed=0, budget=1):
    """Rows of a comparison: family score = shared per-seed offset + the family's effect + its own noise."""
    rng = np.random.default_rng(rng_seed)
    offset = rng.normal(0, seed_spread, size=max(seeds) + 1)          # the data order's part, shared
    return [{"kind": k, "seed": s, "budget": budget, "test_bits_per_byte": 1.0 + offset[s] + e + rng.normal(0, noise)}
            for k, e in effects.items() for s in seeds]


def test_holm_agrees_with_statsmodels():
    rng = np.random.default_rng(3)
    for m in (1, 2, 5, 17):
        p = rng.uniform(0, 0.2, size=m) ** 2
        assert np.allclose(report.holm(p), multipletests(p, method="holm")[1], atol=1e-15, rtol=0)


def test_holm_rejects_at_least_what_bonferroni_rejects_and_refuses_non_probabilities():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    adjusted = report.holm(p)
    assert (adjusted <= np.minimum(1, p * p.size) + 1e-15).all() and (adjusted >= p).all()
    for bad in ([0.1, 1.5], [-0.1], [np.nan]):
        with pytest.raises(ValueError, match="p"):
            report.holm(bad)


def test_paired_p_is_scipys_paired_t_test():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=6), rng.normal(0.3, 1, size=6)
    assert report.paired_p(b - a) == pytest.approx(stats.ttest_rel(b, a).pvalue, rel=1e-12)
    assert report.paired_p([0.1] * 4) == 0.0 and report.paired_p([0.0] * 4) == 1.0
    with pytest.raises(ValueError, match="at least 2"):
        report.paired_p([0.3])


def test_bootstrap_interval_agrees_with_scipys_percentile_bootstrap():
    d = np.random.default_rng(2).normal(0.01, 0.02, size=6)
    ours = report.bootstrap_interval(d, n=20_000, seed=5)
    ref = stats.bootstrap((d,), np.mean, n_resamples=20_000, method="percentile", confidence_level=0.95,
                          random_state=np.random.default_rng(6)).confidence_interval
    width = ref.high - ref.low
    assert abs(ours[0] - ref.low) < 0.05 * width and abs(ours[1] - ref.high) < 0.05 * width
    assert ours[0] < d.mean() < ours[1]


def test_paired_differences_pair_by_seed_and_skip_missing_scores():
    runs = _runs({"a": 0.0, "b": 0.01})
    runs[0]["test_bits_per_byte"] = None                     # family a, seed 0 diverged
    d, seeds = report.paired_differences(runs, report.Claim("x", "a beats b", "a", "b"), 1)
    assert seeds == [1, 2, 3, 4, 5]
    by = {(r["kind"], r["seed"]): r["test_bits_per_byte"] for r in runs}
    assert np.allclose(d, [by["b", s] - by["a", s] for s in seeds])
    with pytest.raises(ValueError, match="two rows"):
        report.paired_differences(runs + runs[-1:], report.Claim("x", "t", "a", "b"), 1)


def test_a_planted_difference_is_found_and_nulls_are_not_among_many_claims():
    # a beats b by 0.01 bits per byte; c = d and e = f. The seed offsets (0.01) are five times the
    # noise of a run: only pairing by seed separates the planted gap from the data order's spread.
    claims = [report.Claim("ab", "a beats b", "a", "b"), report.Claim("cd", "c beats d", "c", "d"),
              report.Claim("ef", "e beats f", "e", "f")]
    found, false = 0, 0
    trials = 200
    for trial in range(trials):
        runs = _runs({"a": 0.0, "b": 0.01, "c": 0.01, "d": 0.01, "e": 0.0, "f": 0.0}, rng_seed=trial)
        rows = {r["slug"]: r for r in report.verdicts(runs, claims, budgets=[1])}
        found += rows["ab"]["verdict"] == "supported" and rows["ab"]["low"] > 0
        false += any(rows[s]["verdict"] != "not resolved" for s in ("cd", "ef"))
        if trial == 0:
            assert np.allclose([r["p_holm"] for r in rows.values()],
                               multipletests([r["p"] for r in rows.values()], method="holm")[1])
    assert found / trials > 0.95
    # Holm keeps the chance of any false verdict at most alpha (0.05); three binomial sigmas of slack
    assert false / trials < 0.05 + 3 * np.sqrt(0.05 * 0.95 / trials)


def test_unpaired_seeds_are_not_enough():
    runs = _runs({"a": 0.0}, seeds=range(3)) + _runs({"b": 0.01}, seeds=range(3, 6))
    assert report.verdicts(runs, [report.Claim("ab", "a beats b", "a", "b")], budgets=[1]) == []


def test_claims_refuse_bad_fields():
    with pytest.raises(ValueError, match="differ"):
        report.Claim("x", "t", "a", "a")
    with pytest.raises(ValueError, match="reading"):
        report.Claim("x", "t", "a", "b", reading="vibes")
    with pytest.raises(ValueError, match="distinct slugs"):
        report.verdicts([], [report.Claim("x", "t", "a", "b")] * 2, budgets=[1])


def test_the_claims_name_families_scores_and_budgets_of_the_experiment():
    from genphys.lm import compare, models

    assert len({c.slug for c in report.CLAIMS}) == len(report.CLAIMS)
    plan = compare.experiment("tiny")
    for claim in report.CLAIMS:
        assert {claim.better, claim.worse} <= set(models.KINDS)
        assert claim.score in ("test_bits_per_byte", "recall_nats")
        assert claim.worse_score in (None, "ablated_recall_nats", "ablated_test_bits_per_byte")
        assert claim.better != claim.worse or claim.worse_score is not None
        for kind in (claim.better, claim.worse):
            assert set(claim.budgets) <= set(plan["budgets"][kind]), (claim.slug, kind)
    with pytest.raises(TypeError, match="tuple of budgets"):
        report.Claim("x", "t", "a", "b", budgets=[1])
    with pytest.raises(ValueError, match="budgets"):
        report.Claim("x", "t", "a", "b", budgets=(0,))


def test_a_claim_can_pair_a_family_with_its_own_ablation():
    runs = [{"kind": "a", "seed": s, "budget": 16, "recall_nats": 1.0 + 0.01 * s,
             "ablated_recall_nats": 1.5 + 0.01 * s + 0.001 * (s % 2)} for s in range(6)]
    runs.append({"kind": "a", "seed": 6, "budget": 16, "recall_nats": 1.0})       # stored before the ablation
    claim = report.Claim("use", "a uses its target", "a", "a", score="recall_nats",
                         worse_score="ablated_recall_nats")
    d, seeds = report.paired_differences(runs, claim, 16)
    assert seeds == list(range(6)) and np.allclose(d, [0.5 + 0.001 * (s % 2) for s in range(6)])
    with pytest.raises(ValueError, match="worse_score"):
        report.Claim("x", "t", "a", "a", score="recall_nats")


def test_the_planned_table_keeps_untested_pairs_in_holms_count():
    claims = [report.Claim("ab", "a beats b", "a", "b", budgets=(1, 4)),
              report.Claim("cd", "c beats d", "c", "d", budgets=(1,))]
    runs = _runs({"a": 0.0, "b": 0.05, "c": 0.0, "d": 0.0})       # nothing at 4x
    table = report.claim_table(runs, claims)
    assert [(r["slug"], r["budget"]) for r in table] == [("ab", 1), ("ab", 4), ("cd", 1)]
    missing = table[1]
    assert missing["p"] == 1.0 and missing["mean"] is None and missing["verdict"] == "not resolved"
    assert missing["note"] == "0 paired seeds, fewer than 3"
    tested = [table[0]["p"], 1.0, table[2]["p"]]
    assert np.allclose([r["p_holm"] for r in table], multipletests(tested, method="holm")[1])
    assert table[0]["verdict"] == "supported"
    with pytest.raises(ValueError, match="must list its budgets"):
        report.claim_table(runs, [report.Claim("x", "t", "a", "b")])


def test_runs_at_rates_keep_each_familys_rate_per_budget_and_drop_diverged_runs():
    runs = [{"kind": "a", "budget": 1, "lr": 0.004, "seed": 0}, {"kind": "a", "budget": 1, "lr": 0.008, "seed": 0},
            {"kind": "a", "budget": 4, "lr": 0.008, "seed": 0}, {"kind": "a", "budget": 4, "lr": 0.008, "seed": 1,
                                                                   "diverged": True},
            {"kind": "b", "budget": 1, "lr": 0.004, "seed": 0}]
    kept = report.runs_at_rates(runs, {"a": {"1": 0.004, "4": 0.008}, "b": {}})
    assert kept == [runs[0], runs[2]]


def test_interval_slopes_show_a_regime_change():
    # excess over the floor falls by 2x from 1x to 4x and by 8x from 4x to 16x: two slopes, 0.5 and 1.5
    table = [{"kind": "a", "budget": b, "tokens": 1000 * b, "bits_per_byte": 0.1 + e}
             for b, e in ((1, 0.8), (4, 0.4), (16, 0.05))]
    slopes = report.interval_slopes(table, floor=0.1)
    assert [(s["from"], s["to"]) for s in slopes] == [(1, 4), (4, 16)]
    assert slopes[0]["slope"] == pytest.approx(np.log(2) / np.log(4), rel=1e-12)
    assert slopes[1]["slope"] == pytest.approx(np.log(8) / np.log(4), rel=1e-12)
    assert report.interval_slopes(table, floor=0.5)[1]["slope"] is None


def test_by_family_budget_groups_the_seeds_in_order_and_skips_missing_scores():
    runs = _runs({"a": 0.0, "b": 0.01}, seeds=range(3)) + _runs({"a": -0.1}, seeds=range(2), budget=4)
    for r in runs:
        r["tokens"] = 1000 * r["budget"]
    runs[1]["test_bits_per_byte"] = None                     # family a, seed 1 at 1x diverged
    rows = report.by_family_budget(runs, kinds=["b", "a"])
    assert [(r["kind"], r["budget"], r["seeds"]) for r in rows] == [("b", 1, 3), ("a", 1, 2), ("a", 4, 2)]
    a1 = [r["test_bits_per_byte"] for r in runs[:3] if r["test_bits_per_byte"] is not None]
    assert rows[1]["values"] == a1 and rows[1]["mean"] == pytest.approx(np.mean(a1), abs=1e-15)
    assert rows[1]["sd"] == pytest.approx(np.std(a1, ddof=1), rel=1e-12) and rows[2]["tokens"] == 4000
    one = report.by_family_budget(runs[:1])
    assert one[0]["sd"] is None and one[0]["seeds"] == 1


def test_seed_coverage_counts_the_planned_seeds_stored_at_the_rate_used():
    cfg = {"kinds": ["a", "b"], "budgets": {"a": [1, 4], "b": [1]}, "seeds": [0, 1, 2, 3]}
    runs = _runs({"a": 0.0}, seeds=range(4)) + _runs({"b": 0.0}, seeds=range(2)) + _runs({"a": 0.0}, seeds=[9])
    runs[0]["test_bits_per_byte"] = None
    rows = report.seed_coverage(runs, cfg)
    assert [(r["kind"], r["budget"], r["planned"], r["stored"]) for r in rows] == [
        ("a", 1, 4, 3), ("a", 4, 4, 0), ("b", 1, 4, 2)]


def test_shown_verdicts_and_counts_say_what_the_planned_table_holds():
    claims = [report.Claim("ab", "a beats b", "a", "b", budgets=(1, 4)),
              report.Claim("cd", "c beats d", "c", "d", score="recall_nats", budgets=(1,))]
    runs = _runs({"a": 0.0, "b": 0.05, "c": 0.0, "d": 0.0})
    for r in runs:
        r["recall_nats"] = r["test_bits_per_byte"]
    table = report.claim_table(runs, claims)
    shown = report.shown_verdicts(table)
    assert [r["budget"] for r in shown] == ["1x", "4x", "1x"]
    assert shown[0]["effect"] == f"{table[0]['mean']:+.4f}" and shown[0]["verdict"] == "supported"
    assert shown[0]["95 % interval"] == f"{table[0]['low']:+.4f} to {table[0]['high']:+.4f}"
    assert shown[1]["effect"] == "" and shown[1]["verdict"] == "not run yet (0 paired seeds)"
    assert shown[2]["score"] == "nats per repeat mention"
    counts = report.verdict_counts(table)
    assert (counts["planned"], counts["tested"], counts["supported"], counts["not resolved"]) == (3, 2, 1, 1)
    assert counts["clear_of_zero"] == 1 + (table[2]["low"] > 0 or table[2]["high"] < 0)
    assert counts["threshold"] == pytest.approx(0.05 / 3) and counts["smallest"]["slug"] == "ab"
    assert report.verdict_counts(table[1:2])["smallest"] is None


def test_seeds_needed_reaches_the_power_by_simulation_and_not_one_seed_earlier():
    effect, sd = 0.005, 0.006
    n = report.seeds_needed(effect, sd)
    rng = np.random.default_rng(0)

    def power(k, trials=20_000):
        d = rng.normal(effect, sd, size=(trials, k))
        return np.mean(stats.ttest_1samp(d, 0.0, axis=1).pvalue < 0.05)

    assert power(n) >= 0.8 - 0.01 and power(n - 1) < 0.8 + 0.01
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert n >= (z * sd / effect) ** 2                       # the t-test needs at least the normal approximation
    assert report.seeds_needed(effect, sd, alpha=0.05 / 27) > n
    with pytest.raises(ValueError, match="max_seeds"):
        report.seeds_needed(1e-6, 1.0, max_seeds=10)


def test_throughput_quotes_the_ratios_at_the_contexts_asked():
    rows = [{"context": c, "transformer_train_tok_s": 1000.0 / c, "dissipative_train_ratio": 1.0 + c / 4096,
             "selective_train_ratio": 0.9, "no_mixing_train_ratio": 2.0, "gen_ratio": c / 512,
             "transformer_gen_state_KB": c * 2.0, "dissipative_gen_state_KB": 64.0} for c in (1024, 4096)]
    out = report.throughput(rows, ["dissipative", "selective", "hamiltonian"])
    assert [r["context"] for r in out["table"]] == [1024, 4096]
    assert set(out["table"][0]) == {"context", "transformer tokens/s", "dissipative", "selective", "no_mixing"}
    q = out["quoted"]
    assert q["ratio-4096"] == 2.0 and q["share-1024"] == pytest.approx(100 * 1.25 / 2.0)
    assert q["gen-4096"] == 8.0 and q["cache"] == 128.0
