"""The settings of one training run, as :func:`graphrec.training.train` received them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from graphrec.data import RecData
from graphrec.models.base import Recommender


@dataclass(frozen=True)
class RunSpec:
    """Everything a strategy needs to run the training :func:`graphrec.training.train`
    was asked for (see its arguments)."""

    model: str | type[Recommender] | Recommender
    data: RecData
    model_kwargs: Mapping[str, Any] | None = None
    epochs: int = 100
    batch_size: int = 2048
    lr: float = 1e-3
    reg: float = 1e-4
    seed: int = 0
    device: str | torch.device = "auto"
    patience: int = 10
    eval_every: int = 1
    k: int = 20
    run_dir: str | Path | None = None
    resume: bool = True
    progress: bool = True
    memory_cap_gb: float | None = None

    @property
    def kwargs(self) -> dict[str, Any]:
        """The model's hyper-parameters, as a fresh dict."""
        return dict(self.model_kwargs or {})

    def trainer_kwargs(self, device: torch.device) -> dict[str, Any]:
        """The keyword arguments every :class:`~graphrec.training.trainer.Trainer` takes."""
        return {
            "batch_size": self.batch_size,
            "lr": self.lr,
            "reg": self.reg,
            "seed": self.seed,
            "k": self.k,
            "device": device,
        }
