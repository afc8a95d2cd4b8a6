"""``graphrec demo``: the whole loop in one command, offline.

Graph (embedded unless configured) -> ingest a catalog (synthetic, or a
MovieLens folder) -> derive co-engagement -> export once -> train LightGCN and
the relation-aware GNN on the same split -> write both back -> evaluation table
against MF-BPR and most-popular -> three users' top-5, each with its best
explanation path -> plots (training curves, metric comparison) -> the REST
API on 127.0.0.1, serving the models just written, until Ctrl-C.
"""

from __future__ import annotations

import secrets
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import typer
from pydantic import SecretStr

from graphrec.config import Settings
from graphrec.evaluation import compare
from graphrec.evaluation.plots import plot_history
from graphrec.explain import explain
from graphrec.export import ExportFilters, export_graph
from graphrec.graph.connect import connect
from graphrec.graph.embedded import free_port, port_free
from graphrec.ingest import derive_co_engagement, ingest
from graphrec.loaders import parse
from graphrec.training.pipeline import PipelineResult, train_from_graph


@dataclass(frozen=True)
class DemoOptions:
    dataset: Path | None = None
    users: int = 3_000
    items: int = 2_000
    interactions: int = 120_000
    epochs: int = 40
    dim: int = 64
    seed: int = 0
    out_dir: Path = Path("demo-output")
    progress: bool = True
    serve: bool = True
    port: int | None = None


def _say(text: str) -> None:
    typer.secho(text, bold=True)


def run_demo(settings: Settings, options: DemoOptions) -> dict[str, PipelineResult]:
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    with connect(settings) as graph:
        answer = graph.read("graph/ping")[0]["ok"]  # the smoke query
        _say(f"graph: {graph.target.uri} (database {graph.target.database}; RETURN 1 -> {answer})")
        if options.dataset is not None:
            rows = parse("movielens", options.dataset)
            source = f"MovieLens at {options.dataset}"
        else:
            rows = parse(
                "synthetic",
                None,
                users=options.users,
                items=options.items,
                interactions=options.interactions,
                seed=options.seed,
            )
            source = "a synthetic catalog"
        _say(f"1/6 ingesting {source}")
        summary = ingest(graph, rows, progress=options.progress)
        typer.echo(summary.format_table())
        links = derive_co_engagement(graph)
        typer.echo(f"CO_ENGAGED links: {links.rows:,} ({links.created:,} new)")

        _say("2/6 exporting the graph to PyTorch Geometric")
        exported = export_graph(graph, ExportFilters(), progress=options.progress)
        hetero, _ = exported
        typer.echo(
            f"{hetero['user'].num_nodes:,} users, {hetero['item'].num_nodes:,} items, "
            f"{hetero['concept'].num_nodes:,} concepts, "
            f"{hetero['user', 'interacted', 'item'].num_edges:,} interactions"
        )

        _say("3/6 training (BPR, early stopping on validation Recall@20)")
        split = {"split": "random", "test_ratio": 0.2, "seed": options.seed}
        train_kwargs = {  # the models' own defaults (graphrec models), capped in epochs
            "epochs": options.epochs,
            "seed": options.seed,
            "model_kwargs": {"embedding_dim": options.dim},
        }
        runs: dict[str, PipelineResult] = {}
        for model, write_back in (("lightgcn", True), ("relgnn", True), ("mf", False)):
            runs[model] = train_from_graph(
                graph,
                model=model,
                split=split,
                exported=exported,
                write_back=write_back,
                progress=options.progress,
                **train_kwargs,
            )
            plot_history(runs[model].result.history, out / f"training-{model}.png", title=model)
            if runs[model].record is not None:
                typer.echo(f"wrote {runs[model].record.id} back as {runs[model].record.property}")

        _say("4/6 evaluation on the held-out test split")
        data = runs["lightgcn"].data
        table = compare({name: run.result.model for name, run in runs.items()}, data, out_dir=out)
        headline = [c for c in table.columns() if not c.startswith("bucket")][:8]
        typer.echo(table.to_markdown(headline))

        _say("5/6 recommendations with explanations (LightGCN)")
        _show_users(graph, runs["lightgcn"], count=3, k=5)
    typer.echo(
        f"\nplots and tables in {out.resolve()}: training-*.png, comparison.png, comparison.md"
    )
    if options.serve:
        user_id = runs["lightgcn"].id_map.users[0]
        serve_api(settings, port=options.port, example_user=user_id)
    else:
        typer.echo(
            "next: `graphrec serve` for the REST API, `graphrec explain USER ITEM` for paths"
        )
    return runs


def serve_api(settings: Settings, *, port: int | None, example_user: str) -> None:
    """Step 6: serve the models just written on 127.0.0.1 until Ctrl-C or SIGTERM.

    Reads are open (``--dev`` semantics: the demo serves on 127.0.0.1 for local use);
    writes need the API key; without ``GRAPHREC_API_KEY`` the demo makes one for this
    run and prints it. The port is ``port``, else ``GRAPHREC_API_PORT``
    when free, else any free port.
    """
    import uvicorn

    from graphrec.api.main import create_app

    host = "127.0.0.1"
    if port is None:
        port = settings.api_port if port_free(settings.api_port, host) else free_port()
    elif not port_free(port, host):
        raise typer.BadParameter(f"port {port} on {host} is taken", param_hint="--port")
    key = settings.api_key or SecretStr(secrets.token_urlsafe(24))
    # model_copy does not validate: the key must already be a SecretStr, as the app reads it.
    app = create_app(settings.model_copy(update={"api_key": key}), dev=True)
    # A browser tab left open on the explorer holds a connection: Ctrl-C waits for open
    # requests at most this long, then closes them.
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    )
    # In a thread, so this thread keeps Ctrl-C and prints the URLs once the app is up.
    thread = threading.Thread(target=server.run, name="graphrec-demo-api", daemon=True)
    _say("6/6 serving the REST API")
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the API did not start on {host}:{port}")
        time.sleep(0.05)
    url = f"http://{host}:{port}"
    typer.echo(f"API:           {url}")
    typer.echo(f"OpenAPI docs:  {url}/docs")
    typer.echo(f"Explorer page: {url}/ui/")
    if settings.api_key is None:
        typer.echo(
            f"API key:       {key.get_secret_value()}   "
            "(this run only; set GRAPHREC_API_KEY to choose one)"
        )
    typer.echo(f"try:           curl '{url}/users/{example_user}/recommendations?k=5&explain=true'")
    typer.echo("Ctrl-C stops the API (the embedded graph keeps running: graphrec db stop)")
    # SIGTERM (a service manager, `kill`) stops it as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    try:
        while thread.is_alive():
            thread.join(timeout=0.5)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(timeout=30)
    if thread.is_alive():  # a second Ctrl-C's path in uvicorn: stop without waiting
        server.force_exit = True
        thread.join(timeout=10)
    typer.echo("API stopped" if not thread.is_alive() else "API did not stop cleanly")


def _show_users(graph, run: PipelineResult, *, count: int, k: int) -> None:  # noqa: ANN001
    model, ids, data = run.result.model, run.id_map, run.data
    emb = model.get_embedding()
    users = torch.arange(min(count, data.num_users))
    seen = data.train_items.union(data.val_items).union(
        data.test_items
    )  # everything they interacted with
    top = model.recommend(users, k=k, exclude=seen)

    def vector(label: str, node_id: str):  # noqa: ANN202
        try:
            index = ids.index("user" if label == "User" else "item", node_id)
        except KeyError:
            return None
        return (emb.user if label == "User" else emb.item)[index].numpy()

    for row, user in enumerate(users.tolist()):
        user_id = ids.users[user]
        typer.secho(f"\nuser {user_id}", fg=typer.colors.CYAN)
        for rank, (item, score) in enumerate(
            zip(top.items[row].tolist(), top.scores[row].tolist(), strict=True), 1
        ):
            item_id = ids.items[item]
            title = ids.item_titles[item] or item_id
            typer.echo(f"  {rank}. {title}  (score {score:.3f})")
            if rank == 1:
                paths = explain(graph, user_id, item_id, vector, max_paths=1).paths
                reason = (
                    paths[0].sentence if paths else "no path in the graph (a pure embedding match)"
                )
                typer.echo(f"     why: {reason}")
