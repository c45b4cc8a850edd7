"""Tests of the simulator (reconcile.simulation): fast, no model fitting."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from reconcile.lexicon import default_lexicon
from reconcile.simulation import (
    CLAIM_COLUMNS,
    TRUTH_COLUMNS,
    Simulation,
    SimulationSettings,
    simulate,
    truth_at,
    write_simulation,
)


@pytest.fixture(scope="module")
def sims() -> dict[int, Simulation]:
    return {seed: simulate(seed=seed) for seed in (0, 1, 2)}


def _claim_truth(sim: Simulation) -> pd.DataFrame:
    """One row per claim: the claim, its true quantity, the source's figure, bias, outlier."""
    t = sim.truth
    per_claim = (
        t[t["quantity"].isin(["claim", "figure", "outlier"])]
        .pivot(index="claim_id", columns="quantity", values="value")
        .rename(columns={"claim": "true"})
    )
    bias = t[t["quantity"] == "bias"][["source", "population", "value"]].rename(columns={"value": "bias"})
    out = sim.claims.merge(per_claim, left_on="claim_id", right_index=True, how="left")
    out = out.merge(bias, on=["source", "population"], how="left")
    assert out["true"].notna().all() and out["bias"].notna().all()
    return out


def _num(text: str) -> float:
    return float(text) if text != "" else math.nan


# ------------------------------------------------------------------ determinism, sizes


def test_same_seed_identical_and_different_seed_differs(sims):
    again = simulate(seed=0)
    pd.testing.assert_frame_equal(again.claims, sims[0].claims)
    pd.testing.assert_frame_equal(again.truth, sims[0].truth)
    assert not sims[0].claims.equals(sims[1].claims)
    assert not sims[0].truth.equals(sims[1].truth)


def test_settings_object_and_overrides_agree():
    a = simulate(SimulationSettings(n_claims=30, n_days=100), seed=5)
    b = simulate(seed=5, n_claims=30, n_days=100)
    c = simulate(SimulationSettings(n_claims=10), seed=5, n_claims=30, n_days=100)
    pd.testing.assert_frame_equal(a.claims, b.claims)
    pd.testing.assert_frame_equal(a.claims, c.claims)
    assert a.settings == b.settings


@pytest.mark.parametrize(
    "overrides",
    [
        dict(n_claims=1),
        dict(n_claims=7, n_populations=3),
        dict(n_claims=200, n_populations=4, n_sources=3, n_groups=1, stagger_days=30),
        dict(n_days=13, n_claims=20),
        dict(relay_prob=0.5, n_claims=40),
        dict(outlier_prob=0.0, relay_prob=0.0, n_claims=25),
    ],
)
def test_sizes_and_columns(overrides):
    sim = simulate(seed=3, **overrides)
    s = sim.settings
    assert list(sim.claims.columns) == list(CLAIM_COLUMNS)
    assert list(sim.truth.columns) == list(TRUTH_COLUMNS)
    assert len(sim.claims) == s.n_claims
    assert sim.claims["claim_id"].is_unique
    assert list(sim.claims["claim_id"]) == [f"sim-{i:04d}" for i in range(1, s.n_claims + 1)]
    # every claim cell is a string, blanks as ""
    assert all(isinstance(v, str) for v in sim.claims.to_numpy().ravel())
    cum = sim.truth[sim.truth["quantity"] == "cumulative"]
    assert len(cum) == s.n_populations * 3 * s.n_days
    assert (sim.truth["quantity"] == "claim").sum() == s.n_claims
    assert (sim.truth["quantity"] == "bias").sum() == s.n_sources * s.n_populations
    assert (sim.truth["quantity"] == "strength").sum() == s.n_populations
    assert (sim.truth["quantity"] == "killed_share").sum() == s.n_populations


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(n_claims=0), "n_claims"),
        (dict(n_populations=0), "n_populations"),
        (dict(n_sources=2), "n_sources"),
        (dict(n_groups=9), "n_groups"),
        (dict(n_days=5), "n_days"),
        (dict(n_days=2.5), "n_days"),
        (dict(start="2024-13-01"), "start"),
        (dict(start="yesterday"), "start"),
        (dict(noise_sd=-1), "noise_sd"),
        (dict(outlier_prob=1.5), "outlier_prob"),
        (dict(relay_prob=float("nan")), "relay_prob"),
        (dict(stance_effects={"own": 0.1}), "stance_effects"),
        (dict(rate_range=(200, 20)), "rate_range"),
        (dict(killed_share_range=(0.2, 1.2)), "killed_share_range"),
        (dict(strength_factor_range=(0.5, 2)), "strength_factor_range"),
        (dict(max_window_days=1), "max_window_days"),
        (dict(qualifier_probs={"exactly": 1.0}), "qualifier_probs"),
    ],
)
def test_invalid_settings_raise_value_error(overrides, match):
    with pytest.raises(ValueError, match=match):
        SimulationSettings(**overrides)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3"])
def test_invalid_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        simulate(seed=seed)


# ------------------------------------------------------------------ the truth


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cumulative_truths(sims, seed):
    sim = sims[seed]
    cum = sim.truth[sim.truth["quantity"] == "cumulative"]
    for (pop, cat), g in cum.groupby(["population", "category"]):
        values = g.sort_values("date")["value"].to_numpy()
        assert len(values) == sim.settings.n_days
        assert np.all(np.diff(values) >= 0), (pop, cat)
        assert np.all(values >= 0) and values[-1] > 0
        assert np.all(values == np.round(values))
    wide = cum.pivot_table(index=["population", "date"], columns="category", values="value")
    np.testing.assert_array_equal(wide["casualties"], wide["killed"] + wide["wounded"])
    # killed share near its true value; strength above total losses
    for pop, start in sim.starts.items():
        assert start == sim.settings.start
        last = wide.loc[pop].iloc[-1]
        share = sim.truth.query("quantity == 'killed_share' and population == @pop")["value"].iloc[0]
        assert 0.2 <= share <= 0.35
        assert abs(last["killed"] / last["casualties"] - share) < 0.03
        strength = truth_at(sim.truth, pop, "deployed", "2024-06-01")
        assert 1.5 * last["casualties"] - 1 <= strength <= 3 * last["casualties"] + 1


def test_biases_follow_stances(sims):
    sim = sims[0]
    bias = sim.truth[sim.truth["quantity"] == "bias"]
    assert set(bias["stance"]) == {"adversary", "own", "neutral"}
    assert (bias["value"] > 0).all()
    log_b = np.log(bias["value"])
    mean = log_b.groupby(bias["stance"]).mean()
    assert mean["adversary"] > mean["neutral"] > mean["own"]
    # every population has a neutral, an adversary and an own source, in the claims too
    for _, g in sim.claims.groupby("population"):
        assert set(g["stance"]) == {"adversary", "own", "neutral"}
    # a claim's stance is the source's stance on that population
    merged = sim.claims.merge(
        bias[["source", "population", "stance"]], on=["source", "population"], suffixes=("", "_t")
    )
    assert (merged["stance"] == merged["stance_t"]).all()


def test_staggered_starts_and_truth_at():
    sim = simulate(seed=4, n_populations=3, stagger_days=20, n_days=50, n_claims=40)
    assert sim.starts == {"pop_a": "2024-01-01", "pop_b": "2024-01-21", "pop_c": "2024-02-10"}
    t = sim.truth
    cum_b = t.query("quantity == 'cumulative' and population == 'pop_b' and category == 'killed'")
    assert cum_b["date"].min() == "2024-01-21" and cum_b["date"].max() == "2024-03-10"
    assert truth_at(t, "pop_b", "killed", "2024-01-20") == 0.0
    assert truth_at(t, "pop_b", "killed", dt.date(2024, 1, 21)) == cum_b["value"].iloc[0]
    assert truth_at(t, "pop_b", "killed", "2024-02-01") == float(
        cum_b.loc[cum_b["date"] == "2024-02-01", "value"].iloc[0]
    )
    assert truth_at(t, "pop_b", "killed", "2030-01-01") == cum_b["value"].iloc[-1]
    with pytest.raises(KeyError):
        truth_at(t, "pop_z", "killed", "2024-02-01")
    # claims are dated within their population's war, never in its first days
    for _, row in sim.claims.iterrows():
        start = dt.date.fromisoformat(sim.starts[row["population"]])
        day = (dt.date.fromisoformat(row["reported_on"]) - start).days
        assert sim.settings.min_report_day <= day < sim.settings.n_days


# ------------------------------------------------------------------ the claims


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_qualifier_category_measure_appears(sims, seed):
    claims = sims[seed].claims
    assert set(claims["qualifier"]) == {
        "exact",
        "about",
        "at_least",
        "more_than",
        "at_most",
        "fewer_than",
        "range",
        "vague",
    }
    assert set(claims["category"]) == {"killed", "wounded", "casualties", "deployed"}
    assert set(claims["measure"]) == {"total", "per_day"}
    assert (claims["period_start"] == "").any() and (claims["period_start"] != "").any()
    assert (claims["derived_from"] != "").any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_claims_respect_the_contract(sims, seed):
    sim = sims[seed]
    c = sim.claims
    reported = pd.to_datetime(c["reported_on"], format="%Y-%m-%d")
    end = pd.to_datetime(c["period_end"].where(c["period_end"] != "", c["reported_on"]), format="%Y-%m-%d")
    start = pd.to_datetime(c["period_start"].replace("", None), format="%Y-%m-%d")
    assert (end <= reported).all()
    assert (start.isna() | (start <= end)).all()
    for _, row in c[c["period_start"] != ""].iterrows():
        assert row["period_start"] >= sim.starts[row["population"]]
    values = c["value"].map(_num)
    highs = c["value_high"].map(_num)
    assert (values.dropna() >= 0).all()
    assert values[c["qualifier"] != "vague"].notna().all()
    assert highs[c["qualifier"] == "range"].notna().all()
    assert highs[c["qualifier"] != "range"].isna().all()
    assert (highs.dropna() >= values[highs.notna()]).all()
    # windows: 2-60 days; per_day only on windows; deployed: cumulative totals
    win = c[c["period_start"] != ""]
    lengths = (
        pd.to_datetime(win["period_end"].where(win["period_end"] != "", win["reported_on"]))
        - pd.to_datetime(win["period_start"])
    ).dt.days + 1
    assert (lengths >= 2).all()
    per_day = c[c["measure"] == "per_day"]
    assert (per_day["period_start"] != "").all()
    dep = c[c["category"] == "deployed"]
    assert (dep["period_start"] == "").all() and (dep["measure"] == "total").all()
    assert set(c["stance"]) <= {"adversary", "own", "neutral"}
    assert (c["language"] == "en").all()
    assert (c["citation"] == f"simulation seed={seed}").all()
    assert c["quote"].str.startswith("[simulated] ").all()
    assert (c["phrase"] != "").all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relays_copy_an_earlier_claim(sims, seed):
    c = sims[seed].claims.set_index("claim_id")
    relays = c[c["derived_from"] != ""]
    for claim_id, row in relays.iterrows():
        orig = c.loc[row["derived_from"]]
        assert orig["derived_from"] == ""
        assert claim_id > row["derived_from"]
        assert row["reported_on"] > orig["reported_on"]
        for col in (
            "population",
            "category",
            "source",
            "source_group",
            "stance",
            "period_start",
            "measure",
            "qualifier",
            "value",
            "value_high",
            "phrase",
        ):
            assert row[col] == orig[col], col
        # the period is unchanged although reported later
        assert row["period_end"] == (orig["period_end"] or orig["reported_on"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_claim_truths_match_the_cumulative_truth(sims, seed):
    sim = sims[seed]
    ct = _claim_truth(sim)
    for _, row in ct.iterrows():
        pop, cat = row["population"], row["category"]
        if cat == "deployed":
            expected = truth_at(sim.truth, pop, "deployed", row["reported_on"])
        else:
            end = row["period_end"] or row["reported_on"]
            expected = truth_at(sim.truth, pop, cat, end)
            if row["period_start"] and row["period_start"] != sim.starts[pop]:
                before = dt.date.fromisoformat(row["period_start"]) - dt.timedelta(days=1)
                expected -= truth_at(sim.truth, pop, cat, before)
                if row["measure"] == "per_day":
                    days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(row["period_start"])).days + 1
                    expected /= days
        assert row["true"] == pytest.approx(expected), row["claim_id"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stated_figures_consistent_with_qualifier(sims, seed):
    ct = _claim_truth(sims[seed])
    lexicon = default_lexicon()
    for _, row in ct.iterrows():
        fig, q = row["figure"], row["qualifier"]
        v, hi = _num(row["value"]), _num(row["value_high"])
        if q == "exact":
            assert abs(v - fig) <= 0.5 + 1e-9
        elif q == "about":
            assert abs(v - fig) <= 0.05 * fig + 1e-9
        elif q == "at_least":
            assert v <= fig
        elif q == "more_than":
            assert v < fig
        elif q == "at_most":
            assert v >= fig
        elif q == "fewer_than":
            assert v > fig
        elif q == "range":
            assert v < fig < hi
            assert fig * 0.55 <= v and hi <= fig * 1.6
        else:
            low, high = lexicon.interval(row["phrase"])
            assert low <= fig <= high
        if q in ("at_least", "more_than", "at_most", "fewer_than"):
            assert v == pytest.approx(fig, rel=1.0)  # a round number near the figure
    # figure = true x bias x noise: small noise except for the rare wild figures
    log_noise = np.log(ct["figure"] / (ct["true"] * ct["bias"]))
    tame = ct["outlier"] == 0
    assert (log_noise[tame].abs() < 0.5).all()
    assert abs(log_noise[tame].mean()) < 0.06
    assert 0.05 < log_noise[tame].std() < 0.16


def test_neutral_figures_are_unbiased_on_average():
    sim = simulate(seed=11, n_claims=600, outlier_prob=0.0)
    ct = _claim_truth(sim)
    log_ratio = np.log(ct["figure"] / ct["true"]).groupby(ct["stance"]).mean()
    assert log_ratio["adversary"] > 0.1 and log_ratio["own"] < -0.1
    assert log_ratio["adversary"] > log_ratio["neutral"] > log_ratio["own"]


def test_phrases_and_quotes(sims):
    c = sims[0].claims
    exact = c[c["qualifier"] == "exact"].iloc[0]
    assert exact["phrase"] == f"{int(exact['value']):,}"
    at_least = c[c["qualifier"] == "at_least"].iloc[0]
    assert at_least["phrase"].startswith("at least ")
    assert at_least["phrase"] in at_least["quote"]
    rng_row = c[c["qualifier"] == "range"].iloc[0]
    assert rng_row["phrase"].startswith("between ")
    for _, row in c.iterrows():
        assert row["phrase"] in row["quote"]
        assert row["source"] in row["quote"] and row["population"] in row["quote"]
        if row["period_start"]:
            assert row["period_start"] in row["quote"]


# ------------------------------------------------------------------ files


def test_written_files_round_trip(sims, tmp_path):
    sim = sims[1]
    claims_path, truth_path = tmp_path / "claims.csv", tmp_path / "truth.csv"
    write_simulation(sim, claims_path, truth_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv", "truth.csv"]
    raw = claims_path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")
    back = pd.read_csv(claims_path, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(back, sim.claims, check_dtype=False)
    truth = pd.read_csv(truth_path, keep_default_na=False, dtype={c: str for c in TRUTH_COLUMNS if c != "value"})
    pd.testing.assert_frame_equal(truth, sim.truth, check_dtype=False)


def test_write_failure_leaves_nothing(sims, tmp_path):
    with pytest.raises(OSError):
        write_simulation(sims[0], tmp_path / "missing" / "c.csv", tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ the contract reader


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_claims_validate_with_the_reader(sims, seed, tmp_path):
    claims_mod = pytest.importorskip("reconcile.claims")
    sim = sims[seed]
    path = tmp_path / "claims.csv"
    write_simulation(sim, path, tmp_path / "truth.csv")
    try:
        claims = claims_mod.read_claims(path)
    except claims_mod.ClaimsError as err:  # pragma: no cover - show every problem
        pytest.fail("simulated claims break the contract:\n" + "\n".join(map(str, err.problems)))
    assert len(claims) == sim.settings.n_claims
    # the reader's default starts are the true starts
    starts = {p: d.isoformat() for p, d in claims.populations.items()}
    assert starts == sim.starts
    frame = claims.frame.set_index("claim_id")
    # vague phrases resolve in the lexicon, and every interval contains the source's figure
    ct = _claim_truth(sim).set_index("claim_id")
    vague = ct[ct["qualifier"] == "vague"]
    assert len(vague) > 0
    for claim_id, row in vague.iterrows():
        low, high = frame.loc[claim_id, ["low", "high"]]
        assert (low, high) == tuple(default_lexicon().interval(row["phrase"]))
    for claim_id, row in ct.iterrows():
        low, high = frame.loc[claim_id, ["low", "high"]]
        if row["qualifier"] in ("exact", "about"):
            continue
        assert low <= row["figure"] <= high, claim_id
    assert int((~frame["counted"]).sum()) == int((sim.claims["derived_from"] != "").sum())


def test_claims_validate_in_memory(sims):
    claims_mod = pytest.importorskip("reconcile.claims")
    problems = claims_mod.validate_claims(sims[2].claims)
    assert problems == []
