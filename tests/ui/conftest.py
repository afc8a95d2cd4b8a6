"""Fixtures for the browser tests: a small synthetic graph with two models trained by the real
pipeline (so their Model nodes carry metrics and training curves), the API on it over real
HTTP, and one headless Chromium for the session (Debian's, driven by Playwright).

Chromium is the system one (``apt-get install chromium``); Playwright never downloads a
browser here. ``launch`` gives every session a fresh temporary profile.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from graphrec import loaders
from graphrec.api.main import create_app
from graphrec.config import Settings
from graphrec.export import export_graph
from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.embedded import EmbeddedServer, free_port
from graphrec.ingest import derive_co_engagement, ingest
from graphrec.loaders.rows import (
    ConceptRelationRow,
    ConceptRow,
    ItemConceptRow,
    UserRow,
)
from graphrec.training.pipeline import train_from_graph

playwright_api = pytest.importorskip("playwright.sync_api")

API_KEY = "ui-test-key-0123456789"
LONELY_USER = "lonely"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}
#: How the page's performance was measured, for the terminal summary.
MEASURED: dict[str, float] = {}


def catalog_rows() -> list[Any]:
    """The synthetic catalog plus a small knowledge graph (creators related to each other)
    and a user without interactions, so every kind of path and message can be shown."""
    rows = list(loaders.parse("synthetic", None, users=60, items=90, interactions=1_500, seed=11))
    creators = [f"entity:creator {k}" for k in range(6)]
    rows += [ConceptRow(c, "entity", f"Creator {k}") for k, c in enumerate(creators)]
    rows += [ItemConceptRow(f"i{i}", creators[i % 6], "made_by") for i in range(90)]
    rows += [
        ConceptRelationRow(creators[k], "worked_with", creators[(k + 1) % 6]) for k in range(6)
    ]
    rows.append(UserRow(LONELY_USER))
    return rows


@dataclass(frozen=True)
class UiGraph:
    target: ConnectionTarget
    models: tuple[str, ...]


def build_graph(target: ConnectionTarget, models: tuple[str, ...] = ("lightgcn", "mf")) -> None:
    """Ingest the catalog, derive co-engagement, train ``models`` on one export, write back."""
    with GraphClient.open(target) as graph:
        graph.apply_schema()
        ingest(graph, catalog_rows(), progress=False)
        derive_co_engagement(graph, min_shared=2, top_k=10)
        exported = export_graph(graph, progress=False)
        for model in models:
            train_from_graph(
                graph,
                model=model,
                exported=exported,
                split={"split": "random", "test_ratio": 0.2, "seed": 0},
                progress=False,
                epochs=6,
                batch_size=256,
                lr=0.02,
                patience=0,
                model_kwargs={"embedding_dim": 16},
            )


@pytest.fixture(scope="session")
def ui_graph(
    tmp_path_factory: pytest.TempPathFactory, make_engine_server: Callable[..., EmbeddedServer]
) -> Iterator[UiGraph]:
    """The explorer's graph, on a server of its own (the session server's single database
    is reset by the graph tests in between), of the engine under test."""
    server = make_engine_server(tmp_path_factory.mktemp("ui-graph"))
    server.start()
    try:
        target = server.target()
        build_graph(target)
        yield UiGraph(target, ("lightgcn", "mf"))
    finally:
        server.stop()


def settings_for(target: ConnectionTarget, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "neo4j_uri": target.uri,
        "neo4j_user": target.user,
        "neo4j_password": target.password,
        "neo4j_database": target.database,
        "data_dir": data_dir,
        "api_key": API_KEY,
        "api_lock_reads": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class LiveServer:
    """The app under uvicorn in a thread, on a free port of 127.0.0.1 (real HTTP)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def api(self, path: str, key: str | None = None, **params: Any) -> Any:
        """``GET path`` on the same API the page uses, as JSON (asserting 200)."""
        headers = {"X-API-Key": key} if key else {}
        response = httpx.get(f"{self.url}{path}", params=params, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def start_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., LiveServer]]:
    """``start_server(target, **settings)``: the API on ``target``, stopped after the session."""
    servers: list[LiveServer] = []

    def start(target: ConnectionTarget, **overrides: Any) -> LiveServer:
        app = create_app(settings_for(target, tmp_path_factory.mktemp("api"), **overrides))
        server = LiveServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture(scope="session")
def api_server(ui_graph: UiGraph, start_server: Callable[..., LiveServer]) -> LiveServer:
    """The API with open reads (writes need the key)."""
    return start_server(ui_graph.target)


@pytest.fixture(scope="session")
def locked_server(ui_graph: UiGraph, start_server: Callable[..., LiveServer]) -> LiveServer:
    """The API with reads locked: every read needs the key."""
    return start_server(ui_graph.target, api_lock_reads=True, api_lock_catalog=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class Console:
    """What the page logged as errors, and the HTTP statuses a test expects to provoke."""

    errors: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def allow(self, *statuses: int) -> None:
        """The browser logs each failed request ("Failed to load resource: ... status of
        404"); a test that asks for an unknown user expects exactly those."""
        self.allowed_statuses.update(statuses)

    def unexpected(self) -> list[str]:
        allowed = tuple(
            f"the server responded with a status of {code}" for code in self.allowed_statuses
        )
        return [e for e in self.errors if not any(a in e for a in allowed)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Any, console: Console, tmp_path: Path) -> Iterator[Any]:
    """A fresh page (its own context: empty sessionStorage) that fails the test on any
    console error or uncaught exception."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.errors.append(f"uncaught: {e}"))
    yield page
    page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
    leaked = page.evaluate(
        "() => document.body.innerText.match(/\\b(undefined|null|NaN)\\b|\\[object Object\\]/g)"
    )
    context.close()
    assert not leaked, f"the page shows raw values: {leaked}"
    unexpected = console.unexpected()
    assert not unexpected, f"console errors on the page: {unexpected}"


@pytest.fixture
def shot(page: Any, tmp_path: Path) -> Callable[[str], Path]:
    """``shot(name)`` saves a full-page screenshot under the test's tmp dir."""

    def save(name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture(scope="session")
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="session")
def lonely_user() -> str:
    return LONELY_USER


@pytest.fixture(scope="session")
def measured() -> dict[str, float]:
    """Timings a test reports in the terminal summary (never asserted)."""
    return MEASURED


@pytest.fixture
def graph_builder(
    server_factory: Callable[..., EmbeddedServer],
) -> Callable[..., tuple[EmbeddedServer, ConnectionTarget]]:
    """``graph_builder(models=...)``: a server of its own, started, holding the catalog and
    trained models (stopped after the test)."""

    def make(models: tuple[str, ...] = ("lightgcn",)) -> tuple[EmbeddedServer, ConnectionTarget]:
        server = server_factory()
        server.start()
        target = server.target()
        build_graph(target, models)
        return server, target

    return make


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if MEASURED:
        terminalreporter.write_sep("-", "explorer page timings (reported, not asserted)")
        terminalreporter.write_line(json.dumps(MEASURED, sort_keys=True))
