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
            "of each under <data dir>/runs (see `graphrec runs`). In-database peers "
            "(cypher_cf, gds_node_similarity, gds_fastrp_knn) run on the graph over the "
            "first run's training split, its held-out interactions hidden.",
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
    never re-splits: interactions added since training change nothing, and only
    in-database peers (which run on the graph, with the split's held-out
    interactions hidden) need the graph. Runs are compared only when they share one split (the same
    fingerprint, see `graphrec runs`); otherwise the command refuses.
    Metrics include Recall, NDCG, Precision, HitRate and MRR at K, item coverage,
    the mean popularity of recommended items, and recall on head vs long-tail items.
    """
    from graphrec.data import SPLIT_FILE, DataError, load_split
    from graphrec.evaluation import compare
    from graphrec.peers import MissingPluginError, is_peer
    from graphrec.training import load_model
    from graphrec.training.rundirs import latest_run, list_runs, resolve_run, runs_root

    settings = load_settings()
    root = runs_root(settings.data_dir)
    names = [n.strip() for n in (models or "").split(",") if n.strip()]
    peers = [n for n in names if is_peer(n)]
    try:
        named = [latest_run(root, n) for n in names if not is_peer(n)]
        given = [resolve_run(root, run) for run in (run_dirs or [])]
        runs = [*named, *given] or _latest_of_each_model(list_runs(root))
        if not runs:
            raise FileNotFoundError(
                f"no finished runs in {root}; run `graphrec train` first or pass --run-dir"
                + (" (peers are evaluated on a trained run's split)" if peers else "")
            )
        splits = {run: load_split(run / SPLIT_FILE) for run in runs}
        data = _one_split(splits)
        loaded = {}
        for run in runs:
            config = _read_config(run)
            loaded[f"{config['model']} ({run.name})"] = load_model(run, data)
        timings = {}
        if peers:
            loaded.update(_run_peers(settings, peers, runs[0], data, max(k or [20]), timings))
        table = compare(loaded, data, k=k or [20], out_dir=out_dir)
    except (DataError, FileNotFoundError, ValueError, MissingPluginError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    typer.echo(table.to_markdown())
    for peer, seconds in timings.items():
        parts = ", ".join(f"{part} {value:.1f} s" for part, value in seconds.items())
        typer.echo(f"{peer}: {parts}", err=True)
    if metrics_out is not None:
        metrics_out.parent.mkdir(parents=True, exist_ok=True)
        metrics_out.write_text(json.dumps(table.rows, indent=2) + "\n")


def _run_peers(
    settings: Any, peers: list[str], run: Path, data: Any, k: int, timings: dict[str, Any]
) -> dict[str, Any]:
    """Run each in-database peer on ``run``'s split, with its held-out pairs hidden."""
    from graphrec.export import IdMap
    from graphrec.export.store import IDS_FILE
    from graphrec.graph.connect import connect
    from graphrec.peers.run import run_peer

    ids = run / IDS_FILE
    if not ids.is_file():
        raise FileNotFoundError(f"{ids} is missing: peers need the run's id map; retrain the run")
    id_map = IdMap.load(ids)
    total = data.train.size(1) + data.val.size(1) + data.test.size(1)
    out = {}
    with connect(settings) as graph:
        pairs = graph.read("peers/count_pairs")[0]["n"]
        if pairs != total:
            raise ValueError(
                f"the graph holds {pairs:,} user-item pairs but {run.name}'s split has {total:,}: "
                "peers run over the graph, so they would see interactions the split does not "
                "have; train a new run on the current graph"
            )
        for name in peers:
            result = run_peer(graph, name, data, id_map, k=k)
            out[name] = result.scores
            timings[name] = result.seconds
    return out


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
