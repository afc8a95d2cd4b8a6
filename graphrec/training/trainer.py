"""BPR training with early stopping, checkpoints and resumption.

One keyword-only entry point, :func:`train`, in the manner of PyKEEN's
``pipeline``: it resolves the model by name, trains it on a
:class:`~graphrec.data.RecData` and returns a :class:`TrainResult` that can
save itself. Each batch samples one negative item per training interaction
(uniformly, never one of the user's training items), propagates once and takes
an Adam step on the BPR loss plus :math:`L_2` on the batch's ego embeddings.

With a ``run_dir``, a checkpoint is written after every epoch; calling
:func:`train` again with the same run directory and settings resumes where the
last run stopped.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from graphrec.data import DataError, RecData, UserItems
from graphrec.evaluation import evaluate
from graphrec.evaluation.metrics import NDCG, Recall
from graphrec.models.base import Recommender
from graphrec.models.registry import model_name, resolve_model

CHECKPOINT = "checkpoint.pt"
MODEL_FILE = "model.pt"

#: Settings that must match for a checkpoint to be resumed (epochs and patience may change).
RESUME_KEYS = ("model", "model_kwargs", "batch_size", "lr", "reg", "seed", "k", "data")


class TrainingDivergedError(RuntimeError):
    """The loss stopped being a finite number."""


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


def train(
    *,
    model: str | type[Recommender] | Recommender,
    data: RecData,
    model_kwargs: Mapping[str, Any] | None = None,
    epochs: int = 100,
    batch_size: int = 2048,
    lr: float = 1e-3,
    reg: float = 1e-4,
    seed: int = 0,
    device: str | torch.device = "auto",
    patience: int = 10,
    k: int = 20,
    run_dir: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
) -> TrainResult:
    """Train a recommender with BPR and early stopping on validation Recall@k.

    Args:
        model: A registry name (``"lightgcn"``), a model class, or a model
            already built on ``data.train``.
        data: The split interactions (see :meth:`RecData.from_hetero`).
        model_kwargs: Hyper-parameters for the model class, e.g.
            ``{"embedding_dim": 64, "num_layers": 3}``. (default: none)
        epochs: Maximum passes over the training interactions. (default: 100)
        batch_size: Training interactions per step. (default: 2048)
        lr: Adam learning rate. (default: 1e-3)
        reg: :math:`L_2` weight on the batch's ego embeddings. (default: 1e-4)
        seed: Seeds initialisation, shuffling and negative sampling. (default: 0)
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``...
        patience: Stop after this many epochs without a better validation
            Recall@k; 0 disables early stopping. (default: 10)
        k: Cut-off of the early-stopping and reported metrics. (default: 20)
        run_dir: Directory for the checkpoint and the saved result; :obj:`None`
            writes nothing. (default: None)
        resume: Continue from ``run_dir``'s checkpoint when there is one.
            (default: True)
        progress: Show a progress bar and print a summary. (default: True)

    Raises:
        DataError: no training interactions, or no user has test items.
        TrainingDivergedError: the loss became NaN or infinite.
        ValueError: a checkpoint in ``run_dir`` is from different settings.
    """
    check_data(data)
    target = torch.device(resolve_device(device))
    kwargs = dict(model_kwargs or {})
    config = run_config(
        model=model_name(model),
        model_kwargs=kwargs,
        data=data,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        reg=reg,
        seed=seed,
        patience=patience,
        k=k,
        device=target,
    )
    torch.manual_seed(seed)
    net = build_model(model, data, kwargs).to(target)
    if not net.trainable:
        metrics = evaluate(net, data, split="test", k=k)
        result = TrainResult(model=net, config=config, metrics=metrics)
        return finish_run(result, run_dir, progress)

    trainer = Trainer(
        net, data, batch_size=batch_size, lr=lr, reg=reg, seed=seed, k=k, device=target
    )
    checkpoint = Path(run_dir) / CHECKPOINT if run_dir is not None else None
    if checkpoint is not None and resume and checkpoint.exists():
        trainer.load(checkpoint, config)
    trainer.fit(config, epochs=epochs, patience=patience, checkpoint=checkpoint, progress=progress)
    return finish_run(trainer.result(config), run_dir, progress)


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
) -> dict[str, Any]:
    """The JSON-safe settings of a run, as stored in checkpoints and ``config.json``."""
    return {
        "model": model,
        "model_kwargs": _json_safe(model_kwargs),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "reg": reg,
        "seed": seed,
        "patience": patience,
        "k": k,
        "device": str(device),
        "data": {
            "num_users": data.num_users,
            "num_items": data.num_items,
            "num_train": data.train.size(1),
            "split": data.split_config,
        },
    }


def sample_negatives(
    users: Tensor, positives: UserItems, generator: torch.Generator, max_rounds: int = 20
) -> Tensor:
    """One uniformly random item per user that is not among the user's ``positives``.

    Vectorised rejection sampling: draw for all users, redraw only the rejected
    ones. Users whose draws keep failing (they have seen almost every item)
    finally draw from their explicit complement.
    """
    num_items = positives.num_items
    negatives = torch.randint(num_items, users.shape, generator=generator)
    for _ in range(max_rounds):
        rejected = positives.contains(users, negatives).nonzero().view(-1)
        if rejected.numel() == 0:
            return negatives
        redraw = torch.randint(num_items, rejected.shape, generator=generator)
        negatives[rejected] = redraw
    for index in positives.contains(users, negatives).nonzero().view(-1).tolist():
        allowed = torch.ones(num_items, dtype=torch.bool)
        allowed[positives.items_of(int(users[index]))] = False
        choices = allowed.nonzero().view(-1)
        pick = torch.randint(choices.numel(), (1,), generator=generator)
        negatives[index] = choices[pick]
    return negatives


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` becomes CUDA when available, else CPU; other values are checked."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} was requested but CUDA is not available")
    return resolved


def load_model(run_dir: str | Path, data: RecData) -> Recommender:
    """Rebuild a trained model saved by :meth:`TrainResult.save`, on ``data``'s split."""
    path = Path(run_dir) / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"no trained model in {run_dir}: {MODEL_FILE} is missing")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = resolve_model(saved["model"]).from_data(data, **saved["model_kwargs"])
    model.load_state_dict(saved["state_dict"])
    return model


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
        self.bad_epochs = 0
        self.seconds = 0.0
        self.stopped_early = False

    def fit(
        self,
        config: dict[str, Any],
        *,
        epochs: int,
        patience: int = 10,
        checkpoint: Path | None = None,
        progress: bool = True,
    ) -> None:
        """Run epochs up to ``epochs``, stopping early after ``patience`` epochs without a
        better validation Recall@k (0: never), and writing ``checkpoint`` after each epoch.

        Args:
            config: The run's settings (see :func:`run_config`), stored in the checkpoint.
            epochs: The last epoch to run; a resumed trainer continues from :attr:`epoch`.
            patience: Early-stopping patience. (default: 10)
            checkpoint: Where to :meth:`save` after each epoch; :obj:`None` writes
                nothing. (default: None)
            progress: Show a progress bar. (default: True)
        """
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
            if patience and self.bad_epochs >= patience:
                self.stopped_early = True
                break
            row = self.run_epoch()
            shown = ("loss", f"val_recall@{self.k}")
            bar.set_postfix({key: f"{row[key]:.4f}" for key in shown if key in row})
            if checkpoint is not None:
                self.save(checkpoint, config)
        bar.close()

    def result(self, config: dict[str, Any]) -> TrainResult:
        """Put the best epoch's weights back into the model and evaluate them on test."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return TrainResult(
            model=self.model,
            config=config,
            history=self.history,
            best_epoch=self.best_epoch,
            metrics=evaluate(self.model, self.data, split="test", k=self.k),
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
        """Evaluate on validation and keep the best weights (the latest when there is no
        validation set)."""
        score = float(row["epoch"])
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
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1

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
            "bad_epochs": self.bad_epochs,
            "seconds": self.seconds,
        }
        partial = path.with_suffix(".tmp")
        torch.save(state, partial)
        os.replace(partial, path)  # A crash mid-write never leaves a broken checkpoint.

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
        if saved != current:
            changed = sorted(key for key in RESUME_KEYS if saved[key] != current[key])
            raise ValueError(
                f"{source} holds a run with different settings ({', '.join(changed)}); "
                "use another run directory, or do not resume"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.epoch = state["epoch"]
        self.history = state["history"]
        self.best_metric = state["best_metric"]
        self.best_epoch = state["best_epoch"]
        self.best_state = state["best_state"]
        self.bad_epochs = state["bad_epochs"]
        self.seconds = state["seconds"]


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


def check_data(data: RecData) -> None:
    """Refuse data no trainer can use (no training or test interactions, no negatives)."""
    if data.train.size(1) == 0:
        raise DataError("no training interactions: the split put every interaction in val or test")
    if data.test.size(1) == 0:
        raise DataError(
            "no user has test interactions, so nothing can be evaluated; "
            "raise the test ratio or lower min_interactions"
        )
    if bool((data.train_items.degree() >= data.num_items).any()):
        raise DataError(
            "a user interacted with every item, so no negative item can be sampled; "
            "drop such users from the export"
        )


def finish_run(result: TrainResult, run_dir: str | Path | None, progress: bool) -> TrainResult:
    """Save ``result`` into ``run_dir`` (when given) and print its summary (with ``progress``)."""
    if run_dir is not None:
        result.save(run_dir)
    if progress:
        tqdm.write(result.summary(), file=sys.stderr)  # stdout stays clean for the CLI's JSON
    return result


def diverged_message(loss: float, epoch: int, batch: int, lr: float, reg: float) -> str:
    """What to tell a user whose loss stopped being finite."""
    return (
        f"the loss became {loss} at epoch {epoch}, batch {batch}. The learning rate "
        f"(lr={lr:g}) is the likely cause: try lr={lr / 10:g}. "
        f"A very large reg (now {reg:g}) can also make the loss diverge."
    )


def _json_safe(values: Mapping[str, Any]) -> dict[str, Any]:
    """Hyper-parameters as JSON; tensors (e.g. initial embeddings) are left out, since
    they only set a starting point and the trained weights are saved separately."""
    return {key: value for key, value in values.items() if not isinstance(value, Tensor)}


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, default=str) + "\n")
