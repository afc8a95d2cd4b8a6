"""Training: one entry point, :func:`train`, with its strategies and the pipeline around it.

In flow order: :mod:`~graphrec.training.api` (:func:`train`), its
:mod:`~graphrec.training.strategies` (full batch, mini-batch, distributed), the
:mod:`~graphrec.training.trainer` loop they share (with
:mod:`~graphrec.training.negatives`), the strategy-specific trainers
(:mod:`~graphrec.training.minibatch` with :mod:`~graphrec.training.sampling`,
:mod:`~graphrec.training.distributed` with :mod:`~graphrec.training.launch`),
:mod:`~graphrec.training.memory` estimates, the run's settings
(:mod:`~graphrec.training.spec`, :mod:`~graphrec.training.run`) and result
(:mod:`~graphrec.training.result`), and :mod:`~graphrec.training.pipeline`
(graph -> export -> split -> train -> write-back).

The names below are imported on first use (PEP 562), so that the torch-free parts of the
package (:mod:`~graphrec.training.rundirs`, which ``graphrec runs`` reads) load without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphrec.training.api import refit, train
    from graphrec.training.negatives import sample_negatives
    from graphrec.training.result import TrainResult, load_model
    from graphrec.training.run import TrainingDivergedError, resolve_device
    from graphrec.training.strategies import Distributed, FullBatch, MiniBatch, Strategy
    from graphrec.training.trainer import Trainer

__all__ = [
    "Distributed",
    "FullBatch",
    "MiniBatch",
    "Strategy",
    "TrainResult",
    "Trainer",
    "TrainingDivergedError",
    "load_model",
    "refit",
    "resolve_device",
    "sample_negatives",
    "train",
]

# Where each public name lives.
_HOME = {
    "refit": "api",
    "train": "api",
    "sample_negatives": "negatives",
    "TrainResult": "result",
    "load_model": "result",
    "TrainingDivergedError": "run",
    "resolve_device": "run",
    "Distributed": "strategies",
    "FullBatch": "strategies",
    "MiniBatch": "strategies",
    "Strategy": "strategies",
    "Trainer": "trainer",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
