r"""Serving-time ranking over the in-memory index. Pure numpy: no database here.

The API (:mod:`graphrec.api`) and the CLI (``graphrec recommend`` / ``graphrec
similar``) both rank with this module; :mod:`graphrec.serving.index` fills the
index from the graph: a :class:`~graphrec.serving.vectors.Snapshot` (catalog and
model vectors, immutable) and an
:class:`~graphrec.serving.interactions.InteractionState` (mutable).

Scores are dot products of user and item embeddings (what the models optimise);
users without a usable trained vector are folded in (:mod:`graphrec.serving.fold_in`).

**Diversity** re-ranks the best candidates with maximal marginal relevance,

.. math::
    \arg\max_{j \notin S} \; (1 - \lambda)\, \hat r_j - \lambda \max_{s \in S} \cos(\mathbf{e}_j, \mathbf{e}_s),

with :math:`\hat r` the relevance scaled to :math:`[0, 1]` over the candidates
and :math:`\lambda` the ``diversity`` argument.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from graphrec.serving.catalog import Catalog
from graphrec.serving.errors import NoEmbeddingError, UnknownUserError
from graphrec.serving.fold_in import user_vector
from graphrec.serving.interactions import InteractionState
from graphrec.serving.results import Ranking, ScoredItem, Source
from graphrec.serving.vectors import ModelVectors, Snapshot

#: Largest ``k`` a caller may ask for.
MAX_K = 1_000

#: MMR re-ranks this many candidates per requested item (at least ``MMR_MIN_POOL``).
MMR_POOL_FACTOR = 5
MMR_MIN_POOL = 50


# -- ranking primitives -------------------------------------------------------------------------
def check_k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
    return k


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest finite scores, best first; ties go to the lower index."""
    n = scores.shape[0]
    if n == 0 or k <= 0:
        return np.empty(0, dtype=np.int64)
    if k < n:
        candidates = np.argpartition(scores, n - k)[n - k :]
        # Scores equal to the k-th may sit outside the partition: take them all, sort, cut.
        threshold = scores[candidates].min()
        candidates = np.flatnonzero(scores >= threshold) if np.isfinite(threshold) else candidates
    else:
        candidates = np.arange(n)
    candidates = candidates[np.isfinite(scores[candidates])]
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order][:k]


def mmr(relevance: np.ndarray, unit: np.ndarray, k: int, diversity: float) -> np.ndarray:
    """Greedy maximal marginal relevance over candidates.

    Args:
        relevance: ``(N,)`` candidates' scores.
        unit: ``(N, d)`` their unit-length embeddings.
        k: How many to pick.
        diversity: :math:`\\lambda` in ``[0, 1]``: 0 is the relevance order, 1 only novelty.

    Returns:
        Candidate indices in pick order.
    """
    n = relevance.shape[0]
    k = min(k, n)
    if k == 0:
        return np.empty(0, dtype=np.int64)
    span = float(relevance.max() - relevance.min())
    scaled = (relevance - relevance.min()) / span if span > 0 else np.ones(n)
    max_sim = np.full(n, -1.0)
    available = np.ones(n, dtype=bool)
    picked: list[int] = []
    for _ in range(k):
        gain = np.where(available, (1 - diversity) * scaled - diversity * max_sim, -np.inf)
        best = int(np.argmax(gain))
        picked.append(best)
        available[best] = False
        np.maximum(max_sim, unit @ unit[best], out=max_sim)
    return np.asarray(picked, dtype=np.int64)


def _ranked(
    catalog: Catalog, positions: np.ndarray, scores: np.ndarray, start: int = 1
) -> list[ScoredItem]:
    return [
        ScoredItem(catalog.item_ids[p], catalog.titles[p], float(s), rank)
        for rank, (p, s) in enumerate(zip(positions.tolist(), scores.tolist(), strict=True), start)
    ]


def recommend(
    snapshot: Snapshot,
    state: InteractionState,
    user_id: str,
    *,
    k: int = 10,
    model: str | None = None,
    exclude_seen: bool = True,
    concept: str | None = None,
    diversity: float = 0.0,
    known_user: bool = False,
    exclude: Sequence[str] = (),
    offset: int = 0,
) -> Ranking:
    """Top-``k`` items for ``user_id``.

    Args:
        snapshot: The index to rank with (take it once per request).
        state: Seen items, popularity and interaction times.
        user_id: The user.
        k: How many items, 1 to :data:`MAX_K` (default: 10).
        model: Model name (default: the snapshot's default model).
        exclude_seen: Leave out items the user interacted with (default: True).
        concept: Only items with this concept or one of its subconcepts (default: any).
        diversity: MMR trade-off in ``[0, 1]``; 0 ranks by score alone (default: 0).
        known_user: The caller knows the user exists (in the graph) although the
            index has nothing on them: answer with the popularity fallback
            instead of raising (default: False).
        exclude: Item ids to leave out (ids not in the catalog are ignored).
        offset: Skip the first ``offset`` items of the ranking: ranks ``offset + 1``
            to ``offset + k``, none past rank :data:`MAX_K` (default: 0).

    Raises:
        UnknownUserError, UnknownModelError, UnknownConceptError, ValueError (bad ``k``,
        ``offset`` or ``diversity``).
    """
    check_k(k)
    if not 0 <= offset < MAX_K:
        raise ValueError(f"offset must be between 0 and {MAX_K - 1}, got {offset}")
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"diversity must be between 0 and 1, got {diversity}")
    vectors = snapshot.model(model)
    catalog = snapshot.catalog
    candidates = catalog.members(concept) if concept is not None else None
    try:
        query, source = user_vector(vectors, state, user_id)
    except UnknownUserError:
        if not known_user:
            raise
        query, source = None, Source.POPULARITY

    if query is None:
        # Popularity needs no embedding: every catalog item can be ranked.
        scores = state.popularity.astype(np.float32)
    else:
        scores = vectors.item_vectors @ query
        scores[vectors.invalid_positions] = -np.inf
    if candidates is not None:
        restricted = np.full_like(scores, -np.inf)
        restricted[candidates] = scores[candidates]
        scores = restricted
    if exclude_seen:
        scores[state.seen(user_id)] = -np.inf
    excluded = [catalog.item_pos[i] for i in exclude if i in catalog.item_pos]
    if excluded:
        scores[np.asarray(excluded, dtype=np.int64)] = -np.inf

    depth = min(offset + k, MAX_K)
    if diversity > 0 and query is not None:
        pool = top_k(scores, max(depth * MMR_POOL_FACTOR, MMR_MIN_POOL))
        order = pool[mmr(scores[pool], vectors.item_unit[pool], depth, diversity)]
    else:
        order = top_k(scores, depth)
    order = order[offset:]
    return Ranking(
        vectors.name,
        vectors.version,
        source,
        _ranked(catalog, order, scores[order], start=offset + 1),
    )


def similar_items(
    snapshot: Snapshot, item_id: str, *, k: int = 10, model: str | None = None
) -> Ranking:
    """The ``k`` items whose embeddings are closest to ``item_id``'s by cosine similarity.

    Raises:
        UnknownItemError, UnknownModelError, NoEmbeddingError, ValueError (bad ``k``).
    """
    check_k(k)
    vectors = snapshot.model(model)
    position = snapshot.catalog.position(item_id)
    if not vectors.item_valid[position]:
        raise NoEmbeddingError(
            f"item {item_id!r} has no embedding in {vectors.key} (not trained, and no concept "
            "shared with a trained item)"
        )
    scores = vectors.item_unit @ vectors.item_unit[position]
    scores[vectors.invalid_positions] = -np.inf
    scores[position] = -np.inf
    order = top_k(scores, k)
    return Ranking(
        vectors.name, vectors.version, Source.MODEL, _ranked(snapshot.catalog, order, scores[order])
    )


def vector_lookup(
    model: ModelVectors, catalog: Catalog, state: InteractionState
) -> Callable[[str, str], np.ndarray | None]:
    """``lookup(label, id)`` over one model version, for ranking explanation paths.

    Items use their (trained or cold-started) vector; users their trained or
    folded-in vector, exactly as :func:`recommend` scores them.
    """

    def lookup(label: str, node_id: str) -> np.ndarray | None:
        if label == "Item":
            position = catalog.item_pos.get(node_id)
            if position is None or not model.item_valid[position]:
                return None
            return model.item_vectors[position]
        if label == "User":
            try:
                return user_vector(model, state, node_id)[0]
            except UnknownUserError:
                return None
        return None

    return lookup


def degree_lookup(catalog: Catalog, state: InteractionState) -> Callable[[str], float]:
    """``degree(item_id)``: an item's interaction count from memory (1 for an unknown item),
    the anchor weight of explanation ranking without a query per explanation."""

    def degree(item_id: str) -> float:
        position = catalog.item_pos.get(item_id)
        return 1.0 if position is None else float(state.popularity[position])

    return degree
