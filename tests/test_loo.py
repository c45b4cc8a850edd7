"""PSIS-LOO per claim (ArviZ) in claims_check.csv, Fit.claims_check() and the report, on the
session's real fit of the shipped data (tests/conftest.py), also when read back from posterior.nc."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reconcile.fitting import load_fit
from reconcile.model import ROLE_BOUND, ROLE_LOSS
from reconcile.summary import CHECK_COLUMNS, PARETO_K_LIMIT, pointwise_loo


def test_every_counted_claim_has_a_finite_pareto_k(shipped_fit):
    check = shipped_fit.claims_check()
    assert list(check.columns[: len(CHECK_COLUMNS)]) == CHECK_COLUMNS  # contract columns first, unchanged
    assert list(check.columns[-3:]) == ["pareto_k", "elpd_loo", "loo_flag"]  # appended
    counted = check[check["role"].isin([ROLE_LOSS, ROLE_BOUND])]
    assert len(counted) == len(shipped_fit.inputs.loss.claim_id) + len(shipped_fit.inputs.bound.claim_id)
    assert np.isfinite(counted["pareto_k"]).all() and np.isfinite(counted["elpd_loo"]).all()
    assert (counted["elpd_loo"] < 50).all()
    others = check[~check["role"].isin([ROLE_LOSS, ROLE_BOUND])]
    assert others["pareto_k"].isna().all() and (others["loo_flag"] == "").all()
    flagged = check["loo_flag"] != ""
    assert (flagged == (check["pareto_k"] > PARETO_K_LIMIT)).all()


@pytest.mark.filterwarnings("ignore:Estimated shape parameter")
def test_pareto_k_matches_arviz_directly(shipped_fit):
    import arviz as az

    loo = pointwise_loo(shipped_fit.idata)
    direct = az.loo(shipped_fit.idata, var_name="stated", pointwise=True)
    ids = [str(c) for c in shipped_fit.idata.log_likelihood["claim"].values]
    assert np.allclose([loo[c][0] for c in ids], np.asarray(direct.pareto_k))


def test_loo_columns_survive_the_round_trip_through_posterior_nc(shipped_fit, shipped_fit_dir):
    written = pd.read_csv(shipped_fit_dir / "claims_check.csv", keep_default_na=False, na_values=[""])
    assert {"pareto_k", "elpd_loo", "loo_flag"} <= set(written.columns)
    reloaded = load_fit(shipped_fit_dir).claims_check()
    assert np.allclose(reloaded["pareto_k"], shipped_fit.claims_check()["pareto_k"], equal_nan=True)
    assert np.allclose(written["pareto_k"], reloaded["pareto_k"], equal_nan=True, rtol=1e-5)


def test_report_explains_and_lists_pareto_k(shipped_fit):
    from reconcile.report import render_report

    page = render_report(shipped_fit)
    assert 'id="influential"' in page and "PSIS-LOO" in page
    assert "LOO Pareto k" in page
