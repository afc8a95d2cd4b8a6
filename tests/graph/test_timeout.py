"""The transaction timeout the driver sends: Neo4j stops a slow query at it, server side."""

from __future__ import annotations

import time

import neo4j
import pytest

from graphrec.graph.capabilities import probe
from graphrec.graph.client import GraphClient

# A read that runs for many seconds on any engine: a count over a long generated range.
SLOW = "UNWIND range(1, 300000000) AS x WITH x WHERE x % 7 = 8 RETURN count(x) AS n"


@pytest.mark.engine_only("neo4j", reason="ArcadeDB's Bolt plugin ignores transaction timeouts")
def test_the_server_stops_a_query_at_its_timeout(graph: GraphClient) -> None:
    assert probe(graph).transaction_timeout
    start = time.monotonic()
    with pytest.raises(neo4j.exceptions.ClientError) as raised:
        graph.driver.execute_query(neo4j.Query(SLOW, timeout=0.5), database_=graph.target.database)
    elapsed = time.monotonic() - start
    assert "TransactionTimedOut" in (raised.value.code or "")
    # Stopped by the server near its timeout, not after the query's many seconds of work.
    assert elapsed < 10, f"the server took {elapsed:.1f} s to stop a 0.5 s transaction"
    # The server is still there for the next query.
    assert graph.read("graph/ping") == [{"ok": 1}]
