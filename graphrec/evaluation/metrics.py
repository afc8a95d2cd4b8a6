r"""Top-K ranking metrics, as small classes that say what they compute.

The evaluator ranks all items for a chunk of users and hands each metric a
:class:`RankedBatch`; a metric accumulates what it needs and
:meth:`Metric.result` returns named values such as ``{"recall@20": 0.21}``.
Notation: :math:`R_u` is user :math:`u`'s top-:math:`K` list, :math:`T_u` the
user's held-out (relevant) items, :math:`\mathrm{hit}_k = 1` when the
:math:`k`-th item of :math:`R_u` is in :math:`T_u`; user-averaged metrics are
means over users with at least one held-out item.

The standard metrics are :mod:`torch_geometric.metrics` (:class:`LibraryMetric`
feeds them); what PyG lacks, recall and share per popularity bucket, is here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.metrics import (
    LinkPredAveragePopularity,
    LinkPredCoverage,
    LinkPredHitRatio,
    LinkPredMRR,
    LinkPredNDCG,
    LinkPredPrecision,
    LinkPredRecall,
)


@dataclass(frozen=True)
class RankedBatch:
    """Rankings of a chunk of users, as the metrics see them.

    Attributes:
        items: Recommended items, best first, shape ``(B, K_max)``.
        hits: Whether each recommended item is relevant, shape ``(B, K_max)``.
        relevant: Relevance of every item, shape ``(B, num_items)``.
        num_relevant: :math:`|T_u|` per user, shape ``(B,)``.
        item_popularity: Training interactions per item, shape ``(num_items,)``.
        label_index: The held-out ``(row, item)`` pairs, ``row`` indexing the batch,
            shape ``(2, sum |T_u|)`` (what :mod:`torch_geometric.metrics` takes).
    """

    items: Tensor
    hits: Tensor
    relevant: Tensor
    num_relevant: Tensor
    item_popularity: Tensor
    label_index: Tensor


class Metric:
    """A metric at cut-off ``k``: call :meth:`update` per batch, then :meth:`result`."""

    name: str = ""

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.k = k

    @property
    def key(self) -> str:
        return f"{self.name}@{self.k}"

    def update(self, batch: RankedBatch) -> None:
        raise NotImplementedError

    def result(self) -> dict[str, float]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k})"


class LibraryMetric(Metric):
    """A metric that :mod:`torch_geometric.metrics` computes with the definition given in the
    subclass's docstring (the LightGCN paper's protocol): this class only feeds it batches.

    The PyG metric is made on the first batch (some need the catalogue size or the
    popularity) on the batch's device.
    """

    def __init__(self, k: int) -> None:
        super().__init__(k)
        self._metric: torch.nn.Module | None = None

    def make(self, batch: RankedBatch) -> torch.nn.Module:
        raise NotImplementedError

    def update(self, batch: RankedBatch) -> None:
        if self._metric is None:
            self._metric = self.make(batch).to(batch.items.device)
        self._metric.update(batch.items, batch.label_index)

    def result(self) -> dict[str, float]:
        value = float(self._metric.compute()) if self._metric is not None else 0.0
        return {self.key: value}


class Recall(LibraryMetric):
    r"""Share of the user's held-out items that reach the top :math:`K`:
    :math:`\mathrm{Recall@K} = |R_u \cap T_u| \,/\, |T_u|`
    (:class:`~torch_geometric.metrics.LinkPredRecall`)."""

    name = "recall"

    def make(self, batch: RankedBatch) -> torch.nn.Module:
        return LinkPredRecall(self.k)


class Precision(LibraryMetric):
    r"""Share of the top :math:`K` that is relevant:
    :math:`\mathrm{Precision@K} = |R_u \cap T_u| \,/\, K`
    (:class:`~torch_geometric.metrics.LinkPredPrecision`)."""

    name = "precision"

    def make(self, batch: RankedBatch) -> torch.nn.Module:
        return LinkPredPrecision(self.k)


class NDCG(LibraryMetric):
    r"""Normalised discounted cumulative gain with binary relevance
    (:class:`~torch_geometric.metrics.LinkPredNDCG`):

    .. math::
        \mathrm{NDCG@K} = \frac{\sum_{k=1}^{K} \mathrm{hit}_k / \log_2(k+1)}
        {\sum_{k=1}^{\min(|T_u|, K)} 1 / \log_2(k+1)}
    """

    name = "ndcg"

    def make(self, batch: RankedBatch) -> torch.nn.Module:
        return LinkPredNDCG(self.k)


class HitRate(LibraryMetric):
    r"""Whether any relevant item reaches the top :math:`K`:
    :math:`\mathrm{HitRate@K} = \mathbb{1}\left[|R_u \cap T_u| > 0\right]`
    (:class:`~torch_geometric.metrics.LinkPredHitRatio`)."""

    name = "hit_rate"

    def make(self, batch: RankedBatch) -> torch.nn.Module:
        return LinkPredHitRatio(self.k)


class MRR(LibraryMetric):
    r"""Reciprocal rank of the first relevant item, 0 when none is in the top :math:`K`:
    :math:`\mathrm{MRR@K} = 1 / \min\{k : \mathrm{hit}_k = 1\}`
    (:class:`~torch_geometric.metrics.LinkPredMRR`)."""

    name = "mrr"

    def make(self, batch: RankedBatch) -> torch.nn.Module:
        return LinkPredMRR(self.k)


class AveragePopularity(LibraryMetric):
    r"""Mean training popularity of the recommended items (lower means less
    popularity bias): :math:`\frac{1}{K}\sum_{i \in R_u} \mathrm{pop}(i)`, averaged
    over users (:class:`~torch_geometric.metrics.LinkPredAveragePopularity`)."""

    name = "avg_popularity"

    def make(self, batch: RankedBatch) -> torch.nn.Module:
        return LinkPredAveragePopularity(self.k, batch.item_popularity)


class ItemCoverage(LibraryMetric):
    r"""Share of the catalogue recommended to at least one user:
    :math:`\mathrm{Coverage@K} = |\bigcup_u R_u| \,/\, |\mathcal{I}|`
    (:class:`~torch_geometric.metrics.LinkPredCoverage`)."""

    name = "coverage"

    def make(self, batch: RankedBatch) -> torch.nn.Module:
        return LinkPredCoverage(self.k, batch.relevant.size(1))


class PopularityBucketRecall(Metric):
    r"""Recall and share of recommendations within item popularity buckets.

    For a bucket :math:`B` (e.g. long-tail items),

    .. math::
        \mathrm{Recall@K}[B] = \frac{|R_u \cap T_u \cap B|}{|T_u \cap B|},
        \qquad
        \mathrm{Share@K}[B] = \frac{|R_u \cap B|}{K},

    recall averaged over users with a held-out item in :math:`B`, share over
    all users. Reported as ``recall@K[tail]`` and ``share@K[tail]``.

    Args:
        k (int): Cut-off :math:`K`.
        item_bucket (torch.Tensor): Bucket index of each item, shape ``(num_items,)``.
        bucket_names (list of str): Name of each bucket index.
    """

    name = "bucket"

    def __init__(self, k: int, item_bucket: Tensor, bucket_names: list[str]) -> None:
        super().__init__(k)
        self.item_bucket = item_bucket.long()
        self.bucket_names = list(bucket_names)
        num_buckets = len(self.bucket_names)
        self._recall_total = torch.zeros(num_buckets, dtype=torch.double)
        self._recall_count = torch.zeros(num_buckets, dtype=torch.double)
        self._share_total = torch.zeros(num_buckets, dtype=torch.double)
        self._users = 0

    def update(self, batch: RankedBatch) -> None:
        bucket = self.item_bucket.to(batch.items.device)
        num_buckets = len(self.bucket_names)
        top_bucket = bucket[batch.items[:, : self.k]]
        hits = batch.hits[:, : self.k]
        one_hot = torch.nn.functional.one_hot(top_bucket, num_buckets).double()
        hits_in = (one_hot * hits.unsqueeze(-1)).sum(1)  # (B, num_buckets)
        relevant_in = (
            batch.relevant.double() @ torch.nn.functional.one_hot(bucket, num_buckets).double()
        )
        has_relevant = relevant_in > 0
        recall = torch.where(has_relevant, hits_in / relevant_in.clamp(min=1), 0.0)
        self._recall_total += recall.sum(0).cpu()
        self._recall_count += has_relevant.sum(0).double().cpu()
        self._share_total += one_hot.mean(1).sum(0).cpu()
        self._users += batch.items.size(0)

    def result(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for index, bucket_name in enumerate(self.bucket_names):
            count = float(self._recall_count[index])
            if count:  # No user has a held-out item in this bucket: recall is undefined.
                out[f"recall@{self.k}[{bucket_name}]"] = float(self._recall_total[index]) / count
            out[f"share@{self.k}[{bucket_name}]"] = (
                float(self._share_total[index]) / self._users if self._users else 0.0
            )
        return out


def popularity_buckets(item_popularity: Tensor, head_share: float = 0.2) -> Tensor:
    """Bucket items by training popularity: 0 for the head, the ``head_share`` most
    popular items, 1 for the long tail (all others, including never-seen items)."""
    if not 0 < head_share < 1:
        raise ValueError(f"head_share must be in (0, 1), got {head_share}")
    num_head = max(1, math.ceil(head_share * item_popularity.numel()))
    order = torch.sort(item_popularity, descending=True, stable=True).indices
    bucket = torch.ones_like(item_popularity, dtype=torch.long)
    bucket[order[:num_head]] = 0
    return bucket


#: Names of the buckets returned by :func:`popularity_buckets`.
BUCKET_NAMES = ["head", "tail"]
