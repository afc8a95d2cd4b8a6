r"""Serving-time recommendation over an in-memory index. Pure numpy: no database here.

The API (:mod:`graphrec.api`) and the CLI (``graphrec recommend`` / ``graphrec
similar``) both rank with this module; :mod:`graphrec.serving.index` fills its
structures from the graph.

The index has two parts:

- a :class:`Snapshot`, immutable: the :class:`Catalog` (items, titles, concepts
  and their hierarchy) and one :class:`ModelVectors` per loaded model (item and
  user embeddings of one model *version*, aligned with the catalog). A request
  takes the current snapshot once and uses only it, so it sees one version;
  reloading or adding an item builds a new snapshot and swaps the reference.
- an :class:`InteractionState`, mutable: each user's seen items, item
  popularity, and when a user last interacted through the service (which
  decides fold-in).

Scores are dot products of user and item embeddings (what the models optimise).

**Fold-in** (a user the model has not seen, or who interacted after the model
was trained) applies LightGCN's user rule to the fixed, final item embeddings:

.. math::
    \mathbf{e}_u = \frac{1}{\sqrt{|N_u|}} \sum_{i \in N_u} \frac{\mathbf{e}_i}{\sqrt{d_i}},

where :math:`N_u` are the user's items and :math:`d_i` the popularity
(interaction count) of item :math:`i`. It is used for every model: for MF it is
the usual item-based fold-in.

**Cold start** (an item without a trained embedding) takes the mean of its
concepts' centroids, each centroid being the mean embedding of the trained items
that have the concept (:func:`graphrec.serving.cold_start.fallback_embeddings`).

**Diversity** re-ranks the best candidates with maximal marginal relevance,

.. math::
    \arg\max_{j \notin S} \; (1 - \lambda)\, \hat r_j - \lambda \max_{s \in S} \cos(\mathbf{e}_j, \mathbf{e}_s),

with :math:`\hat r` the relevance scaled to :math:`[0, 1]` over the candidates
and :math:`\lambda` the ``diversity`` argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

import numpy as np

from graphrec.serving.cold_start import concept_centroids, mean_of_concepts

#: Largest ``k`` a caller may ask for.
MAX_K = 1_000

#: MMR re-ranks this many candidates per requested item (at least ``MMR_MIN_POOL``).
MMR_POOL_FACTOR = 5
MMR_MIN_POOL = 50


# -- errors (the API maps them to 404) ----------------------------------------------------------
class UnknownError(LookupError):
    """Something a request names is not in the index."""


class UnknownUserError(UnknownError):
    pass


class UnknownItemError(UnknownError):
    pass


class UnknownConceptError(UnknownError):
    pass


class UnknownModelError(UnknownError):
    pass


class NoEmbeddingError(UnknownError):
    """The item exists but the model has no embedding for it (no trained vector, no concepts)."""


# -- the catalog ------------------------------------------------------------------------------------
def _index(ids: Sequence[str]) -> Mapping[str, int]:
    return MappingProxyType({value: i for i, value in enumerate(ids)})


def _ancestors(parents: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """Each concept with all its ancestors (``SUBCONCEPT_OF`` followed upwards, cycles tolerated)."""
    closure: list[tuple[int, ...]] = []
    for start in range(len(parents)):
        seen = {start}
        stack = [start]
        while stack:
            for parent in parents[stack.pop()]:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        closure.append(tuple(sorted(seen)))
    return closure


@dataclass(frozen=True)
class Catalog:
    """Items and concepts by position. Build with :meth:`build`; grow with :meth:`with_item`.

    Attributes:
        item_ids: Business ids of the items; an item's position is its index here.
        titles: Item titles (``None`` when unknown).
        item_concepts: Concept positions of each item (direct ``HAS_CONCEPT`` edges).
        concept_ids: Business ids of the concepts.
        concept_ancestors: Each concept's position with all its ancestors' positions.
    """

    item_ids: tuple[str, ...]
    titles: tuple[str | None, ...]
    item_concepts: tuple[tuple[int, ...], ...]
    concept_ids: tuple[str, ...]
    concept_ancestors: tuple[tuple[int, ...], ...]
    item_pos: Mapping[str, int] = field(init=False, repr=False, compare=False)
    concept_pos: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not len(self.item_ids) == len(self.titles) == len(self.item_concepts):
            raise ValueError("item_ids, titles and item_concepts need one entry per item")
        object.__setattr__(self, "item_pos", _index(self.item_ids))
        object.__setattr__(self, "concept_pos", _index(self.concept_ids))

    @classmethod
    def build(
        cls,
        item_ids: Sequence[str],
        titles: Sequence[str | None],
        item_concepts: Sequence[Iterable[str]],
        concept_ids: Sequence[str],
        subconcept_of: Iterable[tuple[str, str]] = (),
    ) -> Catalog:
        """A catalog from business ids.

        Args:
            item_ids: Items in position order.
            titles: One title per item.
            item_concepts: Concept ids per item; ids not in ``concept_ids`` are dropped.
            concept_ids: All concepts.
            subconcept_of: ``(child, parent)`` concept id pairs.
        """
        concept_pos = {c: i for i, c in enumerate(concept_ids)}
        parents: list[list[int]] = [[] for _ in concept_ids]
        for child, parent in subconcept_of:
            if child in concept_pos and parent in concept_pos:
                parents[concept_pos[child]].append(concept_pos[parent])
        memberships = tuple(
            tuple(sorted({concept_pos[c] for c in concepts if c in concept_pos}))
            for concepts in item_concepts
        )
        return cls(
            item_ids=tuple(item_ids),
            titles=tuple(titles),
            item_concepts=memberships,
            concept_ids=tuple(concept_ids),
            concept_ancestors=tuple(_ancestors(parents)),
        )

    @property
    def num_items(self) -> int:
        return len(self.item_ids)

    def position(self, item_id: str) -> int:
        try:
            return self.item_pos[item_id]
        except KeyError:
            raise UnknownItemError(f"unknown item {item_id!r}") from None

    def concept_position(self, concept_id: str) -> int:
        try:
            return self.concept_pos[concept_id]
        except KeyError:
            raise UnknownConceptError(f"unknown concept {concept_id!r}") from None

    def members(self, concept_id: str) -> np.ndarray:
        """Positions of the items that have ``concept_id`` or one of its subconcepts, sorted."""
        return self._members()[self.concept_position(concept_id)]

    def _members(self) -> tuple[np.ndarray, ...]:
        cached = self.__dict__.get("_members_cache")
        if cached is None:
            buckets: list[list[int]] = [[] for _ in self.concept_ids]
            for item, concepts in enumerate(self.item_concepts):
                for concept in {a for c in concepts for a in self.concept_ancestors[c]}:
                    buckets[concept].append(item)
            cached = tuple(np.asarray(b, dtype=np.int64) for b in buckets)
            object.__setattr__(self, "_members_cache", cached)  # derived, safe to share
        return cached

    def concept_positions(self, concept_ids: Iterable[str]) -> tuple[int, ...]:
        """Positions of the known concepts among ``concept_ids`` (unknown ones dropped)."""
        return tuple(sorted({self.concept_pos[c] for c in concept_ids if c in self.concept_pos}))

    def with_item(
        self, item_id: str, title: str | None, concept_ids: Sequence[str]
    ) -> tuple[Catalog, tuple[str, ...]]:
        """A new catalog with one more item (last position), creating unknown concepts.

        Returns the catalog and the concept ids that were new to it.
        """
        if item_id in self.item_pos:
            raise ValueError(f"item {item_id!r} is already in the catalog")
        new_concepts = tuple(dict.fromkeys(c for c in concept_ids if c not in self.concept_pos))
        all_concepts = self.concept_ids + new_concepts
        positions = {c: i for i, c in enumerate(all_concepts)}
        memberships = tuple(sorted({positions[c] for c in concept_ids}))
        grown = Catalog(
            item_ids=self.item_ids + (item_id,),
            titles=self.titles + (title,),
            item_concepts=self.item_concepts + (memberships,),
            concept_ids=all_concepts,
            concept_ancestors=self.concept_ancestors + tuple((positions[c],) for c in new_concepts),
        )
        cached = self.__dict__.get("_members_cache")
        if cached is not None:  # extend the concept filter's buckets instead of recomputing them
            buckets = list(cached) + [np.empty(0, dtype=np.int64) for _ in new_concepts]
            position = len(self.item_ids)
            for concept in {a for c in memberships for a in grown.concept_ancestors[c]}:
                buckets[concept] = np.append(buckets[concept], position)
            object.__setattr__(grown, "_members_cache", tuple(buckets))
        return grown, new_concepts


# -- one model version's vectors ----------------------------------------------------------------
def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class ModelVectors:
    """The embeddings of one model version, item rows aligned with a :class:`Catalog`.

    Build with :meth:`build`, which cold-starts items that have concepts but no
    trained vector.

    Attributes:
        name: Model name (``"lightgcn"``).
        version: Version written back to the graph.
        trained_at: When the version was written, in seconds since the epoch.
        item_vectors: ``(I, d)`` float32, zero rows for items without an embedding.
        item_valid: ``(I,)`` which rows are real (trained or cold-started).
        item_trained: ``(I,)`` which rows come from training.
        user_ids: Users with a trained vector, in row order.
        user_vectors: ``(U, d)`` float32.
        centroids: ``(C, d)`` mean trained-item vector per catalog concept (cold start).
        centroid_counts: ``(C,)`` trained items behind each centroid.
    """

    name: str
    version: int
    trained_at: float
    item_vectors: np.ndarray
    item_valid: np.ndarray
    item_trained: np.ndarray
    user_ids: tuple[str, ...]
    user_vectors: np.ndarray
    centroids: np.ndarray
    centroid_counts: np.ndarray
    item_unit: np.ndarray = field(init=False, repr=False, compare=False)
    invalid_positions: np.ndarray = field(init=False, repr=False, compare=False)
    user_pos: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("item_vectors", "user_vectors", "centroids"):
            object.__setattr__(
                self, name, _frozen(np.asarray(getattr(self, name), dtype=np.float32))
            )
        for name in ("item_valid", "item_trained"):
            object.__setattr__(self, name, _frozen(np.asarray(getattr(self, name), dtype=bool)))
        object.__setattr__(self, "item_unit", _frozen(_unit_rows(self.item_vectors)))
        object.__setattr__(self, "invalid_positions", _frozen(np.flatnonzero(~self.item_valid)))
        object.__setattr__(self, "user_pos", _index(self.user_ids))

    @property
    def key(self) -> str:
        """``"<name>@<version>"``, as on the graph's ``(:Model)`` node."""
        return f"{self.name}@{self.version}"

    @property
    def dim(self) -> int:
        return int(self.item_vectors.shape[1])

    @classmethod
    def build(
        cls,
        *,
        name: str,
        version: int,
        trained_at: float,
        catalog: Catalog,
        item_ids: Sequence[str],
        item_vectors: np.ndarray,
        user_ids: Sequence[str],
        user_vectors: np.ndarray,
    ) -> ModelVectors:
        """Align trained item vectors with ``catalog`` and cold-start the rest.

        Items of ``item_ids`` that are not in the catalog are ignored; catalog
        items without a trained vector get one from their concepts when a
        trained item shares one of them, and stay invalid otherwise.
        """
        item_vectors = np.asarray(item_vectors, dtype=np.float32)
        dim = item_vectors.shape[1]
        aligned = np.zeros((catalog.num_items, dim), dtype=np.float32)
        trained = np.zeros(catalog.num_items, dtype=bool)
        rows = [(catalog.item_pos[i], r) for r, i in enumerate(item_ids) if i in catalog.item_pos]
        if rows:
            positions, source = (np.asarray(x, dtype=np.int64) for x in zip(*rows, strict=True))
            aligned[positions] = item_vectors[source]
            trained[positions] = True
        warm = np.flatnonzero(trained)
        centroids, counts = concept_centroids(
            aligned[warm],
            [catalog.item_concepts[i] for i in warm],
            len(catalog.concept_ids),
        )
        valid = trained.copy()
        cold = np.flatnonzero(~trained)
        if cold.size:
            estimate = mean_of_concepts(
                centroids, [catalog.item_concepts[i] for i in cold], usable=counts > 0
            )
            aligned[cold] = estimate.vectors
            valid[cold] = estimate.covered
        return cls(
            name=name,
            version=version,
            trained_at=trained_at,
            item_vectors=aligned,
            item_valid=valid,
            item_trained=trained,
            user_ids=tuple(user_ids),
            user_vectors=np.asarray(user_vectors, dtype=np.float32).reshape(len(user_ids), dim),
            centroids=centroids,
            centroid_counts=counts,
        )

    def cold_start(self, concept_positions: Sequence[int]) -> np.ndarray | None:
        """An embedding from concepts (positions in this model's catalog), or ``None`` when
        no trained item shares any of them."""
        usable = self.centroid_counts > 0
        known = [c for c in concept_positions if c < len(usable)]
        estimate = mean_of_concepts(self.centroids, [known], usable=usable)
        return estimate.vectors[0] if estimate.covered[0] else None

    def with_item(self, vector: np.ndarray | None, num_concepts: int) -> ModelVectors:
        """A copy with one more item row (last position); ``None`` makes it an invalid row.

        ``num_concepts`` is the grown catalog's concept count: new concepts get
        empty centroids.
        """
        row = np.zeros((1, self.dim), dtype=np.float32) if vector is None else vector[None, :]
        extra = num_concepts - len(self.centroid_counts)
        return replace(
            self,
            item_vectors=np.vstack([self.item_vectors, row.astype(np.float32)]),
            item_valid=np.append(self.item_valid, vector is not None),
            item_trained=np.append(self.item_trained, False),
            centroids=np.vstack([self.centroids, np.zeros((extra, self.dim), np.float32)]),
            centroid_counts=np.append(self.centroid_counts, np.zeros(extra, dtype=np.int64)),
        )


# -- the snapshot ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """A catalog and the models aligned with it. Immutable: replace, never mutate."""

    catalog: Catalog
    models: Mapping[str, ModelVectors]
    default_model: str

    def __post_init__(self) -> None:
        if self.default_model not in self.models:
            raise ValueError(f"default model {self.default_model!r} is not loaded")
        for model in self.models.values():
            if model.item_vectors.shape[0] != self.catalog.num_items:
                raise ValueError(f"{model.key}: item rows do not match the catalog")
        object.__setattr__(self, "models", MappingProxyType(dict(self.models)))

    def model(self, name: str | None = None) -> ModelVectors:
        """The loaded version of model ``name`` (the default model for ``None``)."""
        key = self.default_model if name is None else name
        try:
            return self.models[key]
        except KeyError:
            loaded = ", ".join(sorted(self.models))
            raise UnknownModelError(f"unknown model {key!r}; loaded: {loaded}") from None

    def with_item(
        self, item_id: str, title: str | None, concept_ids: Sequence[str]
    ) -> tuple[Snapshot, dict[str, np.ndarray | None]]:
        """A snapshot with one more item, cold-started in every model from its concepts.

        Returns the snapshot and each model's vector for the item (``None``: no
        trained item shares its concepts).
        """
        catalog, _ = self.catalog.with_item(item_id, title, concept_ids)
        positions = catalog.item_concepts[-1]
        vectors = {name: m.cold_start(positions) for name, m in self.models.items()}
        models = {
            name: m.with_item(vectors[name], len(catalog.concept_ids))
            for name, m in self.models.items()
        }
        return Snapshot(catalog, models, self.default_model), vectors


# -- the mutable part: who has seen what ----------------------------------------------------------
class InteractionState:
    """Users' seen items and item popularity, updated as interactions arrive.

    Positions refer to the catalog this state was loaded with; catalogs grown
    by :meth:`Catalog.with_item` keep them (call :meth:`grow` after adding an item).

    Args:
        seen: Per user, the positions of their items.
        popularity: Interactions per item position.
    """

    def __init__(self, seen: Mapping[str, np.ndarray], popularity: np.ndarray) -> None:
        self._base = dict(seen)
        self._extra: dict[str, set[int]] = {}
        self._popularity = np.asarray(popularity, dtype=np.float64).copy()
        self._interacted_at: dict[str, float] = {}

    @property
    def popularity(self) -> np.ndarray:
        return self._popularity

    @property
    def num_users(self) -> int:
        """Users with at least one interaction."""
        return len(self._base) + sum(1 for user in self._extra if user not in self._base)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._base or user_id in self._extra

    def seen(self, user_id: str) -> np.ndarray:
        """Positions of the items ``user_id`` has interacted with (unsorted, distinct)."""
        base = self._base.get(user_id)
        extra = self._extra.get(user_id)
        if extra is None:
            return base if base is not None else np.empty(0, dtype=np.int64)
        added = np.fromiter(extra, dtype=np.int64, count=len(extra))
        return added if base is None else np.concatenate([base, added])

    def interacted_at(self, user_id: str) -> float | None:
        """When ``user_id`` last interacted through :meth:`add` (seconds since the epoch)."""
        return self._interacted_at.get(user_id)

    def add(self, user_id: str, positions: Iterable[int], at: float) -> None:
        """Record that ``user_id`` interacted with the items at ``positions`` at time ``at``.

        Idempotent: an item already seen changes nothing but the time.
        """
        base = self._base.get(user_id)
        extra = self._extra.setdefault(user_id, set())
        for position in positions:
            if position in extra or (base is not None and position in base):
                continue
            extra.add(position)
            self._popularity[position] += 1
        self._interacted_at[user_id] = max(at, self._interacted_at.get(user_id, at))

    def grow(self, num_items: int) -> None:
        """Make room for items appended to the catalog."""
        missing = num_items - len(self._popularity)
        if missing > 0:
            self._popularity = np.concatenate([self._popularity, np.zeros(missing)])

    def carry_over(self, older: InteractionState) -> None:
        """Keep ``older``'s interaction times (a reload rebuilds seen items from the graph)."""
        for user_id, at in older._interacted_at.items():
            self._interacted_at[user_id] = max(at, self._interacted_at.get(user_id, at))


# -- results --------------------------------------------------------------------------------------
class Source(StrEnum):
    """Where a user's ranking came from."""

    MODEL = "model"  # the user's trained embedding
    FOLD_IN = "fold_in"  # an embedding folded in from the user's items, no retraining
    POPULARITY = "popularity"  # no usable embedding: most popular items


@dataclass(frozen=True)
class ScoredItem:
    item_id: str
    title: str | None
    score: float
    rank: int


@dataclass(frozen=True)
class Ranking:
    """A ranked list of items and how it was made."""

    model: str
    version: int
    source: Source
    items: list[ScoredItem]


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


def fold_in(item_vectors: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    r"""LightGCN's user rule on fixed item embeddings (see the module docstring).

    Args:
        item_vectors: ``(n, d)`` embeddings of the user's items.
        degrees: ``(n,)`` their popularity; values below 1 count as 1.
    """
    n = item_vectors.shape[0]
    if n == 0:
        raise ValueError("fold-in needs at least one item")
    weights = 1.0 / np.sqrt(np.maximum(np.asarray(degrees, dtype=np.float64), 1.0))
    return (weights @ item_vectors.astype(np.float64) / math.sqrt(n)).astype(np.float32)


def _ranked(catalog: Catalog, positions: np.ndarray, scores: np.ndarray) -> list[ScoredItem]:
    return [
        ScoredItem(catalog.item_ids[p], catalog.titles[p], float(s), rank)
        for rank, (p, s) in enumerate(zip(positions.tolist(), scores.tolist(), strict=True), 1)
    ]


# -- what the service answers ---------------------------------------------------------------------
def user_vector(
    model: ModelVectors, state: InteractionState, user_id: str
) -> tuple[np.ndarray | None, Source]:
    """The embedding to rank for ``user_id`` with, and where it comes from.

    The trained vector, unless the user interacted through the service after
    the model version was written (or has none): then a fold-in from the user's
    items. ``(None, POPULARITY)`` when neither is possible.

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
    return fold_in(model.item_vectors[seen], state.popularity[seen]), Source.FOLD_IN


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

    Raises:
        UnknownUserError, UnknownModelError, UnknownConceptError, ValueError (bad ``k``
        or ``diversity``).
    """
    check_k(k)
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

    if diversity > 0 and query is not None:
        pool = top_k(scores, max(k * MMR_POOL_FACTOR, MMR_MIN_POOL))
        order = pool[mmr(scores[pool], vectors.item_unit[pool], k, diversity)]
    else:
        order = top_k(scores, k)
    return Ranking(vectors.name, vectors.version, source, _ranked(catalog, order, scores[order]))


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
