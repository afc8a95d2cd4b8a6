"""Finding candidate paths: one Cypher query per path kind (``cypher/explain/``), run side by
side under a deadline."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import wait
from typing import Any

import neo4j

from graphrec.explain.kg_search import (
    DEFAULT_KG_LIMITS,
    KGSearchLimits,
    KGSearchTimeout,
    kg_paths,
)
from graphrec.explain.paths import MAX_USER_IDS, PATH_KINDS, Explanation, PathSearch
from graphrec.explain.sentences import PathBuilder
from graphrec.graph.capabilities import probe
from graphrec.graph.client import GraphClient
from graphrec.graph.errors import GraphUnavailableError

#: A kind's query that failed for want of a connection (none free in the pool or none opened
#: within the driver's acquisition timeout, or it broke): counted as late when other kinds
#: answered.
CONNECTION_FAILURES = (
    GraphUnavailableError,
    neo4j.exceptions.ConnectionAcquisitionTimeoutError,
    neo4j.exceptions.ServiceUnavailable,
    neo4j.exceptions.SessionExpired,
)


def lost_connection(exc: BaseException) -> bool:
    """Whether a read failed on the way to the server, not in it: no connection, or one that
    broke (the driver reports a broken result stream as ``ResultFailedError``, caused by the
    socket's error rather than by an error the server sent)."""
    if isinstance(exc, neo4j.exceptions.ResultFailedError):
        return not isinstance(exc.__cause__, neo4j.exceptions.Neo4jError)
    return isinstance(exc, CONNECTION_FAILURES)


def server_timed_out(exc: BaseException) -> bool:
    """Whether ``exc`` is Neo4j stopping a query at its transaction timeout."""
    return isinstance(exc, neo4j.exceptions.ClientError) and "TransactionTimedOut" in (
        exc.code or ""
    )


def find_paths(
    graph: GraphClient,
    user_id: str,
    item_id: str,
    *,
    max_hops: int = 3,
    per_kind: int = 25,
    kinds: Sequence[str] = PATH_KINDS,
    timeout: float | None = None,
    kg_limits: KGSearchLimits = DEFAULT_KG_LIMITS,
) -> PathSearch:
    """Every candidate path (up to ``per_kind`` of each kind), unscored.

    The kinds' queries run concurrently. With a ``timeout`` (seconds), the
    search returns when it has passed, with the paths of the kinds that
    answered and the others named in :attr:`PathSearch.timed_out`; the timeout
    is also sent as each query's transaction timeout, so Neo4j stops the
    abandoned queries (engines that ignore it let them finish in the background).
    A kind whose rows arrive after the deadline is left out even if they arrive
    before the search returns. A kind whose query found no connection in time (on a busy
    server a new connection's handshake can outlast the driver's acquisition timeout) is
    left out the same way when some other kind answered; when none did, that failure is
    raised: the graph is out of reach.

    Knowledge-graph paths come from a bounded breadth-first search
    (:func:`~graphrec.explain.kg_search.kg_paths`, bounds in ``kg_limits``), so
    hub entities cannot make the search combinatorial.
    """
    if not 1 <= max_hops <= 4:
        raise ValueError(f"max_hops must be between 1 and 4, got {max_hops}")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, got {timeout}")
    deadline = None if timeout is None else time.monotonic() + timeout
    titles = graph.submit_read("explain/titles", timeout_=timeout, ids=[item_id])
    queries = {}
    for kind in kinds:
        if kind == "knowledge_graph":  # several bounded steps, see graphrec.explain.kg_search
            queries[kind] = graph.submit_reads(
                kg_paths,
                user_id=user_id,
                item_id=item_id,
                max_hops=max_hops,
                limit=per_kind,
                limits=kg_limits,
                deadline=deadline,
            )
            continue
        params: dict[str, Any] = {"user": user_id, "item": item_id, "limit": per_kind}
        statement = f"explain/{kind}"
        if kind == "collaborative":
            params["max_ids"] = MAX_USER_IDS
            if probe(graph).joins_bound_ends:  # the same rows, Neo4j's natural form
                statement = "explain/collaborative_one_pattern"
        queries[kind] = graph.submit_read(statement, timeout_=timeout, **params)
    answered: dict[str, float] = {}  # kind -> when its rows arrived
    for kind, future in queries.items():
        future.add_done_callback(lambda _, kind=kind: answered.setdefault(kind, time.monotonic()))
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    wait([titles, *queries.values()], timeout=remaining)
    failures: list[BaseException] = []
    title_rows: list[dict[str, Any]] = []
    if titles.done():
        try:
            title_rows = titles.result()
        except Exception as exc:
            if server_timed_out(exc):
                pass  # Neo4j enforced the deadline: the path sentences go without the title
            elif lost_connection(exc):
                failures.append(exc)
            else:
                raise
    builder = PathBuilder(user_id, item_id, title_rows[0]["title"] if title_rows else None)
    paths: list[Explanation] = []
    timed_out: list[str] = []
    kinds_answered = 0
    for kind, future in queries.items():
        # Rows that came in after the deadline count as late too, so the answer depends on
        # the deadline alone, not on how soon this thread got to look.
        late = deadline is not None and answered.get(kind, math.inf) > deadline
        if not future.done() or late:
            future.cancel()  # a query still queued never starts
            timed_out.append(kind)
            continue
        try:
            rows = future.result()
        except KGSearchTimeout:
            timed_out.append(kind)
            continue
        except Exception as exc:
            if server_timed_out(exc):
                timed_out.append(kind)  # Neo4j enforced the transaction timeout
                continue
            if not lost_connection(exc):
                raise
            failures.append(exc)
            timed_out.append(kind)
            continue
        kinds_answered += 1
        paths.extend(builder.build(kind, row) for row in rows)
    if failures and not kinds_answered:
        raise failures[0]  # the graph is out of reach, not slow in one kind
    return PathSearch(paths, tuple(timed_out))
