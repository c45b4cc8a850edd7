"""The reconciliation model: claims + configuration -> a PyMC model. No sampling, no files.

One module per job, read from the bottom up:

* :mod:`~reconcile.model.grid`: the time grid (steps whose widths follow the claims) and the
  slow curves laid on it (the walk's AR(1) coefficients, the killed share's knots);
* :mod:`~reconcile.model.inputs`: claims + configuration -> :class:`ModelInputs` (``prepare``):
  each claim's role, the sources, the arrays over loss claims and bounds, the drifting series;
* :mod:`~reconcile.model.likelihood`: each claim's likelihood location and scale at posterior
  draws, in numpy (the densities are :mod:`reconcile.observation`'s);
* :mod:`~reconcile.model.reparam`: how far each effect is centred and the rotations that
  separate what the claims pin from what they do not;
* :mod:`~reconcile.model.data`: every array the graph reads, typed (:class:`GraphData`);
* :mod:`~reconcile.model.graph`: the generative story (``build_model``), told step by step.
"""

from .data import GraphData, dims_of, graph_data, series_levels
from .graph import build_model
from .grid import Grid, last_day_covered
from .inputs import (
    CATEGORIES,
    ROLE_BOUND,
    ROLE_EARLY_STRENGTH,
    ROLE_LOSS,
    ROLE_NO_BOUND,
    ROLE_RELAY,
    ROLE_UNMODELLED,
    ROLE_WINDOW_STRENGTH,
    STANCE_ORDER,
    ModelInputs,
    free_stance_effects,
    hyperpriors,
    prepare,
    stance_priors,
)
from .likelihood import bound_terms, claim_location_scale, claim_noise_floor, observation_terms
from .reparam import uses_group_means

__all__ = [
    "CATEGORIES",
    "ROLE_BOUND",
    "ROLE_EARLY_STRENGTH",
    "ROLE_LOSS",
    "ROLE_NO_BOUND",
    "ROLE_RELAY",
    "ROLE_UNMODELLED",
    "ROLE_WINDOW_STRENGTH",
    "STANCE_ORDER",
    "Grid",
    "GraphData",
    "ModelInputs",
    "bound_terms",
    "build_model",
    "claim_location_scale",
    "claim_noise_floor",
    "dims_of",
    "free_stance_effects",
    "graph_data",
    "hyperpriors",
    "last_day_covered",
    "observation_terms",
    "prepare",
    "series_levels",
    "stance_priors",
    "uses_group_means",
]
