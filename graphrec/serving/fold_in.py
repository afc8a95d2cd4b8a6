r"""Fold-in: a vector for a user the model has not seen, or who interacted after the model
was trained, from LightGCN's user rule applied to the fixed, final item embeddings:

.. math::
    \mathbf{e}_u = \frac{1}{\sqrt{|N_u|}} \sum_{i \in N_u} \frac{\mathbf{e}_i}{\sqrt{d_i}},

where :math:`N_u` are the user's items and :math:`d_i` the popularity
(interaction count) of item :math:`i`. For MF it is the usual item-based fold-in.

A user with a trained vector who interacted since is ranked by one of two rules, recorded
per model version (:attr:`ModelVectors.fold_in`, from the registry's
:data:`~graphrec.models.registry.FOLD_IN` at write-back):

- ``"items"``: the fold-in of all the user's items replaces the trained vector;
- ``"change"``: the trained vector plus the change the new items make to the fold-in,
  :math:`\mathbf{e}_u + f(N_u) - f(N_u \setminus P_u)`, where :math:`P_u` are the items
  posted through the service since the version was trained. For LightGCN and relgnn,
  replacing the trained vector lost more than the new items brought; for MF and NGCF the
  ``"items"`` rule ranked better (bench/fold_in.py, bench/RESULTS.md "Fold-in against
  retraining").

Users without a trained vector get the fold-in of their items under either rule.
"""

from __future__ import annotations

import math

import numpy as np

from graphrec.serving.errors import UnknownUserError
from graphrec.serving.interactions import InteractionState
from graphrec.serving.results import Source
from graphrec.serving.vectors import ModelVectors


def fold_in(item_vectors: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    r"""LightGCN's user rule on fixed item embeddings (the module docstring).

    Args:
        item_vectors: ``(n, d)`` embeddings of the user's items.
        degrees: ``(n,)`` their popularity; values below 1 count as 1.
    """
    n = item_vectors.shape[0]
    if n == 0:
        raise ValueError("fold-in needs at least one item")
    weights = 1.0 / np.sqrt(np.maximum(np.asarray(degrees, dtype=np.float64), 1.0))
    return (weights @ item_vectors.astype(np.float64) / math.sqrt(n)).astype(np.float32)


def user_vector(
    model: ModelVectors, state: InteractionState, user_id: str
) -> tuple[np.ndarray | None, Source]:
    """The embedding to rank for ``user_id`` with, and where it comes from.

    The trained vector, unless the user interacted through the service after
    the model version was written (or has none): then a fold-in from the user's
    items, by the version's rule (the module docstring). ``(None, POPULARITY)``
    when neither is possible.

    Raises:
        UnknownUserError: the user has neither a trained vector nor interactions.
    """
    row = model.user_pos.get(user_id)
    if user_id not in state and row is None:
        raise UnknownUserError(f"unknown user {user_id!r}")
    interacted = state.interacted_at(user_id)
    if row is not None and (interacted is None or interacted <= model.trained_at):
        return model.user_vectors[row], Source.MODEL
    seen = state.seen(user_id)
    seen = seen[model.item_valid[seen]]
    if seen.size == 0:
        return None, Source.POPULARITY
    folded = fold_in(model.item_vectors[seen], state.popularity[seen])
    if row is None or model.fold_in == "items":
        return folded, Source.FOLD_IN
    posted = state.posted_since(user_id, model.trained_at)
    if posted.size == 0:  # only items the user already had: nothing changes
        return model.user_vectors[row], Source.MODEL
    older = np.setdiff1d(seen, posted)
    change = (
        folded - fold_in(model.item_vectors[older], state.popularity[older])
        if older.size
        else folded
    )
    return model.user_vectors[row] + change, Source.FOLD_IN
