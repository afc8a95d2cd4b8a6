"""The service's requests to the graph: interaction and item writes, request-time reads, ping.

Interactions go through one :class:`InteractionWriter` task per service
(group commit): requests queue their rows and wait; the writer sends
everything queued as one ``UNWIND`` transaction, updates the in-memory state,
then acknowledges. Under load, batches grow by themselves; and since this
process has a single writer, concurrent requests for the same new user never
race to create it (on the embedded server such races fail on the uniqueness
constraint or conflict on the same records). A request is acknowledged only
after its transaction committed, so the graph holds at least what was acknowledged. When the
graph refuses a batch's rows (a bad value or a constraint, not an outage or a timeout), its
requests are committed again in halves, down to single requests, so one request's bad row
fails that request only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from neo4j.exceptions import (
    ClientError,
    ConstraintError,
    DriverError,
    Neo4jError,
    SessionExpired,
)

from graphrec.graph import cypher
from graphrec.graph.async_client import AsyncGraphClient
from graphrec.graph.errors import GraphError, GraphUnavailableError

log = logging.getLogger("graphrec.api")

#: Rows per transaction at most, when many requests are queued.
MAX_BATCH_ROWS = 5_000
#: A concurrent writer outside this process may create the same user first: retry the MERGE.
CONSTRAINT_RETRIES = 3
#: First pause before a write is retried (seconds); doubled after each attempt, with jitter.
FIRST_RETRY_DELAY = 0.05

#: Exceptions that mean "the graph could not do it now" (the API answers 503).
GRAPH_FAILURES: tuple[type[BaseException], ...] = (
    GraphError,
    DriverError,
    Neo4jError,
    TimeoutError,
    OSError,
)


def unavailable(exc: BaseException) -> GraphUnavailableError:
    """A one-line :class:`GraphUnavailableError` for any graph failure."""
    if isinstance(exc, GraphUnavailableError):
        return exc
    if isinstance(exc, TimeoutError):
        return GraphUnavailableError("the graph did not answer in time")
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return GraphUnavailableError(f"graph request failed: {reason}")


async def read_once(
    graph: AsyncGraphClient, name: str, timeout: float, **params: Any
) -> list[dict[str, Any]]:
    """Run the read statement ``name`` once (no driver retries), within ``timeout`` seconds.

    For request-time reads: with the graph down they fail at once with
    :class:`GraphUnavailableError` instead of retrying for the driver's whole budget.
    """

    async def once() -> list[dict[str, Any]]:
        async with graph.driver.session(database=graph.target.database) as session:
            result = await session.run(cypher.load(name), params)
            return [record.data() async for record in result]

    try:
        return await asyncio.wait_for(once(), timeout)
    except GRAPH_FAILURES as exc:
        raise unavailable(exc) from exc


async def ping(graph: AsyncGraphClient, timeout: float) -> str | None:
    """``None`` when the graph answers ``RETURN 1`` within ``timeout`` seconds, else why not.

    An auto-commit query, not ``execute_query``: the driver would retry an
    unreachable server for its whole retry budget.
    """
    try:
        await read_once(graph, "graph/ping", timeout)
    except GraphUnavailableError as exc:
        return str(exc)
    return None


async def write(
    graph: AsyncGraphClient,
    name: str,
    /,
    *,
    retry_seconds: float,
    ping_timeout: float,
    also: Sequence[tuple[str, dict[str, Any]]] = (),
    **params: Any,
) -> None:
    """Run the write statement ``name``, retried while the graph is reachable.

    ``also`` are more ``(name, params)`` statements for the same transaction (the change
    feed's entries, :mod:`graphrec.api.replicas`).

    The service's driver does not retry (``max_transaction_retry_time=0``): its
    retries would spend their whole budget on a server that is down. Here a
    transient failure (a conflict, a deadlock) is retried with backoff for up
    to ``retry_seconds``; a connection failure is retried once at once (a
    pooled connection that died with a restarted server), then only while the
    graph answers a ping (a cluster moving its leader); otherwise the write
    fails at once with :class:`GraphUnavailableError`. The statements are ``MERGE``-based, so a
    retry after a commit whose answer was lost changes nothing.
    """
    deadline = time.monotonic() + retry_seconds
    delay = FIRST_RETRY_DELAY
    connection_failures = 0
    while True:
        try:
            await graph.write_all([(name, params), *also])
            return
        except (GraphUnavailableError, SessionExpired) as exc:
            connection_failures += 1
            if time.monotonic() > deadline:
                raise unavailable(exc) from exc
            if connection_failures == 1:
                continue  # most often a pooled connection the server dropped: try a fresh one
            reason = await ping(graph, ping_timeout)
            if reason is not None:
                raise GraphUnavailableError(reason) from exc
        except Neo4jError as exc:
            if not exc.is_retryable() or time.monotonic() > deadline:
                raise
        await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        delay *= 2


def refused(exc: BaseException) -> bool:
    """Whether the graph refused a statement's rows (a bad value, a constraint), as opposed
    to failing, timing out or being unreachable: the rows themselves are the cause."""
    code = getattr(exc, "code", None) or ""
    return isinstance(exc, ClientError) and code.startswith(
        ("Neo.ClientError.Statement.", "Neo.ClientError.Schema.")
    )


def last_per_edge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last row per ``(user_id, item_id, kind)``, in order of their last appearance.

    One edge is kept per key and a later row overwrites an earlier one, so the graph
    ends the same either way; the engine is spared merging one edge thousands of times.
    """
    last: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["user_id"], row["item_id"], row["kind"])
        last.pop(key, None)
        last[key] = row
    return list(last.values())


@dataclass
class _Queued:
    rows: list[dict[str, Any]]
    done: asyncio.Future[None]


class InteractionWriter:
    """Write interactions in batches from a single task.

    Args:
        graph: The service's async client.
        on_commit: Called with the rows of each committed batch, before the
            requests are acknowledged (the service updates seen items there).
        timeout: Seconds a batch may take before its requests fail with 503.
        retry_seconds: How long a batch that failed transiently is retried (see :func:`write`).
        ping_timeout: Seconds the reachability check after a connection failure may take.
        log: The change-feed statements for a batch's rows, committed with it.
    """

    def __init__(
        self,
        graph: AsyncGraphClient,
        on_commit: Callable[[list[dict[str, Any]]], None],
        *,
        timeout: float = 10.0,
        retry_seconds: float = 5.0,
        ping_timeout: float = 1.0,
        log: Callable[[list[dict[str, Any]]], list[tuple[str, dict[str, Any]]]] | None = None,
    ) -> None:
        self.graph = graph
        self.log = log
        self.on_commit = on_commit
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.ping_timeout = ping_timeout
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue()
        #: Held around each commit and its memory update; an erasure holds it too, so that
        #: a batch never commits between an erasure's graph write and its memory update.
        self.commit_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def queued(self) -> int:
        """Requests waiting for the writer."""
        return self._queue.qsize()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="graphrec-interaction-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._queue.empty():
            queued = self._queue.get_nowait()
            if not queued.done.done():
                queued.done.set_exception(GraphUnavailableError("the service is shutting down"))

    async def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue ``rows`` and return once they are committed.

        Raises:
            GraphUnavailableError: the graph failed or did not answer in time.
        """
        if self._task is None or self._task.done():
            raise GraphUnavailableError("the interaction writer is not running")
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Queued(list(rows), done))
        await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0].rows)
            while size < MAX_BATCH_ROWS and not self._queue.empty():
                batch.append(self._queue.get_nowait())
                size += len(batch[-1].rows)
            waiting = [q for q in batch if not q.done.done()]  # skip cancelled requests
            if not waiting:
                continue
            await self._settle(waiting)

    async def _settle(self, waiting: list[_Queued]) -> None:
        """Commit the rows of ``waiting`` in one transaction and answer each request.

        When the graph refuses the rows (:func:`refused`: the statement failed, not the graph)
        and there are several requests, each half is committed on its own, and so on down to
        single requests: one request's bad row fails that request only, and the others commit.
        """
        if await self._commit_all(waiting) and len(waiting) > 1:
            middle = len(waiting) // 2
            await self._settle(waiting[:middle])
            await self._settle(waiting[middle:])

    async def _commit_all(self, waiting: list[_Queued]) -> bool:
        """One transaction for the rows of ``waiting``; answers each request and returns
        ``False``, except when the graph refused rows of several requests: then it answers none
        and returns ``True``."""
        rows = last_per_edge([row for q in waiting for row in q.rows])
        try:
            async with self.commit_lock:
                await asyncio.wait_for(self._commit(rows), self.timeout)
                self.on_commit(rows)
        except asyncio.CancelledError:
            for q in waiting:
                if not q.done.done():
                    q.done.set_exception(GraphUnavailableError("the service is shutting down"))
            raise
        except Exception as exc:  # every queued request must hear about it
            if refused(exc) and len(waiting) > 1:
                return True
            if not isinstance(exc, GRAPH_FAILURES) or refused(exc):
                log.exception("interaction write failed")
            error = unavailable(exc)
            for q in waiting:
                if not q.done.done():
                    q.done.set_exception(error)
            return False
        for q in waiting:
            if not q.done.done():
                q.done.set_result(None)
        return False

    async def _commit(self, rows: list[dict[str, Any]]) -> None:
        for attempt in range(CONSTRAINT_RETRIES):
            try:
                await write(
                    self.graph,
                    "api/merge_interactions",
                    retry_seconds=self.retry_seconds,
                    ping_timeout=self.ping_timeout,
                    also=self.log(rows) if self.log is not None else (),
                    rows=rows,
                )
                return
            except ConstraintError:
                if attempt == CONSTRAINT_RETRIES - 1:
                    raise


class ItemExistsError(Exception):
    """``POST /items`` for an id the graph already has."""


async def create_item(
    graph: AsyncGraphClient,
    *,
    item_id: str,
    title: str | None,
    properties: dict[str, list[float]],
    concepts: list[dict[str, Any]],
    timeout: float,
    retry_seconds: float,
    ping_timeout: float,
    also: Sequence[tuple[str, dict[str, Any]]] = (),
) -> None:
    """Create an item with its concepts, ``HAS_CONCEPT`` edges and embedding properties.

    Raises:
        ItemExistsError: the id is taken.
        GraphUnavailableError: the graph failed or did not answer in time.
    """
    try:
        await asyncio.wait_for(
            write(
                graph,
                "api/create_item",
                retry_seconds=retry_seconds,
                ping_timeout=ping_timeout,
                also=also,
                id=item_id,
                title=title,
                props=properties,
                concepts=concepts,
            ),
            timeout,
        )
    except ConstraintError:
        raise ItemExistsError(f"item {item_id!r} already exists") from None
    except GRAPH_FAILURES as exc:
        raise unavailable(exc) from exc


async def erase(
    graph: AsyncGraphClient,
    name: str,
    *,
    timeout: float,
    retry_seconds: float,
    ping_timeout: float,
    also: Sequence[tuple[str, dict[str, Any]]] = (),
    **params: Any,
) -> None:
    """Run the erasure statement ``name`` (one transaction; running it again changes nothing).

    Raises:
        GraphUnavailableError: the graph failed or did not answer in time.
    """
    try:
        await asyncio.wait_for(
            write(
                graph,
                name,
                retry_seconds=retry_seconds,
                ping_timeout=ping_timeout,
                also=also,
                **params,
            ),
            timeout,
        )
    except GRAPH_FAILURES as exc:
        raise unavailable(exc) from exc
