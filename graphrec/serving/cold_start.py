r"""Cold start: embeddings for new items that have concepts but no interactions.

Pure numpy; nothing here talks to the database. Items and concepts are
indices; an item's concepts are given as a list of concept indices
(``memberships[i]``), see :func:`memberships_from_ids`.

Two ways to embed a new item in the recommender's (GNN) item space:

- **Warm-neighbour fallback** (:func:`fallback_embeddings`), needs no KGE: each
  concept gets the centroid of the GNN embeddings of the warm items that have
  it; a new item gets the mean of its concepts' centroids,

  .. math::
      \mathbf{c}_k = \frac{1}{|I_k|} \sum_{j \in I_k} \mathbf{v}_j,
      \qquad
      \hat{\mathbf{v}}_{\text{new}} = \frac{1}{|C'|} \sum_{k \in C'} \mathbf{c}_k,

  where :math:`I_k` are the warm items with concept :math:`k` and :math:`C'`
  the new item's concepts that some warm item has. Each concept counts once,
  however many items it has, so a rare tag weighs as much as "Drama".

- **KGE with a learned map** (:class:`KGEColdStart`): the new item's KGE
  features (the mean of its concepts' KGE vectors, or its own KGE vector when
  the KGE run has it) go through a least-squares linear map fitted on warm
  items from KGE features to GNN item embeddings,
  :math:`\hat{\mathbf{v}} = \mathbf{x} W + \mathbf{b}`. :func:`fit_linear_map`
  reports how well the map fits (:math:`R^2`, in sample and on held-out warm items).

Rows of new items without any usable concept come out as zeros; the returned
``covered`` mask says which rows are real.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np


class ConceptMean(NamedTuple):
    """Per-item vectors and which items had at least one usable concept."""

    vectors: np.ndarray  # float32 [N, d]
    covered: np.ndarray  # bool [N]


def memberships_from_ids(
    concepts_of_items: Sequence[Sequence[str]], concept_ids: Sequence[str]
) -> list[list[int]]:
    """Concept business ids per item as concept indices; unknown ids are dropped."""
    index = {c: i for i, c in enumerate(concept_ids)}
    return [sorted({index[c] for c in concepts if c in index}) for concepts in concepts_of_items]


def mean_of_concepts(
    concept_vectors: np.ndarray,
    memberships: Sequence[Sequence[int]],
    *,
    usable: np.ndarray | None = None,
) -> ConceptMean:
    """The mean of each item's concept vectors.

    Args:
        concept_vectors: One row per concept, shape ``(C, d)``.
        memberships: Concept indices of each item.
        usable: Concepts that may be used (default: all); others are ignored.

    Returns:
        :class:`ConceptMean`; items with no usable concept get a zero row and
        ``covered = False``.
    """
    concept_vectors = np.asarray(concept_vectors, dtype=np.float64)
    num_concepts, dim = concept_vectors.shape
    allowed = np.ones(num_concepts, dtype=bool) if usable is None else np.asarray(usable, bool)
    rows, cols = _pairs(memberships, num_concepts)
    keep = allowed[cols]
    rows, cols = rows[keep], cols[keep]
    sums = np.zeros((len(memberships), dim))
    np.add.at(sums, rows, concept_vectors[cols])
    counts = np.bincount(rows, minlength=len(memberships))
    covered = counts > 0
    sums[covered] /= counts[covered, None]
    return ConceptMean(sums.astype(np.float32), covered)


def concept_centroids(
    item_vectors: np.ndarray, memberships: Sequence[Sequence[int]], num_concepts: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean item vector per concept, and the number of items behind each (0: zero row).

    Args:
        item_vectors: Warm items' embeddings, shape ``(I, d)``.
        memberships: Concept indices of each warm item.
        num_concepts: Number of concepts :math:`C`.

    Returns:
        ``(centroids (C, d), counts (C,))``.
    """
    item_vectors = np.asarray(item_vectors, dtype=np.float64)
    if len(memberships) != item_vectors.shape[0]:
        raise ValueError(
            f"{item_vectors.shape[0]} item vectors but {len(memberships)} concept lists"
        )
    rows, cols = _pairs(memberships, num_concepts)
    sums = np.zeros((num_concepts, item_vectors.shape[1]))
    np.add.at(sums, cols, item_vectors[rows])
    counts = np.bincount(cols, minlength=num_concepts)
    sums[counts > 0] /= counts[counts > 0, None]
    return sums.astype(np.float32), counts


def fallback_embeddings(
    warm_vectors: np.ndarray,
    warm_memberships: Sequence[Sequence[int]],
    new_memberships: Sequence[Sequence[int]],
    num_concepts: int,
) -> ConceptMean:
    """New items' embeddings as the mean of their concepts' warm-item centroids (no KGE needed).

    Args:
        warm_vectors: GNN embeddings of warm items, shape ``(I, d)``.
        warm_memberships: Concept indices of each warm item.
        new_memberships: Concept indices of each new item.
        num_concepts: Number of concepts.
    """
    centroids, counts = concept_centroids(warm_vectors, warm_memberships, num_concepts)
    return mean_of_concepts(centroids, new_memberships, usable=counts > 0)


def r2_score(predicted: np.ndarray, target: np.ndarray) -> float:
    r"""Coefficient of determination over all output dimensions,
    :math:`R^2 = 1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2` (:math:`\bar y` per dimension)."""
    target = np.asarray(target, dtype=np.float64)
    residual = ((target - predicted) ** 2).sum()
    total = ((target - target.mean(0)) ** 2).sum()
    return float(1 - residual / total) if total > 0 else float("nan")


@dataclass(frozen=True)
class LinearMap:
    r"""An affine map :math:`\mathbf{y} = \mathbf{x} W + \mathbf{b}` and how well it fits.

    Attributes:
        weight: Shape ``(d_in, d_out)``.
        bias: Shape ``(d_out,)``.
        r2: :math:`R^2` on the rows it was fitted on.
        r2_holdout: :math:`R^2` on held-out rows, from a fit without them (NaN without holdout).
        num_fit: Rows fitted.
        ridge: The ridge penalty used.
    """

    weight: np.ndarray
    bias: np.ndarray
    r2: float
    r2_holdout: float
    num_fit: int
    ridge: float

    def apply(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) @ self.weight + self.bias).astype(np.float32)

    def report(self) -> dict[str, Any]:
        return {
            "r2": self.r2,
            "r2_holdout": self.r2_holdout,
            "num_fit": self.num_fit,
            "ridge": self.ridge,
            "shape": list(self.weight.shape),
        }


def _solve(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge least squares with an unpenalised bias (centring)."""
    x_mean, y_mean = x.mean(0), y.mean(0)
    xc, yc = x - x_mean, y - y_mean
    gram = xc.T @ xc + ridge * len(x) * np.eye(x.shape[1])
    weight = np.linalg.lstsq(gram, xc.T @ yc, rcond=None)[0]
    return weight, y_mean - x_mean @ weight


def fit_linear_map(
    source: np.ndarray,
    target: np.ndarray,
    *,
    ridge: float = 1e-3,
    holdout: float = 0.2,
    seed: int = 0,
) -> LinearMap:
    r"""Least-squares map from ``source`` rows (e.g. KGE features of warm items) to ``target``
    rows (their GNN embeddings).

    Args:
        source: Shape ``(N, d_in)``.
        target: Shape ``(N, d_out)``.
        ridge: Ridge penalty :math:`\lambda`; :math:`\lambda N` is added to the
            diagonal of the centred Gram matrix (the bias is not penalised); 0 is
            plain least squares (default: 1e-3).
        holdout: Share of rows held out once to measure :math:`R^2` out of
            sample; the returned map is then refitted on all rows; 0 skips it (default: 0.2).
        seed: Seeds the holdout choice (default: 0).

    Raises:
        ValueError: mismatched rows, or fewer rows than needed.
    """
    x = np.asarray(source, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"source {x.shape} and target {y.shape} need the same number of rows")
    if x.shape[0] < 2:
        raise ValueError(f"need at least 2 rows to fit a linear map, got {x.shape[0]}")
    if ridge < 0 or not 0 <= holdout < 1:
        raise ValueError(f"need ridge >= 0 and 0 <= holdout < 1, got {ridge}, {holdout}")
    r2_holdout = float("nan")
    num_held = int(round(holdout * x.shape[0]))
    if num_held >= 1 and x.shape[0] - num_held >= 2:
        order = np.random.default_rng(seed).permutation(x.shape[0])
        held, fit = order[:num_held], order[num_held:]
        weight, bias = _solve(x[fit], y[fit], ridge)
        r2_holdout = r2_score(x[held] @ weight + bias, y[held])
    weight, bias = _solve(x, y, ridge)
    return LinearMap(
        weight=weight,
        bias=bias,
        r2=r2_score(x @ weight + bias, y),
        r2_holdout=r2_holdout,
        num_fit=x.shape[0],
        ridge=ridge,
    )


@dataclass(frozen=True)
class KGEColdStart:
    """KGE concept vectors plus a map into the GNN item space, fitted on warm items.

    Build with :meth:`fit`; embed new items with :meth:`embed`.

    Attributes:
        concept_vectors: KGE vectors of the concepts, shape ``(C, d_kge)``.
        linear_map: KGE features to GNN item embeddings.
    """

    concept_vectors: np.ndarray
    linear_map: LinearMap

    @classmethod
    def fit(
        cls,
        concept_vectors: np.ndarray,
        warm_memberships: Sequence[Sequence[int]],
        warm_vectors: np.ndarray,
        *,
        warm_kge_vectors: np.ndarray | None = None,
        ridge: float = 1e-3,
        holdout: float = 0.2,
        seed: int = 0,
    ) -> KGEColdStart:
        """Fit the map on warm items.

        Args:
            concept_vectors: KGE vectors of all concepts, shape ``(C, d_kge)``.
            warm_memberships: Concept indices of each warm item.
            warm_vectors: GNN embeddings of the warm items, shape ``(I, d)``.
            warm_kge_vectors: The warm items' own KGE vectors, to fit on them
                instead of their concept means (then :meth:`embed` should get
                new items' own KGE vectors too) (default: None: concept means).
            ridge, holdout, seed: See :func:`fit_linear_map`.
        """
        if warm_kge_vectors is None:
            features = mean_of_concepts(concept_vectors, warm_memberships)
            source, target = features.vectors[features.covered], warm_vectors[features.covered]
        else:
            source, target = warm_kge_vectors, warm_vectors
        linear_map = fit_linear_map(source, target, ridge=ridge, holdout=holdout, seed=seed)
        return cls(np.asarray(concept_vectors, dtype=np.float32), linear_map)

    def features(self, memberships: Sequence[Sequence[int]]) -> ConceptMean:
        """KGE features of items: the mean of their concepts' KGE vectors."""
        return mean_of_concepts(self.concept_vectors, memberships)

    def embed(
        self,
        memberships: Sequence[Sequence[int]] | None = None,
        *,
        kge_vectors: np.ndarray | None = None,
    ) -> ConceptMean:
        """GNN-space embeddings of new items, from their concepts (or their own KGE vectors)."""
        if kge_vectors is not None:
            covered = np.ones(len(kge_vectors), dtype=bool)
            return ConceptMean(self.linear_map.apply(kge_vectors), covered)
        if memberships is None:
            raise ValueError("give memberships or kge_vectors")
        features = self.features(memberships)
        vectors = self.linear_map.apply(features.vectors)
        vectors[~features.covered] = 0.0
        return ConceptMean(vectors, features.covered)


def _pairs(
    memberships: Sequence[Sequence[int]], num_concepts: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(item row, concept)`` index pairs, with range checks."""
    lengths = np.fromiter((len(m) for m in memberships), dtype=np.int64, count=len(memberships))
    rows = np.repeat(np.arange(len(memberships)), lengths)
    cols = np.fromiter(
        (c for m in memberships for c in m), dtype=np.int64, count=int(lengths.sum())
    )
    if cols.size and (cols.min() < 0 or cols.max() >= num_concepts):
        raise ValueError(f"concept index out of range 0..{num_concepts - 1}")
    return rows, cols
