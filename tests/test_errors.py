"""Every error reconcile raises on purpose shares one base, and keeps its built-in kind."""

from __future__ import annotations

import pytest

import reconcile
from reconcile.article import ArticleError
from reconcile.claims import ClaimsError, ClaimsFileMissing
from reconcile.config import ConfigError
from reconcile.errors import (
    BatchError,
    FitError,
    IncompatibleFit,
    InputFormatError,
    ModelDataError,
    OutputError,
    ReconcileError,
    UsageError,
)
from reconcile.review import ReviewError
from reconcile.tables import TableError


@pytest.mark.parametrize(
    "cls, builtin",
    [
        (ClaimsError, ValueError),
        (ClaimsFileMissing, FileNotFoundError),
        (ConfigError, ValueError),
        (ModelDataError, ValueError),
        (OutputError, OSError),
        (IncompatibleFit, ValueError),
        (BatchError, RuntimeError),
        (FitError, RuntimeError),
        (InputFormatError, ValueError),
        (UsageError, ValueError),
        (ArticleError, ValueError),
        (ReviewError, ValueError),
        (TableError, ValueError),
    ],
)
def test_each_error_is_a_reconcile_error_and_its_builtin_kind(cls, builtin):
    assert issubclass(cls, ReconcileError)
    assert issubclass(cls, builtin)


def test_the_base_catches_real_refusals(tmp_path):
    bad = tmp_path / "claims.csv"
    bad.write_text("claim_id,population\nx,y\n", encoding="utf-8")
    with pytest.raises(reconcile.ReconcileError):
        reconcile.read_claims(bad)
    config = tmp_path / "model.toml"
    config.write_text("[sampler]\ndraws = -1\n", encoding="utf-8")
    with pytest.raises(reconcile.ReconcileError, match="sampler.draws"):
        reconcile.load_config(config)


def test_the_errors_are_on_the_package():
    assert reconcile.ReconcileError is ReconcileError
    assert reconcile.FitError is FitError
