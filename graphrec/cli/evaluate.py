"""``graphrec evaluate``: compare trained runs, and the most-popular baseline, on one split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from graphrec.cli._common import load_settings
from graphrec.cli.train import load_hetero


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)


def evaluate_command(
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help="Comma-separated model names, e.g. lightgcn,mf,relgnn: the latest run of each "
            "under <data dir>/runs (as `graphrec train` saves them).",
        ),
    ] = None,
    run_dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--run-dir",
            help="A run directory written by `graphrec train`; repeat to compare several. "
            "Default: every run under <data dir>/runs.",
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
    """Evaluate trained models by full ranking on their test split, next to most-popular.

    Every run must have used the same split settings (they are read from each
    run's config.json); the split is rebuilt from the graph's current export.
    Metrics include Recall, NDCG, Precision, HitRate and MRR at K, item coverage,
    the mean popularity of recommended items, and recall on head vs long-tail items.
    """
    from graphrec.data import DataError, RecData
    from graphrec.evaluation import compare
    from graphrec.training import load_model

    settings = load_settings()
    runs_root = settings.data_dir / "runs"
    named = [runs_root / name.strip() for name in (models or "").split(",") if name.strip()]
    runs = [*named, *(run_dirs or [])] or _saved_runs(runs_root)
    if not runs:
        typer.secho(
            f"error: no trained runs in {settings.data_dir / 'runs'}; "
            "run `graphrec train` first or pass --run-dir",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(1)
    try:
        configs = {run: _read_config(run) for run in runs}
        split_config = _common_split(configs)
        data = RecData.from_hetero(load_hetero(settings), **split_config)
        models = {}
        for run, config in configs.items():
            _check_same_graph(run, config, data)
            models[f"{config['model']} ({run.name})"] = load_model(run, data)
        table = compare(models, data, k=k or [20], out_dir=out_dir)
    except (DataError, FileNotFoundError, ValueError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    typer.echo(table.to_markdown())
    if metrics_out is not None:
        metrics_out.parent.mkdir(parents=True, exist_ok=True)
        metrics_out.write_text(json.dumps(table.rows, indent=2) + "\n")


def _saved_runs(root: Path) -> list[Path]:
    return sorted(path.parent for path in root.glob("*/model.pt")) if root.is_dir() else []


def _read_config(run: Path) -> dict[str, Any]:
    path = run / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{run} is not a finished run: config.json is missing")
    return json.loads(path.read_text())


def _common_split(configs: dict[Path, dict[str, Any]]) -> dict[str, Any]:
    splits = {run: config["data"]["split"] for run, config in configs.items()}
    first_run, first = next(iter(splits.items()))
    for run, split in splits.items():
        if split != first:
            raise ValueError(
                f"{run} and {first_run} were trained on different splits ({split} vs {first}); "
                "compare runs trained with the same --split, --test-ratio and --seed"
            )
    return first


def _check_same_graph(run: Path, config: dict[str, Any], data: Any) -> None:
    trained = (config["data"]["num_users"], config["data"]["num_items"])
    if trained != (data.num_users, data.num_items):
        raise ValueError(
            f"{run} was trained on {trained[0]} users and {trained[1]} items, but the graph "
            f"now exports {data.num_users} and {data.num_items}; retrain it with `graphrec train`"
        )
