"""Full-ranking evaluation, following the LightGCN paper's protocol.

For every user with held-out items, all items are scored, the user's training
items are masked (and validation items too when evaluating test), and the top
:math:`K` are compared with the held-out items. Scoring is one matrix product
per chunk of users; no Python loop runs over single users.

:func:`compare` evaluates several models (always including the most-popular
baseline) on the same split and writes a JSON file, a markdown table and a bar
chart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from graphrec.data import RecData
from graphrec.evaluation.metrics import (
    BUCKET_NAMES,
    MRR,
    NDCG,
    AveragePopularity,
    HitRate,
    ItemCoverage,
    Metric,
    PopularityBucketRecall,
    Precision,
    RankedBatch,
    Recall,
    popularity_buckets,
)
from graphrec.models.base import Recommender
from graphrec.models.most_popular import MostPopular

#: Upper bound on scores held in memory at once (chunk users x items).
MAX_SCORES_PER_CHUNK = 2**25


def default_metrics(k: int, data: RecData, head_share: float = 0.2) -> list[Metric]:
    """Every metric at cut-off ``k``, with long-tail buckets from ``data``'s training popularity."""
    bucket = popularity_buckets(data.item_popularity, head_share)
    return [
        Recall(k),
        NDCG(k),
        Precision(k),
        HitRate(k),
        MRR(k),
        ItemCoverage(k),
        AveragePopularity(k),
        PopularityBucketRecall(k, bucket, BUCKET_NAMES),
    ]


@torch.no_grad()
def evaluate(
    model: Recommender,
    data: RecData,
    *,
    split: str = "test",
    k: int | Sequence[int] = 20,
    metrics: Sequence[Metric] | None = None,
    batch_size: int = 1024,
) -> dict[str, float]:
    """Rank all items for every user with held-out items in ``split``; return the metrics.

    Args:
        model (Recommender): A model built on ``data``'s training interactions.
        data (RecData): The split data.
        split (str, optional): ``"val"`` or ``"test"``. For test, training and
            validation items are masked; for val, training items. (default: :obj:`"test"`)
        k (int or list of int, optional): Cut-offs for the default metrics.
            Ignored when ``metrics`` is given. (default: :obj:`20`)
        metrics (list of Metric, optional): Metrics to compute; fresh instances
            (they accumulate state). :obj:`None` means :func:`default_metrics`
            at each ``k``. (default: :obj:`None`)
        batch_size (int, optional): Users scored at once; lowered automatically
            so that a chunk holds at most :data:`MAX_SCORES_PER_CHUNK` scores.
            (default: :obj:`1024`)

    Returns:
        Metric values by name (``"recall@20"``, ...) and ``"num_users"`` evaluated.
    """
    if metrics is None:
        ks = [k] if isinstance(k, int) else list(k)
        metrics = [metric for cut in ks for metric in default_metrics(cut, data)]
    max_k = min(max(metric.k for metric in metrics), data.num_items)
    target = data.target_items(split)
    seen = data.seen_items(split)
    users = (target.degree() > 0).nonzero().view(-1)
    if users.numel() == 0:
        raise ValueError(f"no user has {split} items to evaluate against")

    emb = model.get_embedding()
    device = emb.item.device
    popularity = data.item_popularity.to(device)
    chunk_size = max(1, min(batch_size, MAX_SCORES_PER_CHUNK // data.num_items))
    for chunk in users.split(chunk_size):
        scores = model.score_all(emb, chunk.to(device))
        row, item = seen.pairs(chunk)
        scores[row.to(device), item.to(device)] = -torch.inf
        top_items = scores.topk(max_k, dim=-1).indices
        relevant = torch.zeros_like(scores, dtype=torch.bool)
        label_index = torch.stack(target.pairs(chunk)).to(device)
        relevant[label_index[0], label_index[1]] = True
        batch = RankedBatch(
            items=top_items,
            hits=relevant.gather(1, top_items),
            relevant=relevant,
            num_relevant=target.degree()[chunk].to(device),
            item_popularity=popularity,
            label_index=label_index,
        )
        for metric in metrics:
            metric.update(batch)

    results: dict[str, float] = {}
    for metric in metrics:
        results.update(metric.result())
    results["num_users"] = float(users.numel())
    return results


@dataclass
class ComparisonTable:
    """Metrics of several models on one split: ``rows[model_name][metric_name]``."""

    rows: dict[str, dict[str, float]]
    split_config: dict[str, object] = field(default_factory=dict)

    def columns(self) -> list[str]:
        names: list[str] = []
        for metrics in self.rows.values():
            names.extend(name for name in metrics if name not in names)
        return names

    def to_markdown(self, columns: Sequence[str] | None = None) -> str:
        """A markdown table, one row per model."""
        columns = list(columns or self.columns())
        lines = [
            "| model | " + " | ".join(columns) + " |",
            "| --- |" + " ---: |" * len(columns),
        ]
        for name, metrics in self.rows.items():
            cells = [_format(metrics.get(column)) for column in columns]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def save(self, out_dir: str | Path, name: str = "comparison") -> dict[str, Path]:
        """Write ``<name>.json``, ``<name>.md`` and a bar chart ``<name>.png``."""
        from graphrec.evaluation.plots import plot_comparison

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "json": out / f"{name}.json",
            "markdown": out / f"{name}.md",
            "png": out / f"{name}.png",
        }
        payload = {"split": self.split_config, "models": self.rows}
        paths["json"].write_text(json.dumps(payload, indent=2) + "\n")
        paths["markdown"].write_text(self.to_markdown() + "\n")
        headline = [c for c in self.columns() if c.split("@")[0] in ("recall", "ndcg")]
        plot_comparison(self.rows, headline, paths["png"])
        return paths


def compare(
    models: Mapping[str, Recommender],
    data: RecData,
    *,
    k: int | Sequence[int] = 20,
    split: str = "test",
    include_most_popular: bool = True,
    out_dir: str | Path | None = None,
) -> ComparisonTable:
    """Evaluate ``models`` on the same split, with the most-popular baseline added.

    Args:
        models (dict): Trained models by display name.
        data (RecData): The split data all models were trained on.
        k (int or list of int, optional): Cut-offs. (default: :obj:`20`)
        split (str, optional): ``"val"`` or ``"test"``. (default: :obj:`"test"`)
        include_most_popular (bool, optional): Add the most-popular baseline
            unless one is already among ``models``. (default: :obj:`True`)
        out_dir (str or Path, optional): If set, write JSON, markdown and PNG
            there (see :meth:`ComparisonTable.save`). (default: :obj:`None`)
    """
    models = dict(models)
    has_baseline = any(isinstance(model, MostPopular) for model in models.values())
    if include_most_popular and not has_baseline:
        models["most_popular"] = MostPopular.from_data(data)
    rows = {name: evaluate(model, data, split=split, k=k) for name, model in models.items()}
    table = ComparisonTable(rows=rows, split_config=dict(data.split_config))
    if out_dir is not None:
        table.save(out_dir)
    return table


def _format(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if float(value).is_integer() and abs(value) >= 1:
        return str(int(value))
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
