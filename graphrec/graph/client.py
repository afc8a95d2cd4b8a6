"""Talk to the graph: parameterised reads and writes of named Cypher statements.

:class:`GraphClient` wraps the official ``neo4j`` driver (sync);
:class:`~graphrec.graph.async_client.AsyncGraphClient` is its async twin.
Reads are routed as reads; writes run in managed transactions (``execute_write``), which the driver retries, so a
write statement should give the same graph when it runs twice. Most ``MERGE``, or
``CREATE`` only what an ``OPTIONAL MATCH`` in the same statement found missing.
One does not: ``ingest/create_interactions.cypher`` creates every row it is
given (rows the ingest compared with the graph beforehand), so on ArcadeDB,
where ingest uses it, a retry of a batch whose commit succeeded but whose answer
was lost duplicates that batch. On Neo4j ingest merges interactions instead
(``ingest/merge_interactions.cypher``).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, LiteralString, Self, TypeVar

import neo4j
from neo4j import GraphDatabase, RoutingControl
from neo4j.exceptions import AuthError, ServiceUnavailable

from graphrec.graph import cypher
from graphrec.graph.errors import GraphAuthError, GraphError, GraphUnavailableError

# The driver logs every server notification ("label does not exist" on an empty graph, ...)
# at WARNING; without a handler of the application's own, Python would print each one on
# stderr. A NullHandler keeps them quiet unless the application configures logging.
logging.getLogger("neo4j.notifications").addHandler(logging.NullHandler())

T = TypeVar("T")

#: Rows per ``UNWIND $rows`` transaction unless the caller says otherwise.
DEFAULT_BATCH_SIZE = 5_000

#: Reads one :class:`GraphClient` runs side by side for :meth:`GraphClient.submit_read`
#: (well under the driver's default pool of 100 connections).
CONCURRENT_READS = 16


class QuietList(list):
    """A list parameter with a short ``repr``.

    The driver formats ``repr()`` of every parameter for a debug log line on
    each query, even with debug logging off (``Bolt5x0.run`` in neo4j 6.4).
    For embedding vectors that string costs more than packing and sending them
    (bench/RESULTS.md, write-back). The value is packed as an ordinary list.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<list of {len(self)}>"


@dataclass(frozen=True)
class ConnectionTarget:
    """Where the graph is and how to log in. The password never appears in ``repr``."""

    uri: str
    user: str | None
    password: str | None = field(repr=False)
    database: str = "neo4j"
    embedded: bool = False

    @property
    def auth(self) -> tuple[str, str] | None:
        if self.user is None:
            return None
        return (self.user, self.password or "")


@dataclass
class WriteStats:
    """What a write (or a series of batched writes) changed, summed over transactions."""

    rows: int = 0
    batches: int = 0
    counters: dict[str, int] = field(default_factory=dict)

    def add(self, rows: int, counters: Mapping[str, int]) -> None:
        self.rows += rows
        self.batches += 1
        for key, value in counters.items():
            self.counters[key] = self.counters.get(key, 0) + value


_COUNTER_NAMES = (
    "nodes_created",
    "nodes_deleted",
    "relationships_created",
    "relationships_deleted",
    "properties_set",
    "labels_added",
    "labels_removed",
    "indexes_added",
    "indexes_removed",
    "constraints_added",
    "constraints_removed",
)


def _counters(summary: neo4j.ResultSummary) -> dict[str, int]:
    counters = summary.counters
    return {name: value for name in _COUNTER_NAMES if (value := getattr(counters, name))}


def batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split ``rows`` into lists of at most ``size`` items, lazily."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def translate_error(target: ConnectionTarget, exc: Exception) -> GraphError:
    """Turn a driver exception into a one-line, actionable :class:`GraphError`."""
    if isinstance(exc, AuthError):
        return GraphAuthError(
            f"{target.uri}: authentication failed for user {target.user!r} "
            f"(check GRAPHREC_NEO4J_USER / GRAPHREC_NEO4J_PASSWORD)"
        )
    # Driver messages span several lines; the CLI prints one.
    reason = " ".join(str(exc).split())
    if isinstance(exc, ServiceUnavailable):
        hint = "" if target.embedded else " (is the server running? check GRAPHREC_NEO4J_URI)"
        return GraphUnavailableError(f"{target.uri}: cannot connect: {reason}{hint}")
    if isinstance(exc, ValueError | neo4j.exceptions.ConfigurationError):
        return GraphUnavailableError(f"{target.uri}: {reason}")
    return GraphError(f"{target.uri}: {reason}")


class GraphClient:
    """A sync connection to one database. Use as a context manager, or call :meth:`close`.

    Example::

        with GraphClient.open(target) as graph:
            graph.apply_schema()
            graph.write_batches("ingest/merge_users", rows, batch_size=10_000)
            graph.read("graph/count_nodes")
    """

    def __init__(self, driver: neo4j.Driver, target: ConnectionTarget) -> None:
        self.driver = driver
        self.target = target
        #: Milliseconds the server reported for write statements (``result_available_after``
        #: + ``result_consumed_after``), summed; benchmarks use it to split server from client time.
        self.server_write_ms = 0
        self._readers: ThreadPoolExecutor | None = None
        self._readers_lock = threading.Lock()
        #: What :func:`graphrec.graph.capabilities.probe` found (it fills this in once).
        self._capabilities: Any = None

    @classmethod
    def open(cls, target: ConnectionTarget, *, verify: bool = True, **driver_config: Any) -> Self:
        """Open a driver to ``target``; with ``verify``, fail now if the server is unreachable."""
        try:
            driver = GraphDatabase.driver(target.uri, auth=target.auth, **driver_config)
        except Exception as exc:  # malformed URI and similar configuration errors
            raise translate_error(target, exc) from exc
        client = cls(driver, target)
        if verify:
            try:
                driver.verify_connectivity()
            except Exception as exc:
                driver.close()
                raise translate_error(target, exc) from exc
        return client

    def close(self) -> None:
        """Close the driver, after the reads started by :meth:`submit_read` have finished.

        A caller that stopped waiting for such a read (a missed deadline) leaves
        it running on a pooled connection; closing the pool under it would race
        the read's thread for the connection, so close drains them first (reads
        not yet started are cancelled).
        """
        with self._readers_lock:
            readers, self._readers = self._readers, None
        if readers is not None:
            readers.shutdown(wait=True, cancel_futures=True)
        self.driver.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def ping(self) -> None:
        """One auto-commit ``RETURN 1``: no retries, so a server that is not ready fails fast."""
        try:
            with self.driver.session(database=self.target.database) as session:
                session.run(cypher.load("graph/ping")).consume()
        except (AuthError, ServiceUnavailable) as exc:
            raise translate_error(self.target, exc) from exc

    # -- statements shipped in cypher/ ----------------------------------------------------
    def read(
        self, name: str, /, *, timeout_: float | None = None, **params: Any
    ) -> list[dict[str, Any]]:
        """Run the read statement ``name`` and return its rows as dicts.

        Values come back as the driver decodes them: graphrec's statements
        return plain values and lists, never nodes, so no per-value conversion
        is needed (``Record.data()`` costs more than the query on large lists).

        ``timeout_`` (seconds) is sent as the transaction's timeout: Neo4j
        aborts the query after it. Not every engine enforces it (ArcadeDB
        ignores it), so callers that must answer in time also keep their own
        deadline (see :func:`graphrec.explain.find_paths`).
        """
        try:
            result = self.driver.execute_query(
                neo4j.Query(cypher.load(name), timeout=timeout_),
                params,
                database_=self.target.database,
                routing_=RoutingControl.READ,
            )
        except (AuthError, ServiceUnavailable) as exc:
            raise translate_error(self.target, exc) from exc
        return [dict(record.items()) for record in result.records]

    def submit_read(
        self, name: str, /, *, timeout_: float | None = None, **params: Any
    ) -> Future[list[dict[str, Any]]]:
        """:meth:`read` on one of the client's reader threads; returns its future at once.

        At most :data:`CONCURRENT_READS` run at a time; more queue. A caller may
        stop waiting (or ``cancel()`` a queued one): :meth:`close` waits for
        the reads that had started before it closes the driver.
        """
        return self._submit(self.read, name, timeout_=timeout_, **params)

    def submit_reads(self, task: Callable[..., T], /, **kwargs: Any) -> Future[T]:
        """Run ``task(self, **kwargs)``, a function of several reads, on a reader thread.

        For searches that choose their next query from the last one's rows (see
        :mod:`graphrec.explain.kg_search`); :meth:`close` waits for it as for
        :meth:`submit_read`.
        """
        return self._submit(task, self, **kwargs)

    def _submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._readers_lock:
            if self._readers is None:
                self._readers = ThreadPoolExecutor(
                    max_workers=CONCURRENT_READS, thread_name_prefix="graphrec-read"
                )
            return self._readers.submit(fn, *args, **kwargs)

    def pages(
        self, name: str, /, *, page_size: int, **params: Any
    ) -> Iterator[list[dict[str, Any]]]:
        """Page through the read statement ``name`` in business-id order.

        The statement takes ``$after`` (the last ``id`` of the previous page,
        ``""`` first) and ``$limit``, and returns rows with an ``id`` column,
        ordered by it. Keyset paging: each page is one short query, whatever
        the size of the graph.
        """
        after = ""
        while True:
            page = self.read(name, after=after, limit=page_size, **params)
            if not page:
                return
            yield page
            after = page[-1]["id"]

    def write(self, name: str, /, **params: Any) -> dict[str, int]:
        """Run the write statement ``name`` in one managed transaction; return its counters."""
        return self.run_write(cypher.load(name), params)

    def write_rows(self, name: str, /, **params: Any) -> list[dict[str, Any]]:
        """Run the write statement ``name`` and return the rows it produces."""
        return self.run_write_rows(cypher.load(name), params)

    def write_autocommit(self, name: str, /, **params: Any) -> dict[str, int]:
        """Run ``name`` in an auto-commit transaction (not retried), as ``CALL { ... } IN
        TRANSACTIONS`` needs; such statements must be safe to run again."""
        try:
            with self.driver.session(database=self.target.database) as session:
                return _counters(session.run(cypher.load(name), params).consume())
        except (AuthError, ServiceUnavailable) as exc:
            raise translate_error(self.target, exc) from exc

    def write_batches(
        self,
        name: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        params: Mapping[str, Any] | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> WriteStats:
        """Send ``rows`` to the ``UNWIND $rows AS row ...`` statement ``name`` in batches.

        Each batch is its own managed transaction, so a failure keeps the batches
        already committed; the statements are ``MERGE``-based, so re-running the
        whole load completes the rest without duplicates. ``on_batch(n)`` is
        called after each committed batch of ``n`` rows (for progress bars).
        """
        query = cypher.load(name)
        stats = WriteStats()
        extra = dict(params or {})
        for chunk in batched(rows, batch_size):
            counters = self.run_write(query, {**extra, "rows": chunk})
            stats.add(len(chunk), counters)
            if on_batch is not None:
                on_batch(len(chunk))
        return stats

    def apply_schema(self) -> list[str]:
        """Apply every statement in ``cypher/schema/`` (``IF NOT EXISTS``: idempotent)."""
        applied = cypher.names("schema")
        for name in applied:
            self.write(name)
        return applied

    # -- arbitrary text, for the `graphrec db cypher` shell ------------------------------------
    def run(
        self, query: LiteralString | str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run a read query routed as a read; return rows as dicts."""
        try:
            result = self.driver.execute_query(
                query,  # type: ignore[arg-type]  # user-typed text from the shell, or a shipped statement
                dict(params or {}),
                database_=self.target.database,
                routing_=RoutingControl.READ,
            )
        except (AuthError, ServiceUnavailable) as exc:
            raise translate_error(self.target, exc) from exc
        return [record.data() for record in result.records]

    def run_write(
        self, query: LiteralString | str, params: Mapping[str, Any] | None = None
    ) -> dict[str, int]:
        """Run a write query in a managed (retried) transaction; return its counters."""

        def work(tx: neo4j.ManagedTransaction) -> neo4j.ResultSummary:
            return tx.run(query, dict(params or {})).consume()  # type: ignore[arg-type]

        try:
            with self.driver.session(database=self.target.database) as session:
                summary = session.execute_write(work)
        except (AuthError, ServiceUnavailable) as exc:
            raise translate_error(self.target, exc) from exc
        self.server_write_ms += (summary.result_available_after or 0) + (
            summary.result_consumed_after or 0
        )
        return _counters(summary)

    def run_write_rows(
        self, query: LiteralString | str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Like :meth:`run_write`, but return the rows the statement produces."""

        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(query, dict(params or {}))]  # type: ignore[arg-type]

        try:
            with self.driver.session(database=self.target.database) as session:
                return session.execute_write(work)
        except (AuthError, ServiceUnavailable) as exc:
            raise translate_error(self.target, exc) from exc
