"""Write parsed catalog rows into the graph: batched, idempotent, resumable.

Parsers (:mod:`graphrec.loaders`) yield typed rows; :class:`Ingestor` buffers
them per kind and sends each full buffer as one ``UNWIND $rows`` transaction.

- **Order.** Node buffers are flushed before any relationship buffer, so a
  relationship never arrives before the nodes it connects (the parsers yield a
  node before any row that references it).
- **Idempotent.** Nodes are ``MERGE``d on their business id. Relationships have
  a key (``(user, item, kind)`` for interactions, ``(item, concept, relation)``
  for concepts, ...); rows are de-duplicated on it within a batch, missing edges
  are created and existing ones refreshed. Ingesting the same files twice
  leaves the same counts. ``keep_duplicates`` turns this off for interactions.
- **Relationships on Neo4j** are one ``MERGE`` per batch (``ingest/merge_*``,
  chosen through the capability probe): a driver retry of a committed batch, or
  the API writing the same interactions during the ingest, adds no second edge.
  On ArcadeDB, whose relationship ``MERGE`` is slow, concept links are
  ``OPTIONAL MATCH`` plus ``CREATE`` then an update (``create_missing_*``).
- **Interactions elsewhere (ArcadeDB)** are compared with the graph in Python rather than checked
  edge by edge on the server (which was most of its work): the first time a
  user appears, their existing edges are read in one query (nothing is read
  on a first load, when the graph has no interactions), and this run's writes
  keep that picture current. New keys get a plain ``CREATE``, changed ones an
  update, unchanged ones nothing. Memory grows with the interactions of the
  users seen (about 200 bytes each). This path assumes no other writer adds
  the same interactions while the ingest runs.
- **Resumable.** Each batch commits on its own: an interrupted run keeps what
  it committed, and a re-run completes the rest without duplicates.
- **Bad rows.** A parser's :class:`~graphrec.loaders.rows.Reject` is counted and
  reported with its ``file:line``; the valid rows are still written. With
  ``strict``, all rows are parsed first and nothing is written if any is bad.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from tqdm import tqdm

from graphrec.graph.client import DEFAULT_BATCH_SIZE, GraphClient, batched
from graphrec.ingest.summary import KEPT_REJECTS, IngestSummary
from graphrec.ingest.targets import TARGETS, IngestError, Target
from graphrec.loaders.rows import InteractionRow, Reject, Row


def create_then_refresh(
    graph: GraphClient, create: str, update: str | None, rows: list, *, merge: str | None = None
) -> int:
    """Write ``rows`` without duplicates; the number of nodes or relationships created.

    With ``merge`` (a relationship ``MERGE``, the natural form on Neo4j) that one
    statement does it. Otherwise ``create`` creates what is missing, then ``update``
    refreshes the rest if some rows already existed (ArcadeDB, whose relationship
    ``MERGE`` is slow).
    """
    if merge is not None:
        return graph.write(merge, rows=rows).get("relationships_created", 0)
    counters = graph.write(create, rows=rows)
    created = counters.get("nodes_created", 0) + counters.get("relationships_created", 0)
    if update is not None and created < len(rows):
        graph.write(update, rows=rows)
    return created


# -- the writer --------------------------------------------------------------------------------------
class Ingestor:
    """Buffer rows per kind and write them in ``UNWIND`` batches.

    Args:
        graph: an open client.
        batch_size: rows per transaction (default: 10,000).
        keep_duplicates: create one ``INTERACTED`` edge per log row instead of one
            per ``(user, item, kind)`` (default: False).
        on_rows: called with the number of rows written after each batch.
    """

    def __init__(
        self,
        graph: GraphClient,
        *,
        batch_size: int = 2 * DEFAULT_BATCH_SIZE,
        keep_duplicates: bool = False,
        on_rows: Callable[[int], None] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.graph = graph
        self.batch_size = batch_size
        self.keep_duplicates = keep_duplicates
        self.on_rows = on_rows
        self.summary = IngestSummary()
        # Per kind: key -> parameter map; a later row with the same key replaces an earlier one.
        self._buffers: dict[type, dict[Hashable, dict[str, Any]]] = {kind: {} for kind in TARGETS}
        self._duplicate_rows: list[dict[str, Any]] = []
        # user id -> {(item id, kind): (weight, rating, ts, split)} for every user seen so far.
        self._known: dict[str, dict[tuple[str, str], tuple]] = {}
        self._graph_has_interactions: bool | None = None
        self._merge: bool | None = None  # probed on the first relationship batch

    def add(self, row: Row) -> None:
        self.summary.rows_read += 1
        if isinstance(row, Reject):
            self.summary.rejected += 1
            if len(self.summary.rejects) < KEPT_REJECTS:
                self.summary.rejects.append(row)
            return
        kind = type(row)
        target = TARGETS[kind]
        if kind is InteractionRow and self.keep_duplicates:
            self._duplicate_rows.append(target.to_param(row))
            if len(self._duplicate_rows) >= self.batch_size:
                self._flush_nodes()
                self._flush_duplicates()
            return
        buffer = self._buffers[kind]
        buffer[target.key(row)] = target.to_param(row)
        if len(buffer) >= self.batch_size:
            if not target.is_node:
                self._flush_nodes()
            self._flush(kind)

    def _flush_nodes(self) -> None:
        for kind, target in TARGETS.items():
            if target.is_node:
                self._flush(kind)

    def _flush(self, kind: type) -> None:
        buffer = self._buffers[kind]
        if not buffer:
            return
        target = TARGETS[kind]
        if kind is InteractionRow:
            self._flush_interactions(buffer)
            return
        rows = list(buffer.values())
        buffer.clear()
        merge = target.merge if self._merge_relationships() else None
        created = create_then_refresh(self.graph, target.create, target.update, rows, merge=merge)
        self._record(target, len(rows), created)

    def _record(self, target: Target, rows: int, created: int) -> None:
        """Count a written batch in the summary and report progress."""
        count = self.summary.count(target)
        count.rows += rows
        count.created += created
        if self.on_rows is not None:
            self.on_rows(rows)

    def _flush_interactions(self, buffer: dict[Hashable, dict[str, Any]]) -> None:
        """Create the new ``(user, item, kind)`` keys, refresh changed ones, skip the rest.

        On Neo4j the batch is one ``MERGE`` (``ingest/merge_interactions``); elsewhere the keys
        are compared with the graph in Python and only the new ones are created.
        """
        batch = dict(buffer)
        buffer.clear()
        target = TARGETS[InteractionRow]
        if self._merge_relationships():
            counters = self.graph.write(target.merge, rows=list(batch.values()))
            self._record(target, len(batch), counters.get("relationships_created", 0))
            return
        known = self._known_edges({row["user_id"] for row in batch.values()})
        new, changed = [], []
        for (user, item, kind), row in batch.items():
            values = (row["weight"], row["rating"], row["ts"], row["split"])
            edges = known[user]
            if (item, kind) not in edges:
                new.append(row)
            elif edges[item, kind] != values:
                changed.append(row)
            edges[item, kind] = values
        counters = self.graph.write(target.create, rows=new) if new else {}
        if changed:
            self.graph.write(target.update, rows=changed)
        self._record(target, len(batch), counters.get("relationships_created", 0))

    def _merge_relationships(self) -> bool:
        """Whether the server's relationship ``MERGE`` is the natural form (Neo4j)."""
        if self._merge is None:
            from graphrec.graph.capabilities import probe

            self._merge = probe(self.graph).merge_relationships
        return self._merge

    def _known_edges(self, user_ids: set[str]) -> dict[str, dict[tuple[str, str], tuple]]:
        """The ``INTERACTED`` edges of ``user_ids``, per user, read from the graph once per run.

        Each user's edges are read the first time the user appears in a batch
        and then kept up to date with what this run writes, so a log in any
        order costs one read per edge. When the graph has no interactions at
        all (a first load), nothing needs reading.
        """
        missing = sorted(u for u in user_ids if u not in self._known)
        if missing:
            if self._graph_has_interactions is None:
                self._graph_has_interactions = bool(self.graph.read("ingest/any_interaction"))
            for user in missing:
                self._known[user] = {}
            if self._graph_has_interactions:
                for chunk in batched(missing, 2_000):
                    for row in self.graph.read("ingest/existing_interactions", ids=chunk):
                        edges = self._known[row["user_id"]]
                        for item, kind, weight, rating, ts, split in row["edges"]:
                            edges[item, kind] = (weight, rating, ts, split)
        return self._known

    def _flush_duplicates(self) -> None:
        if not self._duplicate_rows:
            return
        rows, self._duplicate_rows = self._duplicate_rows, []
        target = TARGETS[InteractionRow]
        counters = self.graph.write(target.create, rows=rows)
        self._record(target, len(rows), counters.get("relationships_created", 0))

    def close(self) -> IngestSummary:
        """Write everything still buffered (nodes first) and return the summary."""
        self._flush_nodes()
        self._flush_duplicates()
        for kind, target in TARGETS.items():
            if not target.is_node:
                self._flush(kind)
        return self.summary


def ingest(
    graph: GraphClient,
    rows: Iterable[Row],
    *,
    batch_size: int = 2 * DEFAULT_BATCH_SIZE,
    strict: bool = False,
    keep_duplicates: bool = False,
    progress: bool = True,
    description: str = "ingest",
) -> IngestSummary:
    """Write ``rows`` into ``graph`` and return what changed.

    Args:
        graph: an open client with the schema applied.
        rows: typed rows from a parser.
        batch_size: rows per transaction (default: 10,000).
        strict: parse everything first and write nothing if any row is bad (default: False).
        keep_duplicates: one ``INTERACTED`` edge per log row (default: False).
        progress: show a progress bar (default: True).

    Raises:
        IngestError: ``strict`` and at least one bad row; the message quotes the first ones.
    """
    start = time.perf_counter()
    if strict:
        rows = list(rows)
        rejects = [row for row in rows if isinstance(row, Reject)]
        if rejects:
            shown = "; ".join(str(r) for r in rejects[:5])
            more = f" (and {len(rejects) - 5} more)" if len(rejects) > 5 else ""
            raise IngestError(f"--strict: {len(rejects)} bad rows, nothing written: {shown}{more}")
    graph.apply_schema()
    with tqdm(desc=description, unit=" rows", disable=not progress, mininterval=0.5) as bar:
        writer = Ingestor(
            graph, batch_size=batch_size, keep_duplicates=keep_duplicates, on_rows=bar.update
        )
        for row in rows:
            writer.add(row)
        summary = writer.close()
    summary.seconds = time.perf_counter() - start
    return summary
