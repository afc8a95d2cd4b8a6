"""The one training entry point, :func:`train`, and the loop every strategy shares.

In the manner of PyKEEN's ``pipeline``: one keyword-only function resolves the
model by name, trains it on a :class:`~graphrec.data.RecData` with a strategy
(:class:`~graphrec.training.strategies.FullBatch` by default,
:class:`~graphrec.training.strategies.MiniBatch`,
:class:`~graphrec.training.strategies.Distributed`) and returns a
:class:`~graphrec.training.result.TrainResult` that can save itself.

With a ``run_dir``, a checkpoint is written after every epoch; calling
:func:`train` again with the same run directory and settings resumes where the
last run stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from graphrec.data import SPLIT_FILE, RecData, save_split
from graphrec.evaluation import evaluate
from graphrec.models.base import Recommender
from graphrec.models.registry import model_name, training_defaults
from graphrec.training.result import TrainResult, finish_run
from graphrec.training.run import build_model, check_data, resolve_device, run_config
from graphrec.training.spec import RunSpec
from graphrec.training.strategies import FullBatch, Strategy
from graphrec.training.trainer import CHECKPOINT


def train(
    *,
    model: str | type[Recommender] | Recommender,
    data: RecData,
    strategy: Strategy | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    reg: float | None = None,
    seed: int = 0,
    device: str | torch.device = "auto",
    patience: int | None = None,
    eval_every: int | None = None,
    k: int = 20,
    run_dir: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    memory_cap_gb: float | None = None,
) -> TrainResult | None:
    """Train a recommender with BPR and early stopping on validation Recall@k.

    Args:
        model: A registry name (``"lightgcn"``), a model class, or a model
            already built on ``data.train``.
        data: The split interactions (see :meth:`RecData.from_hetero`).
        strategy: How epochs are computed: :class:`~graphrec.training.strategies.FullBatch`
            (propagation over the whole graph), ``MiniBatch(fan_outs=...)`` (sampled
            subgraphs) or ``Distributed(world_size=...)`` (data-parallel processes).
            (default: ``FullBatch()``)
        model_kwargs: Hyper-parameters for the model class, e.g.
            ``{"embedding_dim": 64, "num_layers": 3}``. (default: none)
        epochs: Maximum passes over the training interactions.
        batch_size: Training interactions per step.
        lr: Adam learning rate.
        reg: :math:`L_2` weight on the batch's ego embeddings.
        seed: Seeds initialisation, shuffling and negative sampling. (default: 0)
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``...
        patience: Stop after this many validations in a row without a better
            validation Recall@k; 0 disables early stopping.
        eval_every: Epochs between validations.
        k: Cut-off of the early-stopping and reported metrics. (default: 20)
        run_dir: Directory for the checkpoint and the saved result; :obj:`None`
            writes nothing. (default: None)
        resume: Continue from ``run_dir``'s checkpoint when there is one.
            (default: True)
        progress: Show a progress bar and print a summary. (default: True)
        memory_cap_gb: Refuse to start when the strategy's memory estimate
            (:mod:`graphrec.training.memory`) exceeds this many GB. (default: None)

    ``epochs``, ``batch_size``, ``lr``, ``reg``, ``patience`` and ``eval_every`` left
    :obj:`None` take the model's defaults
    (:data:`graphrec.models.registry.TRAINING_DEFAULTS`).

    Returns:
        The result; :obj:`None` only in a distributed process other than rank 0.

    Raises:
        DataError: no training interactions, or no user has test items.
        TrainingDivergedError: the loss became NaN or infinite.
        ValueError: bad strategy options, an estimate above the memory cap, or
            a checkpoint in ``run_dir`` from different settings.
    """
    defaults = training_defaults(model)
    spec = RunSpec(
        model=model,
        data=data,
        model_kwargs=model_kwargs,
        epochs=defaults.epochs if epochs is None else epochs,
        batch_size=defaults.batch_size if batch_size is None else batch_size,
        lr=defaults.lr if lr is None else lr,
        reg=defaults.reg if reg is None else reg,
        seed=seed,
        device=device,
        patience=defaults.patience if patience is None else patience,
        eval_every=defaults.eval_every if eval_every is None else eval_every,
        k=k,
        run_dir=run_dir,
        resume=resume,
        progress=progress,
        memory_cap_gb=memory_cap_gb,
    )
    strategy = strategy or FullBatch()
    strategy.check(spec)  # every check that needs no training runs before any work
    check_data(data)
    return strategy.execute(spec)


def train_here(
    spec: RunSpec,
    strategy: Strategy,
    *,
    device: torch.device | None = None,
    main: bool = True,
) -> TrainResult | None:
    """Run ``spec`` in this process with ``strategy``'s trainer: build the model, resume,
    fit with early stopping and checkpoints, evaluate the kept weights on test, save.

    Every strategy ends here (a distributed one in each of its processes), so the
    loop, checkpoints, history and final evaluation exist once.

    Args:
        spec: The run.
        strategy: Makes the trainer and adds its settings to the run's config.
        device: Where to train (default: ``spec.device`` resolved).
        main: This process reports, evaluates on test and saves the run; the others
            (distributed ranks above 0) only train and return :obj:`None`. (default: True)
    """
    target = device or resolve_device(spec.device)
    kwargs = spec.kwargs
    config = run_config(
        model=model_name(spec.model),
        model_kwargs=kwargs,
        data=spec.data,
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        lr=spec.lr,
        reg=spec.reg,
        seed=spec.seed,
        patience=spec.patience,
        eval_every=spec.eval_every,
        k=spec.k,
        device=target,
    )
    torch.manual_seed(spec.seed)
    net = build_model(spec.model, spec.data, kwargs).to(target)
    if spec.run_dir is not None and main:
        save_split(spec.data, Path(spec.run_dir) / SPLIT_FILE)  # the run keeps its split
    if not net.trainable:  # a counting baseline: fitted when built, nothing to train
        if not main:
            return None
        metrics = evaluate(net, spec.data, split="test", k=spec.k)
        result = TrainResult(model=net, config=config, metrics=metrics)
        return finish_run(result, spec.run_dir, spec.progress)
    trainer = strategy.trainer(net, spec, target)
    try:
        config.update(strategy.settings(trainer))
        checkpoint = Path(spec.run_dir) / CHECKPOINT if spec.run_dir is not None else None
        if spec.resume:
            trainer.resume(checkpoint, config)
        progress = spec.progress and main
        trainer.fit(
            config,
            epochs=spec.epochs,
            patience=spec.patience,
            eval_every=spec.eval_every,
            checkpoint=checkpoint,
            progress=progress,
        )
        if not main:
            return None
        return finish_run(trainer.result(config), spec.run_dir, progress)
    finally:
        strategy.release(trainer)


def refit(
    result: TrainResult,
    data: RecData,
    *,
    model_kwargs: Mapping[str, Any] | None = None,
    strategy: Strategy | None = None,
    device: str | torch.device = "auto",
    run_dir: str | Path | None = None,
    progress: bool = True,
) -> TrainResult | None:
    """Train ``result``'s model again, with its settings, on every interaction of ``data``
    (:meth:`~graphrec.data.RecData.for_refit`) for ``result.best_epoch`` epochs: the number
    chosen on validation. No validation and no test: the returned result has no metrics,
    and the reported metrics stay those of ``result``, the split-trained model.

    Args:
        result: A run trained on ``data``'s split.
        data: That split.
        model_kwargs: The hyper-parameters ``result`` was trained with, tensors included
            (its config keeps only the JSON-safe ones). (default: the config's)
        strategy: As for :func:`train`. (default: full batch)
        device: Where to train. (default: ``"auto"``)
        run_dir: Where the refit's checkpoint and model go. (default: nothing is written)
        progress: Show progress. (default: True)
    """
    config = result.config
    full = data.for_refit()
    check_data(full, need_test=False)
    epochs = max(1, result.best_epoch)
    spec = RunSpec(
        model=config["model"],
        data=full,
        model_kwargs=config["model_kwargs"] if model_kwargs is None else model_kwargs,
        epochs=epochs,
        batch_size=config["batch_size"],
        lr=config["lr"],
        reg=config["reg"],
        seed=config["seed"],
        device=device,
        patience=0,
        eval_every=epochs,
        k=config["k"],
        run_dir=run_dir,
        resume=False,
        progress=progress,
    )
    strategy = strategy or FullBatch()
    strategy.check(spec)
    return strategy.execute(spec)
