"""``graphrec runs`` and ``graphrec models``: the training runs on disk, and the models with
their default training settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from graphrec.cli._common import load_settings


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_command)
    app.command("models")(models_command)


def runs_command(
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Only runs of this model.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per run.")] = False,
) -> None:
    """List the training runs under <data dir>/runs, oldest first: run id, model, whether it
    finished, when, its test Recall@20 and NDCG@20, and its split's fingerprint (runs with
    the same fingerprint were trained and tested on the same split)."""
    from graphrec.training.rundirs import list_runs, runs_root

    infos = list_runs(runs_root(load_settings().data_dir), model)
    if as_json:
        for info in infos:
            typer.echo(
                json.dumps(
                    {
                        "run": info.run_id,
                        "path": str(info.path),
                        "model": info.model,
                        "finished": info.finished,
                        "metrics": info.metrics,
                        "split_fingerprint": info.fingerprint,
                    }
                )
            )
        return
    if not infos:
        typer.echo("no runs yet: train one with `graphrec train`")
        return
    typer.echo(
        f"{'run':<36} {'model':<12} {'state':<11} {'at (UTC)':<17} {'recall@20':>9} "
        f"{'ndcg@20':>8}  split"
    )
    for info in infos:
        at = datetime.fromtimestamp(info.created, UTC).strftime("%Y-%m-%d %H:%M")
        recall = info.metrics.get("recall@20")
        ndcg = info.metrics.get("ndcg@20")
        typer.echo(
            f"{info.run_id:<36} {info.model or '?':<12} "
            f"{'finished' if info.finished else 'unfinished':<11} {at:<17} "
            f"{'' if recall is None else f'{recall:.4f}':>9} {'' if ndcg is None else f'{ndcg:.4f}':>8}"
            f"  {info.fingerprint or '-'}"
        )


def models_command() -> None:
    """List the registered models and the training settings each uses by default
    (chosen on validation splits: bench/RESULTS.md)."""
    from graphrec.models.registry import MODELS, training_defaults

    typer.echo(
        f"{'model':<14} {'lr':>8} {'epochs':>7} {'eval every':>10} {'patience':>9} "
        f"{'reg':>8} {'batch':>6}"
    )
    for name in MODELS:
        d = training_defaults(name)
        typer.echo(
            f"{name:<14} {d.lr:>8g} {d.epochs:>7} {d.eval_every:>10} {d.patience:>9} "
            f"{d.reg:>8g} {d.batch_size:>6}"
        )
