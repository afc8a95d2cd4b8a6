"""What a training run is made of: its JSON-safe settings, its model, and the checks on its
data and device that every strategy makes before any work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from graphrec.data import DataError, RecData, fingerprint
from graphrec.models.base import Recommender
from graphrec.models.registry import resolve_model


class TrainingDivergedError(RuntimeError):
    """The loss stopped being a finite number."""


def run_config(
    *,
    model: str,
    model_kwargs: Mapping[str, Any],
    data: RecData,
    epochs: int,
    batch_size: int,
    lr: float,
    reg: float,
    seed: int,
    patience: int,
    k: int,
    device: torch.device,
    eval_every: int = 1,
) -> dict[str, Any]:
    """The JSON-safe settings of a run, as stored in checkpoints and ``config.json``."""
    return {
        "model": model,
        "model_kwargs": json_safe(model_kwargs),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "reg": reg,
        "seed": seed,
        "patience": patience,
        "eval_every": eval_every,
        "k": k,
        "device": str(device),
        "data": {
            "num_users": data.num_users,
            "num_items": data.num_items,
            "num_train": data.train.size(1),
            "split": data.split_config,
            "fingerprint": fingerprint(data),
        },
    }


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` becomes CUDA when available, else CPU; other values are checked."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} was requested but CUDA is not available")
    return resolved


def build_model(
    model: str | type[Recommender] | Recommender, data: RecData, kwargs: dict[str, Any]
) -> Recommender:
    """The model to train on ``data``: built from a name or class, or checked when given built."""
    if isinstance(model, Recommender):
        if kwargs:
            raise ValueError("model_kwargs can only be given with a model name or class")
        if (model.num_users, model.num_items) != (data.num_users, data.num_items):
            raise ValueError(
                f"the model has {model.num_users} users and {model.num_items} items, "
                f"the data {data.num_users} and {data.num_items}"
            )
        return model
    return resolve_model(model).from_data(data, **kwargs)


def check_data(data: RecData, *, need_test: bool = True) -> None:
    """Refuse data no trainer can use (no training interactions, no negatives, and no test
    interactions unless ``need_test`` is false, as for a refit on all interactions)."""
    if data.train.size(1) == 0:
        raise DataError("no training interactions: the split put every interaction in val or test")
    if need_test and data.test.size(1) == 0:
        raise DataError(
            "no user has test interactions, so nothing can be evaluated; "
            "raise the test ratio or lower min_interactions"
        )
    if bool((data.train_items.degree() >= data.num_items).any()):
        raise DataError(
            "a user interacted with every item, so no negative item can be sampled; "
            "drop such users from the export"
        )


def diverged_message(loss: float, epoch: int, batch: int, lr: float, reg: float) -> str:
    """What to tell a user whose loss stopped being finite."""
    return (
        f"the loss became {loss} at epoch {epoch}, batch {batch}. The learning rate "
        f"(lr={lr:g}) is the likely cause: try lr={lr / 10:g}. "
        f"A very large reg (now {reg:g}) can also make the loss diverge."
    )


def json_safe(values: Mapping[str, Any]) -> dict[str, Any]:
    """Hyper-parameters as JSON; tensors (e.g. initial embeddings) are left out, since
    they only set a starting point and the trained weights are saved separately."""
    return {key: value for key, value in values.items() if not isinstance(value, Tensor)}
