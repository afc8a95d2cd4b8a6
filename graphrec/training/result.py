"""What a training run produced, saved into its run directory, and reading it back."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from graphrec.data import RecData
from graphrec.models.base import Recommender
from graphrec.models.registry import resolve_model

MODEL_FILE = "model.pt"


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes:
        model: The trained model, with the weights of the best validation epoch.
        config: The settings of the run (JSON-safe).
        history: One dict per epoch: ``epoch``, ``loss``, ``seconds`` and the
            validation metrics (``val_recall@20``, ...) when evaluated.
        best_epoch: The epoch whose weights were kept (0 for untrained baselines).
        metrics: Test metrics of the kept weights.
        seconds: Wall-clock training time, summed over resumed runs.
        stopped_early: Whether early stopping ended the run.
    """

    model: Recommender
    config: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    stopped_early: bool = False

    def save(self, directory: str | Path) -> Path:
        """Write ``model.pt``, ``config.json``, ``history.json``, ``metrics.json`` and
        ``training.png`` (loss and validation metrics per epoch) into ``directory``."""
        from graphrec.evaluation.plots import plot_history

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "model": self.config["model"],
                "model_kwargs": self.config["model_kwargs"],
                "state_dict": self.model.state_dict(),
            },
            out / MODEL_FILE,
        )
        _write_json(out / "config.json", self.config)
        _write_json(out / "history.json", self.history)
        summary = {
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "seconds": self.seconds,
            "test": self.metrics,
        }
        _write_json(out / "metrics.json", summary)
        if self.history:
            plot_history(self.history, out / "training.png", title=self.config["model"])
        return out

    def summary(self) -> str:
        k = self.config.get("k", 20)
        recall = self.metrics.get(f"recall@{k}", math.nan)
        ndcg = self.metrics.get(f"ndcg@{k}", math.nan)
        return (
            f"{self.config['model']}: best epoch {self.best_epoch} of {len(self.history)}"
            f"{' (stopped early)' if self.stopped_early else ''}; "
            f"test recall@{k} {recall:.4f}, ndcg@{k} {ndcg:.4f}; {self.seconds:.1f} s"
        )


def load_model(run_dir: str | Path, data: RecData) -> Recommender:
    """Rebuild a trained model saved by :meth:`TrainResult.save`, on ``data``'s split."""
    path = Path(run_dir) / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"no trained model in {run_dir}: {MODEL_FILE} is missing")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = resolve_model(saved["model"]).from_data(data, **saved["model_kwargs"])
    model.load_state_dict(saved["state_dict"])
    return model


def finish_run(result: TrainResult, run_dir: str | Path | None, progress: bool) -> TrainResult:
    """Save ``result`` into ``run_dir`` (when given) and print its summary (with ``progress``)."""
    if run_dir is not None:
        result.save(run_dir)
    if progress:
        tqdm.write(result.summary(), file=sys.stderr)  # stdout stays clean for the CLI's JSON
    return result


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, default=str) + "\n")
