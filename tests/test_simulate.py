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
    STANCES,
    TRUTH_COLUMNS,
    Simulation,
    SimulationSettings,
    _cast,
    _claims_table,
    _figures,
    _mark_starts,
    _plan,
    _relays,
    _state,
    _true_losses,
    _truth_table,
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


# ------------------------------------------------------------------ each stage on its own
# simulate() runs these stages in order on one generator; each is checked here in isolation,
# with a generator of its own, for what it promises.


def _stages(seed: int = 3, **overrides):
    s = SimulationSettings(**overrides)
    rng = np.random.default_rng(seed)
    war = _true_losses(s, rng)
    cast = _cast(s, war.populations, rng)
    plan = _plan(s, war.populations, cast, rng)
    return s, rng, war, cast, plan


def test_stage_true_losses_are_counts_that_only_rise():
    s = SimulationSettings(n_populations=3, n_days=200, stagger_days=10)
    war = _true_losses(s, np.random.default_rng(0))
    assert war.populations == ["pop_a", "pop_b", "pop_c"]
    assert [(war.starts[p] - war.starts["pop_a"]).days for p in war.populations] == [0, 10, 20]
    for p in war.populations:
        cum = war.cumulative[p]
        assert all(len(cum[c]) == 200 and (np.diff(cum[c]) >= 0).all() for c in cum)
        np.testing.assert_array_equal(cum["killed"] + cum["wounded"], cum["casualties"])
        assert all(float(v).is_integer() for v in cum["casualties"])
        lo, hi = s.killed_share_range
        assert lo <= war.killed_share[p] <= hi
        f_lo, f_hi = s.strength_factor_range
        assert f_lo * cum["casualties"][-1] - 1 <= war.strength[p] <= f_hi * cum["casualties"][-1] + 1


def test_stage_cast_gives_each_source_one_side_and_a_bias_of_stance_group_and_source():
    s = SimulationSettings(n_sources=9, n_groups=3, n_populations=2)
    pops = ["pop_a", "pop_b"]
    cast = _cast(s, pops, np.random.default_rng(1))
    assert cast.sources == [f"src_{i:02d}" for i in range(1, 10)]
    assert sorted(set(cast.groups.values())) == ["grp_1", "grp_2", "grp_3"]
    for src in cast.sources:
        stances = {cast.stance[src, p] for p in pops}
        # neutral towards both, or own side of one population and adversary of the other
        assert stances in ({"neutral"}, {"own", "adversary"})
    # the log bias minus the stance effect is shared by a source across populations
    for src in cast.sources:
        rest = [cast.log_bias[src, p] - s.stance_effects[cast.stance[src, p]] for p in pops]
        assert rest[0] == pytest.approx(rest[1], abs=1e-12)


def test_stage_plan_covers_every_population_and_stance_and_every_option():
    s, _, war, cast, plan = _stages(n_claims=60, n_populations=2, relay_prob=0.1)
    n_orig = s.n_claims - plan.n_relays
    assert 0 <= plan.n_relays < s.n_claims
    assert len(plan.pairs) == len(plan.categories) == len(plan.kinds) == len(plan.qualifiers) == n_orig
    said = {(p, cast.stance[src, p]) for src, p in plan.pairs}
    assert said >= {(p, st) for p in war.populations for st in STANCES}
    assert set(plan.categories) == {"killed", "wounded", "casualties", "deployed"}
    loss = [i for i, c in enumerate(plan.categories) if c != "deployed"]
    assert {plan.kinds[i] for i in loss} == {"cumulative", "window", "per_day"}
    assert {plan.qualifiers[i] for i in loss} == set(s.qualifier_probs)


def test_stage_figures_are_the_truth_times_the_bias_times_the_noise():
    s, rng, war, cast, plan = _stages(n_claims=80, outlier_prob=0.0, noise_sd=0.05)
    claims = _figures(s, war, cast, plan, rng)
    assert len(claims) == len(plan.pairs)
    for c in claims:
        p, cat, end = c["population"], c["category"], c["end_idx"]
        if cat == "deployed":
            assert c["true"] == war.strength[p]
        elif c["kind"] == "cumulative":
            assert c["true"] == war.cumulative[p][cat][end] and c["start_idx"] is None
        else:
            start = c["start_idx"]
            total = war.cumulative[p][cat][end] - (war.cumulative[p][cat][start - 1] if start > 0 else 0.0)
            length = end - start + 1
            assert s.min_window_days <= length <= s.max_window_days and end <= c["r"]
            assert c["true"] == pytest.approx(total / length if c["kind"] == "per_day" else total)
        if c["true"] > 0:
            eps = math.log(c["figure"] / c["true"]) - cast.log_bias[c["source"], p]
            assert abs(eps) < 6 * s.noise_sd  # no outlier: only the typical noise
        assert not c["outlier"]


def test_stage_state_writes_each_figure_under_its_qualifier():
    """Qualifiers are only moved, never lost (a vague claim no phrase fits swaps with one that a
    phrase fits, or becomes "about"); each vague phrase's interval holds its figure."""
    s, rng, war, cast, plan = _stages(n_claims=120, qualifier_probs={"vague": 0.5, "exact": 0.5})
    claims = _figures(s, war, cast, plan, rng)
    before = [c["qualifier"] for c in claims]
    _state(claims, rng)
    after = [c["qualifier"] for c in claims]
    assert after.count("vague") + after.count("about") >= before.count("vague")
    assert after.count("vague") <= before.count("vague")
    lexicon = default_lexicon()
    for c in claims:
        assert c["phrase"]
        if c["qualifier"] == "vague":
            low, high = lexicon.interval(c["phrase"])
            assert low <= c["figure"] <= high and c["value"] is None
        elif c["qualifier"] == "exact":
            assert abs(c["value"] - c["figure"]) <= 0.5 + 1e-9


def test_stage_mark_starts_and_relays():
    s, rng, war, cast, plan = _stages(n_claims=50, relay_prob=0.3)
    claims = _figures(s, war, cast, plan, rng)
    _state(claims, rng)
    _mark_starts(claims, war.populations)
    for p in war.populations:
        cumulative = [
            c for c in claims if c["population"] == p and c["kind"] == "cumulative" and c["category"] != "deployed"
        ]
        marked = [c for c in cumulative if c["start_idx"] == 0]
        assert len(marked) == (1 if cumulative else 0)
        if marked:
            assert (marked[0]["end_idx"], marked[0]["r"]) == min((c["end_idx"], c["r"]) for c in cumulative)
    relays = _relays(s, claims, plan.n_relays, rng)
    assert len(relays) == plan.n_relays
    for copy in relays:
        orig = copy["relay_of"]
        assert any(orig is c for c in claims)
        assert 1 <= copy["r"] - orig["r"] <= 14 and copy["figure"] == orig["figure"] and copy["explicit_end"]


def test_stage_tables_hold_every_claim_and_every_truth():
    s, rng, war, cast, plan = _stages(n_claims=40, stagger_days=0)  # one start: dates sort as days
    claims = _figures(s, war, cast, plan, rng)
    _state(claims, rng)
    everything = claims + _relays(s, claims, plan.n_relays, rng)
    table, claim_truths = _claims_table(war, cast, everything, citation="test")
    assert list(table.columns) == list(CLAIM_COLUMNS) and len(table) == s.n_claims
    assert list(table["claim_id"]) == [f"sim-{n:04d}" for n in range(1, s.n_claims + 1)]
    assert list(table["reported_on"]) == sorted(table["reported_on"])
    assert len(claim_truths) == 3 * s.n_claims
    truth = _truth_table(s, war, cast, claim_truths)
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    counts = truth["quantity"].value_counts()
    n_pops = len(war.populations)
    assert counts["cumulative"] == 3 * s.n_days * n_pops
    assert counts["bias"] == len(cast.sources) * n_pops
    assert counts["claim"] == counts["figure"] == counts["outlier"] == s.n_claims
