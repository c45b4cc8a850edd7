"""reconcile._fork.ArrayHelper: an array computed on the other core, or here, the same either way."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from conftest import assert_all_reaped

from reconcile import _fork

helps = pytest.mark.skipif(
    not (_fork.fork_is_safe() and _fork.cpus() >= 2), reason="no helper here (forking unsafe or one CPU)"
)


def _pid_and_values() -> np.ndarray:
    return np.array([float(os.getpid()), 1.5, -2.0])


@helps
def test_the_helper_computes_it_and_the_result_is_the_same(forked):
    parent = os.getpid()
    with _fork.ArrayHelper(_pid_and_values) as helper:
        got = helper.result()
    assert len(forked) == 1 and got[0] == forked[0] != parent
    assert got[1:].tolist() == [1.5, -2.0]
    assert_all_reaped(forked)


def test_without_a_second_cpu_it_is_computed_here(monkeypatch, forked):
    monkeypatch.setattr(_fork, "cpus", lambda: 1)
    with _fork.ArrayHelper(_pid_and_values) as helper:
        got = helper.result()
    assert forked == [] and got[0] == os.getpid()


@helps
def test_a_helper_that_fails_costs_only_time(forked):
    parent = os.getpid()

    def compute():
        if os.getpid() != parent:
            os._exit(5)
        return _pid_and_values()

    with _fork.ArrayHelper(compute) as helper:
        got = helper.result()
    assert len(forked) == 1 and got[0] == parent
    assert_all_reaped(forked)


@helps
def test_a_helper_too_slow_is_killed_and_the_work_done_here(forked):
    parent = os.getpid()

    def compute():
        if os.getpid() != parent:
            time.sleep(60)
        return _pid_and_values()

    with _fork.ArrayHelper(compute, patience=0.2) as helper:
        got = helper.result()
    assert got[0] == parent
    assert_all_reaped(forked)


@helps
def test_leaving_the_block_early_kills_the_helper_and_removes_its_file(forked):
    with pytest.raises(KeyboardInterrupt):
        with _fork.ArrayHelper(lambda: (time.sleep(60), np.zeros(1))[1]) as helper:
            path = helper._path
            assert path is not None and os.path.exists(path)
            raise KeyboardInterrupt
    assert len(forked) == 1
    assert_all_reaped(forked)
    assert not os.path.exists(path)
