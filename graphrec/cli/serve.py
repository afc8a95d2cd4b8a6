"""``graphrec serve``: run the recommendation API (FastAPI under uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from graphrec.cli._common import load_settings


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


def serve_command(
    host: Annotated[
        str | None,
        typer.Option(help="Address to bind (default: GRAPHREC_API_HOST, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port (default: GRAPHREC_API_PORT, 8000)."),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Model to serve; repeat for several (default: every model with an active "
            "version in the graph).",
        ),
    ] = None,
    default_model: Annotated[
        str | None,
        typer.Option(
            "--default-model",
            help="Model for requests that name none (default: lightgcn when served, else the "
            "most recently written).",
        ),
    ] = None,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev",
            help="Development: open reads about users to anyone who can reach the port, and "
            "accept write and admin requests without a key when no admin key is set.",
        ),
    ] = False,
    read_only: Annotated[
        bool,
        typer.Option("--read-only", help="Refuse writes (POST /interactions, POST /items)."),
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve recommendations over REST: top-k, similar items, interactions, cold-start items.

    At start-up, loads the active model versions' embeddings, the catalog and
    the users' seen items from the graph into memory. Reads about users need a
    read or admin key in the X-API-Key header (GRAPHREC_API_READ_KEYS,
    GRAPHREC_API_KEY, GRAPHREC_API_KEYS); writes and POST /admin/reload an admin
    key; without an admin key the service refuses to start unless --dev or
    --read-only. One process
    serves one in-memory index: scale out with more processes behind a load
    balancer. Each loads its own index and applies the others' writes through
    the change feed in the graph (GRAPHREC_API_SYNC_INTERVAL); POST /admin/reload
    on one of them reloads them all. OpenAPI docs at /docs.
    """
    import uvicorn

    from graphrec.api.main import InsecureConfigError, create_app

    settings = load_settings()
    try:
        app = create_app(
            settings, dev=dev, read_only=read_only, models=model, default_model=default_model
        )
    except InsecureConfigError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None
    uvicorn.run(
        app,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=log_level,
        # Recommendation responses are small; the default h11 keep-alive is fine.
        access_log=log_level == "debug",
    )
