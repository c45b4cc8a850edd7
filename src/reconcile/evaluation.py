"""A fit checked against a known truth: does each interval hold what it says it holds?

Used with the independent test worlds (``reconcile.worlds``), whose truth is drawn by a process
that shares nothing with the model, and by ``benchmarks/worlds.py``. The checks:

* **cumulative losses at checkpoints**: for each population, the dates of the estimates nearest
  to 25%, 50%, 75% and 100% of its span (``fractions``); for killed, wounded and casualties, the
  true cumulative figure, the posterior quantiles, whether the central 50% and 90% intervals hold
  it, and its rank among the posterior draws (uniform when calibrated);
* **source biases**: each source's true average factor (reported / true) per stance against its
  posterior, and whether the posterior median lies on the same side of 1.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .summary import category_draws

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
_CATEGORIES = ("killed", "wounded", "casualties")


def _checkpoint_indices(result, fractions: Sequence[float]) -> list[tuple[str, float, int]]:
    points = result.inputs.estimates
    out = []
    for j, pop in enumerate(result.inputs.populations):
        mine = np.flatnonzero(points["pop"].to_numpy() == j)
        days = points["day"].to_numpy()[mine]
        n_days = int(result.inputs.grid.n_days[j])
        for frac in fractions:
            k = mine[int(np.argmin(np.abs(days - max(1.0, frac * n_days))))]
            out.append((pop, float(frac), int(k)))
    return out


def checkpoint_coverage(result, truth: pd.DataFrame, fractions: Sequence[float] = FRACTIONS) -> pd.DataFrame:
    """One row per population, checkpoint and category: the truth, the posterior's quantiles,
    ``in50``/``in90`` and ``rank`` (the share of posterior draws below the truth).

    ``truth`` is a daily table with ``population, date, cum_killed, cum_wounded, cum_casualties``
    (cumulative since the population's start, through ``date``)."""
    draws = category_draws(result)
    points = result.inputs.estimates
    truth = truth.assign(date=pd.to_datetime(truth["date"]).dt.date)
    indexed = truth.set_index(["population", "date"])
    rows = []
    for pop, frac, k in _checkpoint_indices(result, fractions):
        date = points["date"].iloc[k]
        date = date.date() if hasattr(date, "date") else date
        if (pop, date) not in indexed.index:
            continue
        for category in _CATEGORIES:
            true = float(indexed.loc[(pop, date), f"cum_{category}"])
            samples = draws[category][:, k]
            q = np.quantile(samples, [0.05, 0.25, 0.5, 0.75, 0.95])
            rows.append(
                {
                    "population": pop,
                    "fraction": frac,
                    "date": date.isoformat(),
                    "category": category,
                    "truth": true,
                    "q05": q[0],
                    "q25": q[1],
                    "q50": q[2],
                    "q75": q[3],
                    "q95": q[4],
                    "in50": bool(q[1] <= true <= q[3]),
                    "in90": bool(q[0] <= true <= q[4]),
                    "rank": float((samples < true).mean()),
                    "log_error": float(np.log(q[2] / true)) if true > 0 else np.nan,
                }
            )
    return pd.DataFrame(rows)


def stance_sides(biases: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """For rows with ``stance``, ``true_bias`` and ``bias_q50``: whether the world pushed the
    source the way its stance says (an adversary's true bias above 1, an own side's below 1), and
    whether its posterior median is on that side of 1."""
    adversary, own = biases["stance"] == "adversary", biases["stance"] == "own"
    pushed = (adversary & (biases["true_bias"] > 1)) | (own & (biases["true_bias"] < 1))
    on_side = (adversary & (biases["bias_q50"] > 1)) | (own & (biases["bias_q50"] < 1))
    return pushed, on_side


def bias_check(result, sources_truth: pd.DataFrame) -> pd.DataFrame:
    """Each (source, stance) of the fit against the world's truth: ``true_bias`` is the geometric
    mean of the source's true average factors on the populations it has that stance towards
    (``sources_truth``: ``source, population, stance, mean_bias``); ``same_side`` says whether the
    posterior median is on the same side of 1 as the truth (a source the world made inflate is
    estimated to inflate). ``pushed`` marks the sources the world pushed the way their stance
    says (an adversary's true bias above 1, an own side's below 1) and ``stance_side`` whether
    the posterior median is on that side: the check issue 17 asks for ("every adversary source's
    bias estimated above 1 and every own-side source's below 1 where the world made it so");
    neutral sources and sources the world pushed the other way have neither. A drifting series'
    row of ``sources()`` (``population`` set) is checked against the world's bias of its source on
    that population, and a source's own row against the populations it speaks of outside its
    series only (a source known only through its series is not checked: its own bias then rests on
    its series' and its prior)."""
    est = result.sources()
    truth = sources_truth.copy()
    truth["log_bias"] = np.log(truth["mean_bias"].astype(float))
    # a drifting series' row (population set) against the world's bias of that source on that
    # population; a source's own row against its biases on the populations it speaks of outside
    # its series (none: not checked, its bias then rests on its series and its prior)
    series = est.loc[est["population"] != "", ["source", "population"]]
    in_series = truth.set_index(["source", "population"]).index.isin(pd.MultiIndex.from_frame(series))
    own = truth[~in_series].groupby(["source", "stance"], as_index=False)["log_bias"].mean()
    own["population"] = ""
    truth = pd.concat([own, truth.loc[in_series, ["source", "stance", "population", "log_bias"]]])
    truth["true_bias"] = np.exp(truth.pop("log_bias"))
    out = est.merge(truth, on=["source", "stance", "population"], how="inner")
    out["in90"] = (out["bias_q05"] <= out["true_bias"]) & (out["true_bias"] <= out["bias_q95"])
    out["same_side"] = np.sign(np.log(out["bias_q50"])) == np.sign(np.log(out["true_bias"]))
    out["pushed"], on_side = stance_sides(out)
    out["stance_side"] = on_side.astype(object).where(out["pushed"], None)  # None (JSON null) where not asked
    columns = ["source", "stance", "population", "n_claims", "true_bias", "bias_q05", "bias_q50", "bias_q95"]
    columns += ["in90", "same_side"]
    return out[[*columns, "pushed", "stance_side"]]


def summarise(checkpoints: pd.DataFrame) -> dict:
    """Coverage of the 50% and 90% intervals, overall and per category."""
    out = {
        "n": int(len(checkpoints)),
        "coverage50": float(checkpoints["in50"].mean()) if len(checkpoints) else float("nan"),
        "coverage90": float(checkpoints["in90"].mean()) if len(checkpoints) else float("nan"),
    }
    for category, part in checkpoints.groupby("category"):
        out[f"coverage90_{category}"] = float(part["in90"].mean())
    return out
