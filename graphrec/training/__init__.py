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
"""

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
