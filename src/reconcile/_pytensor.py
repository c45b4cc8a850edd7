"""PyTensor's graph rewrites made to give the same graph in every process, so that compiled models
are found in the on-disk cache.

PyTensor names a compiled numba function by a hash of the *rewritten* graph. With PyTensor 2.38,
rewriting the same model twice, in two processes, does not always give the same graph:
``pytensor.tensor.extra_ops.broadcast_shape_iter`` (the shape of an elementwise operation on
arrays of unknown lengths) collects the candidate lengths of a dimension in a ``set`` of
variables, whose order follows their memory addresses, and takes the first of them as the
result's length (the others become run-time checks that they agree). Which array's length is
taken, and the order of the checks, change from run to run; the computed values do not. Each new
variant misses the cache and compiles again: a data-rich war (``long-2000``) paid ~60 s of numba
compilation on every fit, warm cache or not, and the shipped data's model came out in at least two
variants.

:func:`deterministic_rewrites` makes those two sets insertion-ordered (PyTensor's own
``OrderedSet``), so the first candidate is the first array in the operation's inputs, as the
function means. It is the only use of ``set()`` in that module; nothing else changes. When a
PyTensor version no longer uses ``set`` there, it does nothing.
"""

from __future__ import annotations

__all__ = ["deterministic_rewrites"]


def deterministic_rewrites() -> bool:
    """Make PyTensor's broadcast-shape inference independent of memory addresses (idempotent).

    Returns whether the patch is in effect."""
    from pytensor.misc.ordered_set import OrderedSet
    from pytensor.tensor import extra_ops

    if extra_ops.__dict__.get("set") is OrderedSet:
        return True
    if "set" not in extra_ops.broadcast_shape_iter.__code__.co_names:
        return False
    extra_ops.set = OrderedSet  # type: ignore[attr-defined]
    return True
