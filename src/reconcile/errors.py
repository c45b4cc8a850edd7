"""The errors reconcile reports to its users. Light on purpose: the CLI imports it without PyMC."""


class ModelDataError(ValueError):
    """Valid claims that the model still cannot use (e.g. no loss claim at all)."""


class OutputError(OSError):
    """The output directory cannot be written."""


class IncompatibleFit(ValueError):
    """A saved fit cannot be read by this version of reconcile."""


class BatchError(RuntimeError):
    """Many fits could not be run at all (e.g. no Dask scheduler at the given address)."""


class BatchWarning(UserWarning):
    """Some fits of a batch failed (the others are kept); rerunning the same call retries them."""


class InputFormatError(ValueError):
    """An input file other than the claims (an article) is not text of the expected kind."""
