"""reconcile: turn conflicting casualty claims into one honest estimate.

In a notebook::

    import reconcile
    claims = reconcile.read_claims("data/claims.csv")
    result = reconcile.fit(claims, reconcile.load_config("models/kursk.toml"), seed=1)
    result.estimates()

Heavy modules (PyMC) are imported on first use, so reading and validating claims stays fast.
"""

import warnings as _warnings
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

# ArviZ 0.23 announces its coming 1.0 refactor on the first import of each day: nothing a user of
# reconcile can act on (reconcile pins arviz<1), so it is not shown (issue 20).
_warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning)

try:
    __version__ = version("reconcile")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

_API = {
    "Claims": "claims",
    "ClaimsError": "claims",
    "read_claims": "claims",
    "claims_from_frame": "claims",
    "validate_claims": "claims",
    "Config": "config",
    "ConfigError": "config",
    "load_config": "config",
    "fit": "fitting",
    "Fit": "fitting",
    "load_fit": "fitting",
    "build_model": "model",
    "prepare": "model",
    "simulate": "simulation",
    "write_simulation": "simulation",
    "calibrate": "calibration",
    "leave_one_source_out": "refits",
    "sensitivity": "refits",
    "extract_claims": "extract",
    "default_lexicon": "lexicon",
    "ReconcileError": "errors",
    "FitError": "errors",
    "ModelDataError": "errors",
    "IncompatibleFit": "errors",
    "BatchError": "errors",
    "BatchWarning": "errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        module = import_module(f".{_API[name]}", __name__)
        # `fit` is both a module and a function: the function is the public name
        return getattr(module, name)
    raise AttributeError(f"module 'reconcile' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
