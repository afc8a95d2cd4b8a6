"""Everything that talks to the graph database lives here (plus loaders' ingest, export/write-back and the API).

- :mod:`~graphrec.graph.client`: the sync client, named Cypher, batched ``UNWIND`` writes
- :mod:`~graphrec.graph.async_client`: the async client (the API's)
- :mod:`~graphrec.graph.cypher`: the ``.cypher`` file loader
- :mod:`~graphrec.graph.capabilities`: what the server can do
- :mod:`~graphrec.graph.embedded`, :mod:`~graphrec.graph.engines`: the embedded servers
  (ArcadeDB, Neo4j)
- :mod:`~graphrec.graph.connect`: settings -> connection
"""

from graphrec.graph.async_client import AsyncGraphClient
from graphrec.graph.client import (
    DEFAULT_BATCH_SIZE,
    ConnectionTarget,
    GraphClient,
    WriteStats,
)
from graphrec.graph.errors import (
    EmbeddedServerError,
    GraphAuthError,
    GraphError,
    GraphUnavailableError,
    PortInUseError,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "AsyncGraphClient",
    "ConnectionTarget",
    "EmbeddedServerError",
    "GraphAuthError",
    "GraphClient",
    "GraphError",
    "GraphUnavailableError",
    "PortInUseError",
    "WriteStats",
]
