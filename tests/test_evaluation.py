"""The checks of a fit against a world's truth (``reconcile.evaluation``) on hand-made numbers."""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest
from conftest import ROOT

from reconcile.evaluation import bias_check


class _Estimates:
    """Stands in for a fit: only ``sources()`` is read by ``bias_check``."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def sources(self) -> pd.DataFrame:
        return self._frame


def test_bias_check_asks_the_stance_side_only_where_the_world_pushed_the_source():
    estimates = pd.DataFrame(
        {
            "source": ["inflater", "shy adversary", "deflater", "proud own", "monitor"],
            "stance": ["adversary", "adversary", "own", "own", "neutral"],
            "n_claims": [300, 1, 12, 1, 4],
            "bias_q05": [1.1, 1.0, 0.5, 0.9, 0.8],
            "bias_q50": [1.4, 1.2, 0.8, 1.1, 1.05],
            "bias_q95": [1.8, 1.6, 0.95, 1.4, 1.3],
            "population": "",
        }
    )
    truth = pd.DataFrame(
        {
            "source": ["inflater", "inflater", "shy adversary", "deflater", "proud own", "monitor"],
            "population": ["a", "b", "a", "b", "b", "a"],
            "stance": ["adversary", "adversary", "adversary", "own", "own", "neutral"],
            # "inflater" is 1.21 on one population and 1.69 on the other: geometric mean 1.43
            "mean_bias": [1.21, 1.69, 0.97, 0.7, 0.8, 0.9],
        }
    )
    out = bias_check(_Estimates(estimates), truth).set_index("source")
    assert out.loc["inflater", "true_bias"] == pytest.approx(1.43)
    # the world pushed the inflater up and the deflater down, and the fit says so
    assert out.loc["inflater", "pushed"] and out.loc["inflater", "stance_side"] == True  # noqa: E712
    assert out.loc["deflater", "pushed"] and out.loc["deflater", "stance_side"] == True  # noqa: E712
    # an own-side source the world made deflate, estimated above 1: the failure the check counts
    assert out.loc["proud own", "pushed"] and out.loc["proud own", "stance_side"] == False  # noqa: E712
    # an adversary the world did not make inflate is not held to inflating (but is on the wrong side)
    assert not out.loc["shy adversary", "pushed"] and out.loc["shy adversary", "stance_side"] is None
    assert not out.loc["shy adversary", "same_side"]
    # neutral sources have no side to be on
    assert not out.loc["monitor", "pushed"] and out.loc["monitor", "stance_side"] is None
    assert out.loc["monitor", "in90"] and not out.loc["monitor", "same_side"]
    # the rows benchmarks/worlds.py stores are strict JSON (null, not NaN, where nothing is asked)
    json.dumps(out.reset_index().to_dict("records"), allow_nan=False)
    # and its report's share, computed from the stored rows, is the same check
    spec = importlib.util.spec_from_file_location("worlds_benchmark", ROOT / "benchmarks" / "worlds.py")
    worlds_benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worlds_benchmark)
    assert worlds_benchmark.stance_side(out.reset_index().to_dict("records")) == pytest.approx(
        2 / 3
    )  # inflater and deflater of three pushed


def test_bias_check_reads_a_series_row_against_its_population():
    """Where a source keeps running counts of several populations, ``sources()`` has one more row
    per count (``population`` set): it is checked against the world's bias of that source on that
    population, and the source's own row against the populations it speaks of outside its counts
    only (a source known only through its counts is not checked on its own row)."""
    estimates = pd.DataFrame(
        {
            "source": ["ministry", "ministry", "ministry", "counter", "counter", "counter"],
            "stance": ["adversary"] * 6,
            "population": ["", "a", "b", "", "a", "b"],
            "n_claims": [320, 200, 100, 300, 150, 150],
            "bias_q05": [1.1, 0.6, 2.4, 0.9, 0.7, 1.2],
            "bias_q50": [1.3, 0.75, 2.9, 1.1, 0.8, 1.5],
            "bias_q95": [1.6, 0.9, 3.5, 1.3, 0.95, 1.8],
        }
    )
    truth = pd.DataFrame(
        {
            "source": ["ministry", "ministry", "ministry", "counter", "counter"],
            "population": ["a", "b", "c", "a", "b"],
            "stance": ["adversary"] * 5,
            "mean_bias": [0.74, 2.93, 1.4, 0.8, 1.6],
        }
    )
    out = bias_check(_Estimates(estimates), truth).set_index(["source", "population"])
    assert out.loc[("ministry", "a"), "true_bias"] == pytest.approx(0.74)
    assert out.loc[("ministry", "b"), "true_bias"] == pytest.approx(2.93)
    assert out.loc[("ministry", "b"), "in90"] and out.loc[("ministry", "b"), "stance_side"] == True  # noqa: E712
    # the ministry's own row: its statements on population c only
    assert out.loc[("ministry", ""), "true_bias"] == pytest.approx(1.4)
    # a source known only through its counts: its own row is not checked
    assert ("counter", "") not in out.index and len(out) == 5


def test_the_worlds_report_counts_the_biases_inside_their_intervals():
    """benchmarks/worlds.py's table: each fit's share of biases inside their 90% intervals, and
    the pooled share over every bias of every fit (not a mean of the fits' shares)."""
    spec = importlib.util.spec_from_file_location("worlds_benchmark", ROOT / "benchmarks" / "worlds.py")
    worlds_benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worlds_benchmark)

    def row(seed, inside):
        biases = [{"stance": "neutral", "true_bias": 1.0, "bias_q50": 1.1, "in90": v} for v in inside]
        checkpoints = [{"category": "killed", "in90": True, "in50": False}]
        return {
            "world": "w", "fit_seed": seed, "n_claims": 10, "wall_seconds": 1.0, "max_rhat": 1.0,
            "min_ess_bulk": 900.0, "min_ess_tail": 800.0, "divergences": 0, "coverage90": 1.0,
            "coverage50": 0.0, "bias_same_side": 1.0, "biases": biases, "checkpoints": checkpoints,
            "bias_in90": sum(inside) / len(inside), "exit_code": 0, "converged": True,
        }  # fmt: skip

    text = worlds_benchmark.report([row(1, [True, False]), {**row(2, [True, True, True, True]), "world_seed": 4}])
    lines = text.splitlines()
    assert lines[0].startswith("| world | world seed | fit seed |") and lines[0].endswith("| biases in 90% |")
    assert lines[2].startswith("| w | 0 | 1 |") and lines[3].startswith("| w | 4 | 2 |")  # no world seed stored: 0
    assert lines[2].endswith("| 50% |") and lines[3].endswith("| 100% |")
    assert "Source biases (6 values" in text and "inside their 90% intervals 83.3%." in text
    # two wars (world, world seed), each covering at 90% at its one checkpoint: no spread to show
    assert "resampled with replacement: 90% intervals 100.0%-100.0%, 50% intervals 0.0%-0.0%" in text
    assert worlds_benchmark.report([row(1, [True])]).count("resampled") == 0  # one war: nothing to resample
