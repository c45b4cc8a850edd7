"""The errors reconcile reports to its users. Light on purpose: the CLI imports it without PyMC.

Every error reconcile raises on purpose derives from :class:`ReconcileError` (and from the
built-in class it is a kind of, so ``except ValueError`` keeps working):
``except reconcile.ReconcileError`` catches what reconcile has a message for, and nothing else.
"""


class ReconcileError(Exception):
    """Base of every error reconcile raises on purpose; its message is meant for the user."""


class ModelDataError(ReconcileError, ValueError):
    """Valid claims that the model still cannot use (e.g. no loss claim at all)."""


class OutputError(ReconcileError, OSError):
    """The output directory cannot be written."""


class IncompatibleFit(ReconcileError, ValueError):
    """A saved fit cannot be read by this version of reconcile."""


class BatchError(ReconcileError, RuntimeError):
    """Many fits could not be run at all (e.g. no Dask scheduler at the given address)."""


class BatchWarning(UserWarning):
    """Some fits of a batch failed (the others are kept); rerunning the same call retries them."""


class FitError(ReconcileError, RuntimeError):
    """Sampling could not be carried out, or returned draws that cannot be used."""


class InputFormatError(ReconcileError, ValueError):
    """An input file other than the claims (an article) is not text of the expected kind."""


class UsageError(ReconcileError, ValueError):
    """A command-line argument that the input makes meaningless (``--until`` before the claims'
    last day): the command's usage is wrong (exit 2), not the data."""
