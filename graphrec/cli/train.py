"""``graphrec train``: train a recommender on the interactions exported from the graph."""

from __future__ import annotations

import inspect
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from graphrec.cli._common import announce, load_settings


class SplitMethod(StrEnum):
    RANDOM = "random"
    TEMPORAL = "temporal"
    STORED = "stored"


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


def train_command(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="Model to train: mf, lightgcn, ngcf, relgnn (relation-aware, uses concepts) "
            "or most_popular (a counting baseline, not trained).",
        ),
    ] = "lightgcn",
    epochs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Most passes over the training interactions; early stopping "
            "may end the run sooner. Default: the model's (`graphrec models` lists them).",
            show_default=False,
        ),
    ] = None,
    dim: Annotated[int, typer.Option(min=1, help="Embedding size.")] = 64,
    layers: Annotated[
        int, typer.Option(min=1, help="Propagation layers (graph models; ignored by mf).")
    ] = 3,
    lr: Annotated[
        float | None,
        typer.Option(min=0.0, help="Adam learning rate. Default: the model's.", show_default=False),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            min=1,
            help="Training interactions per step. Default: the model's.",
            show_default=False,
        ),
    ] = None,
    reg: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="L2 weight on the batch's input embeddings. Default: the model's.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seeds the split, initialisation and negative sampling.")
    ] = 0,
    split: Annotated[
        SplitMethod,
        typer.Option(
            help="How to hold out test interactions: random (a share per user), temporal "
            "(each user's latest) or stored (the split fixed by the source files).",
        ),
    ] = SplitMethod.RANDOM,
    test_ratio: Annotated[
        float,
        typer.Option(
            "--test-ratio",
            min=0.0,
            max=0.9,
            help="Random split: share of each user's interactions held out for test.",
        ),
    ] = 0.2,
    val_ratio: Annotated[
        float,
        typer.Option(
            "--val-ratio",
            min=0.0,
            max=0.9,
            help="Share of each user's training interactions held out for validation (early "
            "stopping, best epoch). 0: no validation, no early stopping, the last epoch is "
            "kept (a paper protocol: --val-ratio 0 --test-ratio 0.2 --epochs N).",
        ),
    ] = 0.1,
    patience: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Stop after this many validations in a row without a better validation "
            "Recall@20; 0 never stops early. Default: the model's.",
            show_default=False,
        ),
    ] = None,
    eval_every: Annotated[
        int | None,
        typer.Option(
            "--eval-every",
            min=1,
            help="Epochs between validations (patience counts validations). Default: the model's.",
            show_default=False,
        ),
    ] = None,
    device: Annotated[
        str, typer.Option(help="auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")
    ] = "auto",
    metrics_out: Annotated[
        Path | None,
        typer.Option(
            "--metrics-out", metavar="FILE", help="Also write the test metrics as JSON to FILE."
        ),
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option(
            "--run-dir",
            help="A new or empty directory for this run's checkpoint, model, split, "
            "history.json, metrics.json and training.png. Default: a new run directory "
            "<data dir>/runs/<model>-<time>-<id> (list them with `graphrec runs`).",
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="RUN",
            help="Continue the interrupted run RUN (a run id from `graphrec runs`, or its "
            "directory) from its checkpoint; refused when the data or settings differ.",
        ),
    ] = None,
    init_from_kge: Annotated[
        str | None,
        typer.Option(
            "--init-from-kge",
            metavar="RUN",
            help="relgnn only: start concept embeddings from a `graphrec kge train` run "
            "(its name or path); the KGE dimension must equal --dim.",
        ),
    ] = None,
    write_back: Annotated[
        bool,
        typer.Option(
            help="Write the embeddings into the graph as a new, active model version "
            "(emb_<model>_v<n> properties and a (:Model) node)."
        ),
    ] = True,
    refit: Annotated[
        bool,
        typer.Option(
            help="Before writing back, train again on all interactions for the number of "
            "epochs validation chose, and write back that model (the reported metrics stay "
            "the split-trained model's; the Model node records both).",
        ),
    ] = True,
    mini_batch: Annotated[
        bool,
        typer.Option(
            "--mini-batch",
            help="Train on sampled subgraphs (PyG LinkNeighborLoader) instead of propagating "
            "over the whole graph every step: memory bounded by the batch, for graphs whose "
            "full-batch training does not fit. lightgcn and relgnn.",
            rich_help_panel="Scale",
        ),
    ] = False,
    fan_out: Annotated[
        str | None,
        typer.Option(
            "--fan-out",
            metavar="K1,K2,...",
            help="With --mini-batch: neighbours sampled per node at each hop, one value per "
            "layer (-1: all). Default: 10 per layer.",
            rich_help_panel="Scale",
        ),
    ] = None,
    memory_cap: Annotated[
        float | None,
        typer.Option(
            "--memory-cap",
            metavar="GB",
            min=0.001,
            help="Refuse to start when the estimated peak memory exceeds GB (full-batch: "
            "suggests --mini-batch; mini-batch: when one batch would not fit). Checked from "
            "the graph's counts before the export, then exactly after it.",
            rich_help_panel="Scale",
        ),
    ] = None,
    distributed: Annotated[
        int | None,
        typer.Option(
            "--distributed",
            metavar="N",
            min=1,
            help="Data-parallel training with N processes (torch.distributed + DDP: gloo on "
            "CPU, nccl on CUDA); under torchrun, N must equal its world size.",
            rich_help_panel="Scale",
        ),
    ] = None,
) -> None:
    """Train a recommender on the graph's interactions and report its test metrics.

    Exports users, items, interactions and concepts from the graph, splits the
    interactions into train / validation / test, trains with BPR (early
    stopping on validation Recall@20), evaluates by full ranking on test, and
    writes the embeddings back into the graph as the model's new active version.
    Running API processes on the graph load that version through their change
    feed (no POST /admin/reload needed).
    """
    from graphrec.data import DataError
    from graphrec.export import export_graph
    from graphrec.feed import announce_reload
    from graphrec.graph.connect import connect
    from graphrec.kge import KGEError, concept_init
    from graphrec.models.registry import UnknownModelError, model_name, resolve_model
    from graphrec.training import TrainingDivergedError
    from graphrec.training.pipeline import train_from_graph

    try:
        model_class = resolve_model(model)
    except UnknownModelError as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from None
    name = model_name(model_class)
    if init_from_kge is not None and name != "relgnn":
        raise typer.BadParameter(
            "only the relation-aware model (relgnn) has concept embeddings",
            param_hint="--init-from-kge",
        )
    settings = load_settings()
    run_dir = choose_run_dir(settings.data_dir, name, run_dir=run_dir, resume=resume)
    model_kwargs: dict[str, Any] = model_kwargs_for(model_class, dim=dim, layers=layers)
    try:
        # Every check that needs no data runs before the export.
        strategy = choose_strategy(
            name,
            mini_batch=mini_batch,
            fan_out=fan_out,
            layers=layers,
            memory_cap=memory_cap,
            distributed=distributed,
            device=device,
            batch_size=batch_size,
        )
        with connect(settings) as graph:
            if memory_cap is not None:  # a lower bound from counts, before the export
                check_memory_before_export(
                    graph,
                    memory_cap,
                    model=name,
                    model_kwargs=model_kwargs,
                    fan_outs=fan_outs_for(fan_out, layers) if mini_batch else None,
                    batch_size=batch_size,
                )
            exported = export_graph(graph, progress=True)
            if init_from_kge is not None:
                model_kwargs["concept_embeddings"] = concept_init(
                    init_from_kge, exported[1].concepts, dim, data_dir=settings.data_dir
                )
            run = train_from_graph(
                graph,
                model=name,
                exported=exported,
                split={
                    "split": split.value,
                    "test_ratio": test_ratio,
                    "val_ratio": val_ratio,
                    "seed": seed,
                },
                write_back=write_back,
                refit=refit,
                strategy=strategy,
                memory_cap_gb=memory_cap,
                model_kwargs=model_kwargs,
                epochs=epochs,
                batch_size=batch_size,
                lr=lr,
                reg=reg,
                seed=seed,
                device=device,
                patience=patience,
                eval_every=eval_every,
                run_dir=run_dir,
                resume=resume is not None,
            )
            if run is not None and run.record is not None:
                announce(lambda: announce_reload(graph), f"model version {run.record.id}")
    except (DataError, TrainingDivergedError, KGEError, ValueError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    if run is None:  # a torchrun process other than rank 0: rank 0 reports and writes back
        return
    typer.echo(run.data.summary(), err=True)
    typer.echo(json.dumps(run.result.metrics, indent=2))
    typer.echo(f"run saved in {run_dir}", err=True)
    if run.record is not None:
        how = (
            f"refit on all {run.served.config['data']['num_train']:,} interactions for "
            f"{run.served.config['epochs']} epochs"
            if run.served is not run.result
            else "trained on the training split"
        )
        typer.echo(
            f"embeddings written back to the graph as {run.record.property} "
            f"({run.record.id}, active; {how})",
            err=True,
        )
    if metrics_out is not None:
        metrics_out.parent.mkdir(parents=True, exist_ok=True)
        metrics_out.write_text(json.dumps(run.result.metrics, indent=2) + "\n")


def choose_strategy(
    model: str,
    *,
    mini_batch: bool,
    fan_out: str | None,
    layers: int,
    memory_cap: float | None,
    distributed: int | None,
    device: str,
    batch_size: int,
) -> Any:
    """The training strategy for these options.

    Checks what can be checked without data (fan-outs against layers, the
    number of processes against CPUs or GPUs, unsupported combinations) and
    raises :class:`ValueError` with the option's name. The memory cap needs the
    graph's size and is checked by :func:`graphrec.training.train` before training.
    """
    from graphrec.training import Distributed, FullBatch, MiniBatch
    from graphrec.training import distributed as dist
    from graphrec.training.minibatch import MINIBATCH_MODELS

    if fan_out is not None and not mini_batch:
        raise ValueError("--fan-out only applies to --mini-batch training")
    if mini_batch:
        if distributed is not None:
            raise ValueError(
                "--mini-batch and --distributed cannot be combined yet: distributed training "
                "is full-batch (every process propagates over the whole graph)"
            )
        if model not in MINIBATCH_MODELS:
            raise ValueError(f"--mini-batch supports {', '.join(MINIBATCH_MODELS)}, not {model!r}")
        return MiniBatch(fan_outs=fan_outs_for(fan_out, layers))
    if memory_cap is not None and model not in MINIBATCH_MODELS:
        raise ValueError(f"--memory-cap can estimate {', '.join(MINIBATCH_MODELS)}, not {model!r}")
    if dist.launched_by_torchrun():
        return Distributed(world_size=distributed, launch="env")
    if distributed is not None:
        dist.check_processes(distributed, device=device, batch_size=batch_size)
        return Distributed(world_size=distributed, launch="spawn")
    return FullBatch()


def choose_run_dir(data_dir: Path, model: str, *, run_dir: Path | None, resume: str | None) -> Path:
    """The run's directory: ``--resume RUN``'s, a given new or empty ``--run-dir``, or a
    new one under ``<data dir>/runs``. A directory that holds a run is refused unless
    resumed, so two runs never share one."""
    from graphrec.training.rundirs import new_run_dir, resolve_run, runs_root

    root = runs_root(data_dir)
    if resume is not None:
        if run_dir is not None:
            raise typer.BadParameter(
                "give --resume RUN or --run-dir, not both", param_hint="--resume"
            )
        try:
            return resolve_run(root, resume)
        except FileNotFoundError as exc:
            raise typer.BadParameter(str(exc), param_hint="--resume") from None
    if run_dir is None:
        return new_run_dir(root, model)
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise typer.BadParameter(
            f"{run_dir} is not empty (it holds another run?); choose a new directory, or "
            f"continue that run with --resume {run_dir}",
            param_hint="--run-dir",
        )
    return run_dir


def fan_outs_for(fan_out: str | None, layers: int) -> list[int]:
    """``--fan-out`` checked against ``--layers``; 10 per layer when it is not given."""
    from graphrec.training.minibatch import check_fan_outs

    return check_fan_outs(fan_out or ",".join(["10"] * layers), layers)


def check_memory_before_export(
    graph: Any,
    memory_cap: float,
    *,
    model: str,
    model_kwargs: dict[str, Any],
    fan_outs: list[int] | None,
    batch_size: int,
) -> None:
    """Refuse a ``--memory-cap`` that the graph's counts alone already exceed.

    The estimate from counts is a lower bound of the one made after the export
    (which knows the split and the degrees), so this refuses only runs the later
    check would refuse too, and spares the export.
    """
    from graphrec.export import graph_size
    from graphrec.training.memory import check_memory

    check_memory(
        graph_size(graph),
        memory_cap,
        model=model,
        model_kwargs=model_kwargs,
        fan_outs=fan_outs,
        batch_size=batch_size,
    )


def model_kwargs_for(model_class: type, *, dim: int, layers: int) -> dict[str, int]:
    """``--dim`` and ``--layers`` as keyword arguments, for the models that take them."""
    accepted = inspect.signature(model_class).parameters
    candidates = {"embedding_dim": dim, "num_layers": layers}
    return {key: value for key, value in candidates.items() if key in accepted}
