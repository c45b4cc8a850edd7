"""Tests of the world's simulator (reconcile.worlds): validity, sizes, determinism, the
features each world promises, the truth's consistency and the sources' recorded biases.

No model is fitted here. Worlds are built once per (name, seed) and shared by the tests.
"""

from __future__ import annotations

import ast
import functools
import math
import os
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reconcile import read_claims
from reconcile.lexicon import default_lexicon
from reconcile.worlds import (
    CLAIM_COLUMNS,
    TRUTH_COLUMNS,
    VAGUE_PHRASES,
    WORLDS,
    World,
    claims_csv_text,
    make_world,
    truth_csv_text,
    write_world,
)

MODULE = Path(__file__).resolve().parents[1] / "src" / "reconcile" / "worlds.py"


def _seeds(text: str) -> tuple[int, ...]:
    """Seeds from ``WORLDS_SEEDS`` ("0-2" or "0,5,9"): a wider sweep on demand."""
    if "-" in text:
        a, b = text.split("-")
        return tuple(range(int(a), int(b) + 1))
    return tuple(int(x) for x in text.split(","))


SEEDS = _seeds(os.environ.get("WORLDS_SEEDS", "0-2"))
CASES = [(name, seed) for name in WORLDS for seed in SEEDS]
LOSSES = ("killed", "wounded", "casualties")


@functools.lru_cache(maxsize=None)
def world(name: str, seed: int) -> World:
    return make_world(name, seed)


@functools.lru_cache(maxsize=None)
def claims_text(name: str, seed: int) -> str:
    return claims_csv_text(world(name, seed))


def originals(w: World) -> pd.DataFrame:
    """Claims joined with their answers: loss claims, not relays, outliers or stale."""
    j = w.claims.merge(w.answers, on="claim_id", validate="one_to_one")
    return j[j["category"].isin(LOSSES) & ~j["outlier"] & ~j["stale"] & ~j["relay"]]


def true_values(w: World, frame: pd.DataFrame) -> np.ndarray:
    """Truth a claim refers to, recomputed from ``w.truth`` (not from the answers)."""
    cum: dict[tuple[str, str], np.ndarray] = {}
    first: dict[str, date] = {}
    for pop, t in w.truth.groupby("population", sort=False):
        first[pop] = date.fromisoformat(t["date"].iloc[0])
        for cat in LOSSES:
            cum[(pop, cat)] = np.concatenate([[0], t[cat].to_numpy().cumsum()])
    out = []
    for rec in frame.itertuples(index=False):
        start = date.fromisoformat(rec.period_start) if rec.period_start else first[rec.population]
        end = date.fromisoformat(rec.period_end or rec.reported_on)
        c = cum[(rec.population, rec.category)]
        a = (start - first[rec.population]).days
        b = min((end - first[rec.population]).days, len(c) - 2)
        value = float(c[b + 1] - c[max(a, 0)])
        if rec.measure == "per_day":
            value /= (end - start).days + 1
        out.append(value)
    return np.array(out)


# --------------------------------------------------------------------------- independence


def test_module_imports_nothing_from_reconcile():
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    allowed = {
        "__future__",
        "bisect",
        "calendar",
        "io",
        "itertools",
        "math",
        "os",
        "tempfile",
        "dataclasses",
        "datetime",
        "typing",
        "numpy",
        "pandas",
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import on line {node.lineno}"
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top != "reconcile", f"imports {name} on line {node.lineno}"
            assert top in allowed, f"unexpected import {name} on line {node.lineno}"


# --------------------------------------------------------------------------- validity, sizes


@pytest.mark.parametrize("name,seed", CASES)
def test_claims_validate_and_size(name, seed, tmp_path):
    w = world(name, seed)
    claims_path, truth_path = tmp_path / "claims.csv", tmp_path / "truth.csv"
    write_world(w, claims_path, truth_path)
    claims = read_claims(claims_path)  # raises ClaimsError with row/column messages
    target = WORLDS[name].target
    assert 0.85 * target <= len(claims) <= 1.15 * target
    assert len(w.claims) == len(claims)
    # the start a reader infers is the true start of every population
    assert dict(claims.populations) == w.starts
    assert list(w.claims.columns) == list(CLAIM_COLUMNS)
    assert list(pd.read_csv(truth_path).columns) == list(TRUTH_COLUMNS)
    assert sorted(os.listdir(tmp_path)) == ["claims.csv", "truth.csv"]  # no temp files left
    # value_high only for range; vague phrases known to the lexicon
    c = w.claims
    assert c.loc[c["qualifier"] != "range", "value_high"].isna().all()
    assert (c.loc[c["qualifier"] != "vague", "value"] > 0).all()
    assert c["claim_id"].is_unique
    assert set(c["derived_from"]) - {""} <= set(c["claim_id"])
    assert set(c["stance"]) <= {"adversary", "own", "neutral"}
    for col in ("reported_on", "period_start", "period_end"):
        filled = c.loc[c[col] != "", col]
        assert filled.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


@pytest.mark.parametrize("name", list(WORLDS))
def test_deterministic_and_seeds_differ(name):
    texts = [claims_text(name, seed) for seed in SEEDS]
    again = make_world(name, SEEDS[0])
    assert claims_csv_text(again) == texts[0]
    assert truth_csv_text(again) == truth_csv_text(world(name, SEEDS[0]))
    assert len(set(texts)) == len(SEEDS)
    assert truth_csv_text(world(name, 1)) != truth_csv_text(world(name, 2))


def test_write_world_replaces_existing_files(tmp_path):
    w = world("sparse-20", 0)
    claims_path, truth_path = tmp_path / "c.csv", tmp_path / "t.csv"
    claims_path.write_text("old", encoding="utf-8")
    write_world(w, claims_path, truth_path)
    assert claims_path.read_bytes() == claims_csv_text(w).encode("utf-8")
    assert truth_path.read_bytes() == truth_csv_text(w).encode("utf-8")
    assert sorted(os.listdir(tmp_path)) == ["c.csv", "t.csv"]


def test_unknown_world_and_bad_seed():
    with pytest.raises(KeyError):
        make_world("no-such-world")
    with pytest.raises(ValueError):
        make_world("sparse-20", -1)


# --------------------------------------------------------------------------- the truth


@pytest.mark.parametrize("name,seed", CASES)
def test_truth_is_consistent(name, seed):
    w = world(name, seed)
    t = w.truth
    assert list(t.columns) == list(TRUTH_COLUMNS)
    assert (t["killed"] + t["wounded"] == t["casualties"]).all()
    assert (t[["killed", "wounded"]] >= 0).all().all()
    last = date.fromisoformat(w.meta["end_date"])
    for pop, frame in t.groupby("population"):
        days = pd.to_datetime(frame["date"])
        assert days.iloc[0].date() == w.starts[pop]
        assert days.iloc[-1].date() == last
        assert (days.diff().dropna() == pd.Timedelta(days=1)).all()
        for cat in LOSSES:
            assert (frame[f"cum_{cat}"].to_numpy() == frame[cat].to_numpy().cumsum()).all()
        # the killed share moves over time (phases and drift), by more than 0.05
        blocks = frame.assign(block=np.arange(len(frame)) // 30).groupby("block")[["killed", "casualties"]].sum()
        blocks = blocks[blocks["casualties"] >= 200]
        share = blocks["killed"] / blocks["casualties"]
        assert share.max() - share.min() > 0.05, pop


@pytest.mark.parametrize("name", list(WORLDS))
def test_checkpoints(name):
    w = world(name, 0)
    cp = w.checkpoints(4)
    assert len(cp) == 4 * len(w.starts)
    for pop, frame in cp.groupby("population"):
        assert list(frame["fraction"]) == [0.25, 0.5, 0.75, 1.0]
        assert frame["cum_casualties"].is_monotonic_increasing
        final = w.truth[w.truth["population"] == pop].iloc[-1]
        assert frame["cum_casualties"].iloc[-1] == final["cum_casualties"]
        assert (frame["cum_killed"] + frame["cum_wounded"] == frame["cum_casualties"]).all()
    assert len(w.checkpoints(2)) == 2 * len(w.starts)


@pytest.mark.parametrize("name,seed", CASES)
def test_answers_match_the_truth(name, seed):
    w = world(name, seed)
    j = w.claims.merge(w.answers, on="claim_id", validate="one_to_one")
    losses = j[j["category"].isin(LOSSES)]
    recomputed = true_values(w, losses)
    assert np.allclose(recomputed, losses["true_value"].to_numpy(), rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------- statements


@pytest.mark.parametrize("name,seed", CASES)
def test_statements_agree_with_the_sources_figures(name, seed):
    """Each stated number is what a person would say of the source's (hidden) figure."""
    w = world(name, seed)
    j = w.claims.merge(w.answers, on="claim_id", validate="one_to_one")
    lexicon = default_lexicon()
    for rec in j.itertuples(index=False):
        f, v, q = rec.figure, rec.value, rec.qualifier
        if q == "exact":
            assert abs(v - f) <= max(0.051, 0.5 + 1e-9), rec.claim_id
        elif q == "about":
            assert 0.6 * f <= v <= 1.5 * f, rec.claim_id
        elif q == "at_least":
            assert v <= f + 1e-9, rec.claim_id
        elif q == "more_than":
            assert v < f, rec.claim_id
        elif q == "at_most":
            assert v >= f, rec.claim_id
        elif q == "fewer_than":
            assert v > f, rec.claim_id
        elif q == "range":
            assert v <= f <= rec.value_high, rec.claim_id
        else:
            low, high = lexicon.interval(rec.phrase)
            assert low <= f <= high, rec.claim_id
        if q != "vague":
            # the quote contains the figure as stated
            words = rec.phrase
            assert words in rec.quote or words[:1].upper() + words[1:] in rec.quote, rec.claim_id


def test_vague_phrases_are_the_lexicons():
    lexicon = default_lexicon()
    for _lang, phrases in VAGUE_PHRASES.items():
        for phrase, low, high in phrases:
            assert lexicon.interval(phrase) == (low, high), phrase


# --------------------------------------------------------------------------- features


def _runs(days: list[date]) -> int:
    """Longest run of consecutive days."""
    best = run = 1
    for a, b in zip(days, days[1:]):
        run = run + 1 if (b - a).days == 1 else 1
        best = max(best, run)
    return best


def _tally_groups(w: World):
    """Running tallies, as (source, population, category) -> claims sorted by date."""
    j = w.claims.merge(w.answers[["claim_id", "kind"]], on="claim_id")
    tallies = j[j["kind"].str.startswith("running_tally")]
    for key, g in tallies.groupby(["source", "population", "category"]):
        assert (g["qualifier"] == "exact").all()
        assert (g["period_start"] == w.starts[key[1]].isoformat()).all()
        yield key, g.sort_values("reported_on")


@pytest.mark.parametrize("name,seed", CASES)
def test_promised_features(name, seed):
    w = world(name, seed)
    spec = WORLDS[name]
    promises = set(spec.promises)
    c = w.claims
    j = c.merge(w.answers, on="claim_id", validate="one_to_one")
    if "daily_tally" in promises:
        found = False
        for key, g in _tally_groups(w):
            days = [date.fromisoformat(d) for d in g["reported_on"]]
            if len(g) >= 300 and _runs(days) >= 300:
                assert g["value"].is_monotonic_increasing, key
                found = True
        assert found, "no daily running tally of >= 300 consecutive days"
    if "weekly_tally" in promises:
        found = False
        for key, g in _tally_groups(w):
            days = [date.fromisoformat(d) for d in g["reported_on"]]
            gaps = {(b - a).days for a, b in zip(days, days[1:])}
            if len(g) >= 20 and gaps == {7}:
                assert g["value"].is_monotonic_increasing, key
                found = True
        assert found, "no weekly running tally"
    if "per_day" in promises:
        assert (c["measure"] == "per_day").any()
    if "window" in promises:
        windows = c[
            (c["period_start"] != "")
            & (c["measure"] == "total")
            & (c.apply(lambda r: r["period_start"] != w.starts[r["population"]].isoformat(), axis=1))
        ]
        assert len(windows) > 0
    for qualifier in ("vague", "more_than", "range", "at_least"):
        if qualifier in promises:
            assert (c["qualifier"] == qualifier).any(), qualifier
    if "relay" in promises:
        relays = c[c["derived_from"] != ""]
        assert len(relays) > 0
        parents = c.set_index("claim_id").loc[relays["derived_from"]]
        same = parents["value"].fillna(-1).to_numpy() == relays["value"].fillna(-1).to_numpy()
        assert same.all()
        assert (parents["reported_on"].to_numpy() <= relays["reported_on"].to_numpy()).all()
        assert (parents["citation"].to_numpy() != relays["citation"].to_numpy()).all()
    if "repeat" in promises:
        assert (j["kind"] == "repeat").any()
    if "deployed" in promises:
        assert (c["category"] == "deployed").any()
    if "name_count" in promises:
        names = j[j["kind"] == "name_count"]
        assert len(names) > 0
        assert (names["qualifier"] == "at_least").all()
        assert names["notes"].str.contains("Name count").all()
        truth = true_values(w, names)
        assert (names["value"].to_numpy() < truth).all()
        capture = names["value"].to_numpy() / truth
        assert capture.min() >= 0.1 and capture.max() <= 0.75
    if "outlier" in promises:
        flagged = j[j["outlier"] & ~j["relay"]]
        assert len(flagged) >= 1
        assert set(flagged["claim_id"]) == set(w.meta["outliers"])
        factors = flagged["outlier_factor"].to_numpy()
        assert (np.abs(np.log(factors)) >= math.log(3) - 1e-9).all()
        assert (np.abs(np.log(factors)) <= math.log(10) + 1e-9).all()
    if "drift" in promises:
        o = originals(w)
        best = 0.0
        for _, g in o.groupby(["source_key", "population"]):
            if len(g) < 6:
                continue
            g = g.sort_values("reported_on")
            q = max(len(g) // 4, 1)
            change = abs(np.log(g["ratio"].iloc[-q:]).mean() - np.log(g["ratio"].iloc[:q]).mean())
            best = max(best, change)
        assert best > math.log(1.1), "no source's bias drifts by more than 10 %"


@pytest.mark.parametrize("name,seed", CASES)
def test_deployed_claims_bound_the_casualties(name, seed):
    w = world(name, seed)
    j = w.claims.merge(w.answers, on="claim_id")
    dep = j[j["category"] == "deployed"]
    for rec in dep.itertuples(index=False):
        frame = w.truth[(w.truth["population"] == rec.population) & (w.truth["date"] <= rec.reported_on)]
        so_far = int(frame["cum_casualties"].iloc[-1]) if len(frame) else 0
        # a vague strength ("tens of thousands") only has to reach above the losses
        high = default_lexicon().interval(rec.phrase)[1] if rec.qualifier == "vague" else rec.value
        assert high > so_far, rec.claim_id
        assert rec.figure > so_far and rec.true_value > so_far, rec.claim_id


def test_ministry_world_shape():
    w = world("ministry-500", 0)
    assert len(w.starts) == 3
    assert w.claims["source_group"].nunique() == 7
    kinds = w.sources.groupby("kind").size()
    assert kinds.get("running_tally_daily", 0) == 1
    assert kinds.get("name_count", 0) >= 1


# --------------------------------------------------------------------------- sources and bias


@pytest.mark.parametrize("name,seed", CASES)
def test_sources_table_and_stances(name, seed):
    w = world(name, seed)
    s = w.sources
    assert {"source", "source_group", "population", "stance", "mean_bias", "noise_sd", "drift_sd", "kind"} <= set(
        s.columns
    )
    pairs = set(zip(w.claims["source"], w.claims["population"]))
    assert pairs == set(zip(s["source"], s["population"]))
    # the stance written in the claims is the one the world used
    stance = dict(zip(zip(s["source"], s["population"]), s["stance"]))
    assert all(stance[(a, b)] == st for a, b, st in zip(w.claims["source"], w.claims["population"], w.claims["stance"]))
    # the generated bias agrees with the stance
    base = s[s["kind"] != "name_count"]
    assert (base.loc[base["stance"] == "own", "base_bias"] <= 1.1 + 1e-9).all()
    assert (base.loc[base["stance"] == "adversary", "base_bias"] >= 0.85 - 1e-9).all()
    neutral = base.loc[base["stance"] == "neutral", "base_bias"]
    assert ((neutral >= 0.79) & (neutral <= 1.26)).all()
    # groups are consistent: one source, one group
    assert (w.claims.groupby("source")["source_group"].nunique() == 1).all()


@pytest.mark.parametrize("name,seed", CASES)
def test_mean_bias_recomputed_from_exact_claims(name, seed):
    """mean_bias (geometric mean of figure / truth) matches exact claims against the truth."""
    w = world(name, seed)
    o = originals(w)
    exact = o[o["qualifier"] == "exact"]
    ratio = exact["value"].to_numpy() / true_values(w, exact)
    exact = exact.assign(log_ratio=np.log(ratio))
    table = w.sources.set_index(["source", "population"])
    checked = 0
    for (source, pop), g in exact.groupby(["source", "population"]):
        row = table.loc[(source, pop)]
        recomputed = g["log_ratio"].mean()
        recorded = math.log(row["mean_bias"])
        if len(g) == row["n_bias_claims"] and len(g) >= 5:
            # every claim of the pair is exact (a tally): equal up to rounding
            assert abs(recomputed - recorded) < 0.01, (source, pop)
            checked += 1
        elif len(g) >= 10:
            assert abs(recomputed - recorded) < 0.25, (source, pop)
            checked += 1
    if any(k.startswith("running_tally") for k in w.sources["kind"]):
        assert checked >= 1
