"""The state of one BPR training run and its epochs: early stopping, checkpoints, resumption.

Each batch samples one negative item per training interaction (uniformly, never
one of the user's training items), propagates once and takes an Adam step on
the BPR loss plus :math:`L_2` on the batch's ego embeddings. With a checkpoint
path, the trainer's whole state is written after every epoch, and a trainer
built with the same settings continues from it.

Strategies (:mod:`graphrec.training.strategies`) subclass :class:`Trainer` to
change how an epoch's batches are drawn or turned into a loss; the loop,
early stopping, checkpoints, history and the final evaluation are written here once.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from graphrec.data import RecData
from graphrec.evaluation import evaluate
from graphrec.evaluation.metrics import NDCG, Recall
from graphrec.models.base import Recommender
from graphrec.training.negatives import sample_negatives
from graphrec.training.result import TrainResult
from graphrec.training.run import TrainingDivergedError, diverged_message

CHECKPOINT = "checkpoint.pt"


#: Settings that must match for a checkpoint to be resumed (epochs and patience may change).
RESUME_KEYS = ("model", "model_kwargs", "batch_size", "lr", "reg", "seed", "k", "data")


class Trainer:
    """The state of one training run: model, optimiser, random generator, history
    and best weights. :func:`train` drives it through :meth:`fit` and :meth:`result`;
    a benchmark may call :meth:`run_epoch` itself, to interleave epochs with another
    implementation. Subclasses change how an epoch's batches are drawn
    (:meth:`batches`) or turned into a loss (:meth:`batch_loss`), as the data-parallel
    trainer of :mod:`graphrec.training.distributed` does.

    Args:
        model: A trainable model, already on ``device``.
        data: The split data the model was built on.
        batch_size: Training interactions per step. (default: 2048)
        lr: Adam learning rate. (default: 1e-3)
        reg: :math:`L_2` weight on the batch's ego embeddings. (default: 1e-4)
        seed: Seeds shuffling and negative sampling. (default: 0)
        k: Cut-off of the validation metrics. (default: 20)
        device: Where batches go. (default: ``"cpu"``)
    """

    def __init__(
        self,
        model: Recommender,
        data: RecData,
        *,
        batch_size: int = 2048,
        lr: float = 1e-3,
        reg: float = 1e-4,
        seed: int = 0,
        k: int = 20,
        device: str | torch.device = "cpu",
    ) -> None:
        self.model = model
        self.data = data
        self.batch_size = batch_size
        self.lr = lr
        self.reg = reg
        self.k = k
        self.device = torch.device(device)
        # The fused kernel updates each parameter in one pass instead of about eight.
        fused = self.device.type in ("cpu", "cuda")
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=fused)
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch = 0
        self.history: list[dict[str, float]] = []
        self.best_metric = -math.inf
        self.best_epoch = 0
        self.best_state: dict[str, Tensor] | None = None
        self.bad_evaluations = 0  # validations in a row without a better Recall@k
        self.eval_every = 1
        self.last_epoch: int | None = None
        self.seconds = 0.0
        self.stopped_early = False

    def fit(
        self,
        config: dict[str, Any],
        *,
        epochs: int,
        patience: int = 10,
        eval_every: int = 1,
        checkpoint: Path | None = None,
        progress: bool = True,
    ) -> None:
        """Run epochs up to ``epochs``, validating every ``eval_every`` epochs (and after the
        last), stopping early after ``patience`` validations in a row without a better
        Recall@k (0: never), and writing ``checkpoint`` after each epoch.

        Args:
            config: The run's settings (see :func:`~graphrec.training.run.run_config`),
                stored in the checkpoint.
            epochs: The last epoch to run; a resumed trainer continues from :attr:`epoch`.
            patience: Validations without improvement before stopping. (default: 10)
            eval_every: Epochs between validations. (default: 1)
            checkpoint: Where to :meth:`save` after each epoch; :obj:`None` writes
                nothing. (default: None)
            progress: Show a progress bar. (default: True)
        """
        if eval_every < 1:
            raise ValueError(f"eval_every must be at least 1, got {eval_every}")
        self.eval_every, self.last_epoch = eval_every, epochs
        bar = tqdm(
            range(self.epoch + 1, epochs + 1),
            desc=config["model"],
            unit="epoch",
            disable=not progress,
            initial=self.epoch,
            total=epochs,
        )
        for _ in bar:
            # Checked before the epoch, so a resumed run that had stopped stays stopped.
            if patience and self.bad_evaluations >= patience:
                self.stopped_early = True
                break
            row = self.run_epoch()
            shown = ("loss", f"val_recall@{self.k}")
            bar.set_postfix({key: f"{row[key]:.4f}" for key in shown if key in row})
            if checkpoint is not None:
                self.save(checkpoint, config)
        bar.close()

    def result(self, config: dict[str, Any]) -> TrainResult:
        """Put the best epoch's weights back into the model and evaluate them on test (when
        the data has a test split: a refit on all interactions has none)."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        has_test = self.data.test.size(1) > 0
        return TrainResult(
            model=self.model,
            config=config,
            history=self.history,
            best_epoch=self.best_epoch,
            metrics=evaluate(self.model, self.data, split="test", k=self.k) if has_test else {},
            seconds=self.seconds,
            stopped_early=self.stopped_early,
        )

    def run_epoch(self) -> dict[str, float]:
        """One pass over the training interactions, then validation; returns the history row."""
        epoch = self.epoch + 1
        start = time.perf_counter()
        self.model.train()
        total, batches = 0.0, 0
        for users, pos_items, neg_items in self.batches():
            loss, value = self.batch_loss(users, pos_items, neg_items)
            if not math.isfinite(value):
                raise TrainingDivergedError(
                    diverged_message(value, epoch, batches, self.lr, self.reg)
                )
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total += value
            batches += 1
        row = {"epoch": epoch, "loss": total / max(1, batches)}
        row["seconds"] = time.perf_counter() - start
        self.seconds += row["seconds"]
        self.epoch = epoch
        self._validate(row)
        self.history.append(row)
        return row

    def batches(self) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        """One epoch's ``(users, pos_items, neg_items)`` batches, on the CPU: the training
        interactions in a random order, each with one sampled negative item.

        The order and the negatives come from :attr:`generator` alone, so two trainers
        seeded alike draw the same batches (data-parallel ranks rely on it).
        """
        train_edges = self.data.train
        order = torch.randperm(train_edges.size(1), generator=self.generator)
        for batch in order.split(self.batch_size):
            users, pos_items = train_edges[:, batch]
            yield users, pos_items, sample_negatives(users, self.data.train_items, self.generator)

    def batch_loss(
        self, users: Tensor, pos_items: Tensor, neg_items: Tensor
    ) -> tuple[Tensor, float]:
        """The loss to back-propagate for one batch, and the batch's loss as a number
        (for the history and the divergence check)."""
        loss, _ = self.model.bpr_loss(
            users.to(self.device),
            pos_items.to(self.device),
            neg_items.to(self.device),
            reg=self.reg,
        )
        return loss, loss.item()

    def _validate(self, row: dict[str, float]) -> None:
        """On a validation epoch (every :attr:`eval_every`, and the last), evaluate on
        validation and keep the best weights (the latest when there is no validation set)."""
        epoch = int(row["epoch"])
        if epoch % self.eval_every and epoch != self.last_epoch:
            return
        score = float(epoch)
        if self.data.val.size(1) > 0:
            metrics = evaluate(
                self.model, self.data, split="val", metrics=[Recall(self.k), NDCG(self.k)]
            )
            row.update({f"val_{key}": value for key, value in metrics.items() if "@" in key})
            score = metrics[f"recall@{self.k}"]
        if score > self.best_metric:
            self.best_metric = score
            self.best_epoch = int(row["epoch"])
            self.best_state = {
                key: value.detach().clone() for key, value in self.model.state_dict().items()
            }
            self.bad_evaluations = 0
        else:
            self.bad_evaluations += 1

    def save(self, path: Path, config: dict[str, Any]) -> None:
        """Write a checkpoint, tagged with the run's ``config`` for :meth:`load`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "config": config,
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "history": self.history,
            "best_metric": self.best_metric,
            "best_epoch": self.best_epoch,
            "best_state": self.best_state,
            "bad_evaluations": self.bad_evaluations,
            "seconds": self.seconds,
        }
        partial = path.with_suffix(".tmp")
        torch.save(state, partial)
        os.replace(partial, path)  # A crash mid-write never leaves a broken checkpoint.

    def resume(self, checkpoint: Path | None, config: dict[str, Any]) -> None:
        """Continue from ``checkpoint`` when it exists (refusing one of other settings)."""
        if checkpoint is not None and checkpoint.exists():
            self.load(checkpoint, config)

    def load(self, path: Path, config: dict[str, Any]) -> None:
        """Continue from a checkpoint; refuses one written with other settings."""
        state = torch.load(path, map_location="cpu", weights_only=False)
        self.load_state(state, config, source=str(path))

    def load_state(
        self, state: dict[str, Any], config: dict[str, Any], source: str = "the checkpoint"
    ) -> None:
        """Continue from a checkpoint already read (what :meth:`save` writes); refuses one
        written with other settings, naming ``source`` in the message."""
        saved = {key: state["config"].get(key) for key in RESUME_KEYS}
        current = {key: config.get(key) for key in RESUME_KEYS}
        if saved["data"] != current["data"]:
            before = (saved["data"] or {}).get("fingerprint")
            raise ValueError(
                f"{source} was trained on another split of the data (fingerprint {before}, "
                f"now {current['data'].get('fingerprint')}): start a new run instead of "
                "resuming this one"
            )
        if saved != current:
            changed = sorted(key for key in RESUME_KEYS if saved[key] != current[key])
            raise ValueError(
                f"{source} holds a run with different settings ({', '.join(changed)}); "
                "start a new run instead of resuming this one"
            )
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise ValueError(f"{source} does not fit this model: {first}") from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.epoch = state["epoch"]
        self.history = state["history"]
        self.best_metric = state["best_metric"]
        self.best_epoch = state["best_epoch"]
        self.best_state = state["best_state"]
        self.bad_evaluations = state["bad_evaluations"]
        self.seconds = state["seconds"]
