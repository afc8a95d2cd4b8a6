"""What a KGE run produced (:class:`KGEResult`), its metrics and reports."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from graphrec.kge.embeddings import EMBEDDINGS_FILE, EntityEmbeddings, entity_embeddings
from graphrec.kge.triples import LabelledTriples, labelled_array

if TYPE_CHECKING:
    from pykeen.evaluation import MetricResults
    from pykeen.models import Model
    from pykeen.pipeline import PipelineResult
    from pykeen.triples import TriplesFactory

    from graphrec.writeback import ModelRecord


@dataclass
class KGEResult:
    """What :func:`graphrec.kge.pipeline.train_kge` produced.

    Attributes:
        model_name: Registry-style name, e.g. ``"transe"``.
        pipeline_result: PyKEEN's result (trained model, training factory, losses, metrics).
        triples: The labelled triples the run was split from.
        validation: The validation split (same entity and relation ids as training).
        testing: The test split.
        config: The run's settings (JSON-safe).
        metrics: ``test`` (``both``/``head``/``tail`` realistic filtered ranks: ``mrr``,
            ``hits@1``, ``hits@3``, ``hits@10``, ``count``), ``triples`` per split and
            relation, ``entities``, ``relations``, ``train_seconds``,
            ``seconds_per_epoch``, ``evaluate_seconds``.
        warnings: Problems worth a look (e.g. a relation with no test triples).
        record: The written ``(:Model)`` version, once written back.
    """

    model_name: str
    pipeline_result: PipelineResult
    triples: LabelledTriples
    validation: TriplesFactory
    testing: TriplesFactory
    config: dict[str, Any]
    metrics: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    record: ModelRecord | None = None

    @property
    def model(self) -> Model:
        return self.pipeline_result.model

    @property
    def training(self) -> TriplesFactory:
        return self.pipeline_result.training

    @cached_property
    def embeddings(self) -> EntityEmbeddings:
        return entity_embeddings(self.model, self.training, self.triples.entities)

    def save(self, directory: str | Path) -> Path:
        """Write the run (layout in :mod:`graphrec.kge.pipeline`) into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.pipeline_result.save_to_directory(out)
        for name, factory in (("validation", self.validation), ("testing", self.testing)):
            np.savetxt(out / f"{name}.tsv", labelled_array(factory), fmt="%s", delimiter="\t")
        self.embeddings.save(out / EMBEDDINGS_FILE)
        write_json(out / "config.json", self.config)
        self.save_metrics(out)
        plot_losses(self.pipeline_result.losses, out / "losses.png", title=self.config["model"])
        return out

    def save_metrics(self, directory: str | Path) -> None:
        metrics = dict(self.metrics, warnings=self.warnings)
        if self.record is not None:
            metrics["written_as"] = self.record.id
        write_json(Path(directory) / "metrics.json", metrics)

    def table(self) -> str:
        """Filtered realistic-rank metrics on the test split, one row per side."""
        return metrics_table(self.metrics["test"])

    def summary(self) -> str:
        test = self.metrics["test"]["both"]
        baseline = self.metrics["baseline_test"]["both"]
        return (
            f"{self.config['model']} (dim {self.embeddings.dim}): test MRR {test['mrr']:.4f}, "
            f"Hits@10 {test['hits@10']:.4f} over {test['count']:.0f} ranks "
            f"(marginal-distribution baseline: MRR {baseline['mrr']:.4f}, "
            f"Hits@10 {baseline['hits@10']:.4f}); {self.metrics['train_seconds']:.1f} s training"
        )


def relation_split_counts(*factories: TriplesFactory) -> dict[str, list[int]]:
    """Triples per relation in each split: ``{relation: [train, validation, test]}``."""
    relations = factories[0].relation_id_to_label
    counts = [
        torch.bincount(f.mapped_triples[:, 1], minlength=len(relations)).tolist() for f in factories
    ]
    return {relations[r]: [c[r] for c in counts] for r in sorted(relations)}


def split_warnings(
    training: TriplesFactory, validation: TriplesFactory, testing: TriplesFactory
) -> list[str]:
    """One line per relation that has no triples in validation or test."""
    problems = []
    names = ("validation", "test")
    for relation, counts in relation_split_counts(training, validation, testing).items():
        missing = [name for name, n in zip(names, counts[1:], strict=True) if n == 0]
        if missing:
            problems.append(
                f"relation {relation!r} has no {' and no '.join(missing)} triples "
                f"({sum(counts)} in all, all in training): its link prediction is trained "
                "but not evaluated"
            )
    return problems


def rank_metrics(result: PipelineResult | MetricResults) -> dict[str, dict[str, float]]:
    """Realistic filtered ranks per side: ``mrr``, ``hits@1/3/10``, ``count`` (of a pipeline's
    test evaluation, or of an evaluator's results)."""
    out: dict[str, dict[str, float]] = {}
    for side in ("both", "head", "tail"):
        row = {"mrr": result.get_metric(f"{side}.realistic.inverse_harmonic_mean_rank")}
        for k in (1, 3, 10):
            row[f"hits@{k}"] = result.get_metric(f"{side}.realistic.hits_at_{k}")
        row["count"] = result.get_metric(f"{side}.realistic.count")
        out[side] = {key: float(value) for key, value in row.items()}
    return out


def metrics_table(test: Mapping[str, Mapping[str, float]]) -> str:
    """A small markdown table of :func:`rank_metrics`."""
    columns = ["mrr", "hits@1", "hits@3", "hits@10", "count"]
    lines = ["| side | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]
    for side, row in test.items():
        cells = [f"{row[c]:.0f}" if c == "count" else f"{row[c]:.4f}" for c in columns]
        lines.append(f"| {side} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_losses(losses: Sequence[float], path: str | Path, title: str = "") -> Path:
    """Training loss per epoch as PNG (PyKEEN's own ``plot_losses`` needs seaborn)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.plot(range(1, len(losses) + 1), losses, marker=".")
    axes.set(xlabel="epoch", ylabel="loss", title=f"{title} training loss".strip())
    figure.savefig(path, dpi=100)
    return Path(path)


def is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except TypeError:
        return False
    return True


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, default=str) + "\n")
