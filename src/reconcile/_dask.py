"""Dask glue for :mod:`reconcile.batch` (imported only with ``--scheduler``; needs ``reconcile[dask]``)."""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin


class PrivateCompiledir(WorkerPlugin):
    """Give every Dask worker process its own PyTensor compile directory as soon as the client
    connects, before any task imports PyTensor (see :func:`reconcile._compiledir.use_private_compiledir`)."""

    name = "reconcile-private-compiledir"

    def setup(self, worker) -> None:  # runs in the worker process
        from ._compiledir import use_private_compiledir

        use_private_compiledir()
