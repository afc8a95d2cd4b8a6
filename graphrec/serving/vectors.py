"""One model version's vectors aligned with a catalog (with cold start), and the snapshot.

**Cold start** (an item without a trained embedding) takes the mean of its
concepts' centroids, each centroid being the mean embedding of the trained items
that have the concept (:func:`graphrec.serving.cold_start.fallback_embeddings`).

A :class:`Snapshot` is immutable: the :class:`~graphrec.serving.catalog.Catalog`
and one :class:`ModelVectors` per loaded model. A request takes the current
snapshot once and uses only it, so it sees one version; reloading or adding an
item builds a new snapshot and swaps the reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from graphrec.serving.catalog import Catalog, id_index
from graphrec.serving.cold_start import concept_centroids, mean_of_concepts
from graphrec.serving.errors import UnknownModelError
from graphrec.serving.inductive import InductiveRule, Link

#: The ways a known user who interacted after training is ranked (see
#: :func:`graphrec.serving.fold_in.user_vector`).
FOLD_IN_RULES = ("items", "change")


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
        inductive: relgnn's readout for items without a trained vector
            (:mod:`graphrec.serving.inductive`); :obj:`None` for other models, whose
            cold items get the mean of their concepts' centroids.
        fold_in: How a user with a trained vector who interacted since is ranked
            (:func:`graphrec.serving.fold_in.user_vector`): ``"items"`` or ``"change"``.
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
    inductive: InductiveRule | None = None
    fold_in: str = "items"
    item_unit: np.ndarray = field(init=False, repr=False, compare=False)
    invalid_positions: np.ndarray = field(init=False, repr=False, compare=False)
    user_pos: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("item_vectors", "user_vectors", "centroids"):
            object.__setattr__(
                self, name, _frozen(np.asarray(getattr(self, name), dtype=np.float32))
            )
        if self.fold_in not in FOLD_IN_RULES:
            raise ValueError(
                f"fold_in must be one of {', '.join(FOLD_IN_RULES)}, got {self.fold_in!r}"
            )
        for name in ("item_valid", "item_trained"):
            object.__setattr__(self, name, _frozen(np.asarray(getattr(self, name), dtype=bool)))
        object.__setattr__(self, "item_unit", _frozen(_unit_rows(self.item_vectors)))
        object.__setattr__(self, "invalid_positions", _frozen(np.flatnonzero(~self.item_valid)))
        object.__setattr__(self, "user_pos", id_index(self.user_ids))

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
        inductive: InductiveRule | None = None,
        fold_in: str = "items",
    ) -> ModelVectors:
        """Align trained item vectors with ``catalog`` and cold-start the rest.

        Items of ``item_ids`` that are not in the catalog are ignored; catalog
        items without a trained vector get one from their links with
        ``inductive`` (relgnn), else from their concepts when a trained item
        shares one of them, and stay invalid otherwise.
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
            if inductive is not None:
                for position in cold:
                    vector = inductive.embed(catalog.links_of(int(position)))
                    if vector is not None:
                        aligned[position], valid[position] = vector, True
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
            inductive=inductive,
            fold_in=fold_in,
        )

    def cold_start(
        self, concept_positions: Sequence[int], links: Sequence[Link] = ()
    ) -> np.ndarray | None:
        """An embedding for a new item: relgnn's readout over its ``links``
        (``(concept position, relation, weight)``) when this model has one and a link is
        usable, else the mean of its concepts' centroids; ``None`` when neither works."""
        if self.inductive is not None:
            vector = self.inductive.embed(links)
            if vector is not None:
                return vector
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
            inductive=self.inductive.grown(num_concepts) if self.inductive is not None else None,
        )

    def without_item(self, position: int) -> ModelVectors:
        """A copy without the item row at ``position`` (later rows move up). Centroids
        stay as trained: they are an aggregate, not the item's own vector."""
        return replace(
            self,
            item_vectors=np.delete(self.item_vectors, position, axis=0),
            item_valid=np.delete(self.item_valid, position),
            item_trained=np.delete(self.item_trained, position),
        )

    def without_user(self, user_id: str) -> ModelVectors:
        """A copy without ``user_id``'s trained vector (itself when it has none)."""
        row = self.user_pos.get(user_id)
        if row is None:
            return self
        return replace(
            self,
            user_ids=self.user_ids[:row] + self.user_ids[row + 1 :],
            user_vectors=np.delete(self.user_vectors, row, axis=0),
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
        self,
        item_id: str,
        title: str | None,
        concept_ids: Sequence[str],
        links: Sequence[tuple[str, str, float]] = (),
    ) -> tuple[Snapshot, dict[str, np.ndarray | None]]:
        """A snapshot with one more item, cold-started in every model from its concepts
        (``links``: its ``(concept id, relation, weight)`` links, for relgnn's readout).

        Returns the snapshot and each model's vector for the item (``None``: no
        trained item shares its concepts).
        """
        catalog, _ = self.catalog.with_item(item_id, title, concept_ids, links)
        positions = catalog.item_concepts[-1]
        index = catalog.concept_pos
        placed = [(index[c], r, float(w)) for c, r, w in links if c in index]
        vectors = {name: m.cold_start(positions, placed) for name, m in self.models.items()}
        models = {
            name: m.with_item(vectors[name], len(catalog.concept_ids))
            for name, m in self.models.items()
        }
        return Snapshot(catalog, models, self.default_model), vectors

    def without_item(self, item_id: str) -> tuple[Snapshot, int]:
        """A snapshot without ``item_id`` in the catalog or any model; returns it and the
        position the item had (for :meth:`InteractionState.without_item`).

        Raises:
            UnknownItemError: ``item_id`` is not in the catalog.
        """
        catalog, position = self.catalog.without_item(item_id)
        models = {name: m.without_item(position) for name, m in self.models.items()}
        return Snapshot(catalog, models, self.default_model), position

    def without_user(self, user_id: str) -> Snapshot:
        """A snapshot without ``user_id``'s trained vectors (itself when no model has one)."""
        if not any(user_id in m.user_pos for m in self.models.values()):
            return self
        models = {name: m.without_user(user_id) for name, m in self.models.items()}
        return Snapshot(self.catalog, models, self.default_model)
