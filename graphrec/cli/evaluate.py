"""``graphrec evaluate``: compare trained runs, and the most-popular baseline, on one split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from graphrec.cli._common import load_settings


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)


def evaluate_command(
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help="Comma-separated model names, e.g. lightgcn,mf,relgnn: the latest finished run "
            "of each under <data dir>/runs (see `graphrec runs`).",
        ),
    ] = None,
    run_dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--run-dir",
            help="A run (its id from `graphrec runs`, or its directory); repeat to compare "
            "several. Default: the latest finished run of each model.",
        ),
    ] = None,
    k: Annotated[
        list[int] | None, typer.Option("--k", min=1, help="Cut-off(s); repeatable.")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out-dir",
            help="Write comparison.json, comparison.md and a bar chart comparison.png here.",
        ),
    ] = None,
    metrics_out: Annotated[
        Path | None,
        typer.Option(
            "--metrics-out",
            metavar="FILE",
            help="Also write every model's metrics as JSON to FILE.",
        ),
    ] = None,
) -> None:
    """Evaluate trained runs by full ranking on the test split they were trained with,
    next to most-popular.

    Each run keeps its exact split (split.pt in its run directory), so evaluation
    needs no graph and never re-splits: interactions added since training change
    nothing. Runs are compared only when they share one split (the same
    fingerprint, see `graphrec runs`); otherwise the command refuses.
    Metrics include Recall, NDCG, Precision, HitRate and MRR at K, item coverage,
    the mean popularity of recommended items, and recall on head vs long-tail items.
    """
    from graphrec.data import SPLIT_FILE, DataError, load_split
    from graphrec.evaluation import compare
    from graphrec.training import load_model
    from graphrec.training.rundirs import latest_run, list_runs, resolve_run, runs_root

    root = runs_root(load_settings().data_dir)
    try:
        named = [latest_run(root, n.strip()) for n in (models or "").split(",") if n.strip()]
        given = [resolve_run(root, run) for run in (run_dirs or [])]
        runs = [*named, *given] or _latest_of_each_model(list_runs(root))
        if not runs:
            raise FileNotFoundError(
                f"no finished runs in {root}; run `graphrec train` first or pass --run-dir"
            )
        splits = {run: load_split(run / SPLIT_FILE) for run in runs}
        data = _one_split(splits)
        loaded = {}
        for run in runs:
            config = _read_config(run)
            loaded[f"{config['model']} ({run.name})"] = load_model(run, data)
        table = compare(loaded, data, k=k or [20], out_dir=out_dir)
    except (DataError, FileNotFoundError, ValueError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    typer.echo(table.to_markdown())
    if metrics_out is not None:
        metrics_out.parent.mkdir(parents=True, exist_ok=True)
        metrics_out.write_text(json.dumps(table.rows, indent=2) + "\n")


def _latest_of_each_model(infos: list[Any]) -> list[Path]:
    latest: dict[str, Path] = {}
    for info in infos:  # oldest first: later ones replace earlier ones
        if info.finished:
            latest[info.model] = info.path
    return list(latest.values())


def _read_config(run: Path) -> dict[str, Any]:
    path = run / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{run} is not a finished run: config.json is missing")
    return json.loads(path.read_text())


def _one_split(splits: dict[Path, Any]) -> Any:
    """The split all ``splits`` share; refuses runs trained on different ones."""
    from graphrec.data import fingerprint

    prints = {run: fingerprint(data) for run, data in splits.items()}
    first_run, first = next(iter(prints.items()))
    for run, value in prints.items():
        if value != first:
            raise ValueError(
                f"{run.name} and {first_run.name} were trained on different splits (fingerprints "
                f"{value} and {first}); compare runs of one split, e.g. trained with the same "
                "--split/--test-ratio/--val-ratio/--seed on an unchanged graph"
            )
    return splits[first_run]
