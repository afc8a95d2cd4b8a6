"""Training: the BPR trainer, its strategies (full batch, mini-batch, distributed), the pipeline."""

from graphrec.training.trainer import (
    Trainer,
    TrainingDivergedError,
    TrainResult,
    load_model,
    resolve_device,
    sample_negatives,
    train,
)

__all__ = [
    "TrainResult",
    "Trainer",
    "TrainingDivergedError",
    "load_model",
    "resolve_device",
    "sample_negatives",
    "train",
]
