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
- **Interactions** are compared with the graph in Python rather than checked
  edge by edge on the server (which was most of its work): the first time a
  user appears, their existing edges are read in one query (nothing is read
  on a first load, when the graph has no interactions), and this run's writes
  keep that picture current. New keys get a plain ``CREATE``, changed ones an
  update, unchanged ones nothing. Memory grows with the interactions of the
  users seen (about 200 bytes each). Like any bulk loader, this assumes no
  other writer adds the same interactions while the ingest runs.
- **Resumable.** Each batch commits on its own: an interrupted run keeps what
  it committed, and a re-run completes the rest without duplicates.
- **Bad rows.** A parser's :class:`~graphrec.loaders.rows.Reject` is counted and
  reported with its ``file:line``; the valid rows are still written. With
  ``strict``, all rows are parsed first and nothing is written if any is bad.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from graphrec.graph.client import DEFAULT_BATCH_SIZE, GraphClient, batched
from graphrec.loaders.rows import (
    ConceptRelationRow,
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    Reject,
    Row,
    SubconceptRow,
    UserConceptRow,
    UserRow,
)
from graphrec.schema import RESERVED_PROPERTIES, NodeLabel, RelType, check_property_name

#: How many rejects the summary keeps verbatim (all are counted).
KEPT_REJECTS = 1_000


class IngestError(Exception):
    """Ingestion refused (``strict`` with bad rows, or an invalid property name)."""


def _properties(props: dict[str, Any], *, where: str) -> dict[str, Any]:
    for key in props:
        try:
            check_property_name(key)
        except ValueError as exc:
            raise IngestError(f"{where}: {exc}") from None
        if key in RESERVED_PROPERTIES:
            raise IngestError(f"{where}: property {key!r} is reserved; rename it in the mapping")
    return {k: v for k, v in props.items() if v is not None}


# -- how each row kind is written --------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
    """One kind of row: where it goes in the graph and how it becomes a parameter map."""

    name: str  # label or relationship type, for the summary
    is_node: bool
    create: str  # statement that creates (nodes: merges) the rows
    to_param: Callable[[Any], dict[str, Any]]
    key: Callable[[Any], Hashable]
    update: str | None = None  # relationships: statement that refreshes existing edges


def _user(row: UserRow) -> dict[str, Any]:
    return {"id": row.id, "properties": _properties(row.properties, where=f"user {row.id!r}")}


def _item(row: ItemRow) -> dict[str, Any]:
    props = _properties(row.properties, where=f"item {row.id!r}")
    return {"id": row.id, "title": row.title, "properties": props}


def _interaction(row: InteractionRow) -> dict[str, Any]:
    return {
        "user_id": row.user_id,
        "item_id": row.item_id,
        "kind": row.kind,
        "weight": float(row.weight),
        "rating": row.rating,
        "ts": row.ts,
        "split": row.split,
    }


_TARGETS: dict[type, _Target] = {
    UserRow: _Target(NodeLabel.USER, True, "ingest/merge_users", _user, lambda r: r.id),
    ItemRow: _Target(NodeLabel.ITEM, True, "ingest/merge_items", _item, lambda r: r.id),
    ConceptRow: _Target(
        NodeLabel.CONCEPT,
        True,
        "ingest/merge_concepts",
        lambda r: {"id": r.id, "kind": r.kind, "name": r.name},
        lambda r: r.id,
    ),
    InteractionRow: _Target(  # written by Ingestor._flush_interactions, see there
        RelType.INTERACTED,
        False,
        "ingest/create_interactions",
        _interaction,
        lambda r: (r.user_id, r.item_id, r.kind),
        update="ingest/update_interactions",
    ),
    ItemConceptRow: _Target(
        RelType.HAS_CONCEPT,
        False,
        "ingest/create_missing_item_concepts",
        lambda r: {
            "item_id": r.item_id,
            "concept_id": r.concept_id,
            "relation": r.relation,
            "weight": float(r.weight),
        },
        lambda r: (r.item_id, r.concept_id, r.relation),
        update="ingest/update_item_concepts",
    ),
    UserConceptRow: _Target(
        RelType.HAS_ATTRIBUTE,
        False,
        "ingest/create_missing_user_attributes",
        lambda r: {"user_id": r.user_id, "concept_id": r.concept_id, "relation": r.relation},
        lambda r: (r.user_id, r.concept_id, r.relation),
    ),
    SubconceptRow: _Target(
        RelType.SUBCONCEPT_OF,
        False,
        "ingest/create_missing_subconcepts",
        lambda r: {"child_id": r.child_id, "parent_id": r.parent_id},
        lambda r: (r.child_id, r.parent_id),
    ),
    ConceptRelationRow: _Target(
        RelType.RELATED,
        False,
        "ingest/create_missing_concept_relations",
        lambda r: {"head_id": r.head_id, "relation": r.relation, "tail_id": r.tail_id},
        lambda r: (r.head_id, r.relation, r.tail_id),
    ),
}


# -- the summary ----------------------------------------------------------------------------------
@dataclass
class Count:
    rows: int = 0  # distinct rows sent
    created: int = 0

    @property
    def existing(self) -> int:
        """Rows that matched something already in the graph (updated in place, or unchanged)."""
        return self.rows - self.created


@dataclass
class IngestSummary:
    nodes: dict[str, Count] = field(default_factory=dict)
    relationships: dict[str, Count] = field(default_factory=dict)
    rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    seconds: float = 0.0

    def count(self, target: _Target) -> Count:
        table = self.nodes if target.is_node else self.relationships
        return table.setdefault(str(target.name), Count())

    @property
    def relationships_created(self) -> int:
        return sum(c.created for c in self.relationships.values())

    def as_dict(self) -> dict[str, Any]:
        def table(counts: dict[str, Count]) -> dict[str, dict[str, int]]:
            return {
                k: {"rows": c.rows, "created": c.created, "existing": c.existing}
                for k, c in sorted(counts.items())
            }

        return {
            "nodes": table(self.nodes),
            "relationships": table(self.relationships),
            "rows_read": self.rows_read,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
        }

    def format_table(self) -> str:
        lines = [f"{'':<16}{'':>14}{'rows':>12}{'created':>12}{'existing':>12}"]
        for title, counts in (("nodes", self.nodes), ("relationships", self.relationships)):
            for name, c in sorted(counts.items()):
                lines.append(f"{title:<16}{name:>14}{c.rows:>12,}{c.created:>12,}{c.existing:>12,}")
        lines.append(
            f"rows read: {self.rows_read:,}   rejected: {self.rejected:,}   seconds: {self.seconds:.1f}"
        )
        return "\n".join(lines)


def _create_then_refresh(graph: GraphClient, create: str, update: str | None, rows: list) -> int:
    """Run ``create`` (creates what is missing), then ``update`` if some rows already existed.

    Returns the number of nodes or relationships created.
    """
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
        self._buffers: dict[type, dict[Hashable, dict[str, Any]]] = {kind: {} for kind in _TARGETS}
        self._duplicate_rows: list[dict[str, Any]] = []
        # user id -> {(item id, kind): (weight, rating, ts, split)} for every user seen so far.
        self._known: dict[str, dict[tuple[str, str], tuple]] = {}
        self._graph_has_interactions: bool | None = None

    def add(self, row: Row) -> None:
        self.summary.rows_read += 1
        if isinstance(row, Reject):
            self.summary.rejected += 1
            if len(self.summary.rejects) < KEPT_REJECTS:
                self.summary.rejects.append(row)
            return
        kind = type(row)
        target = _TARGETS[kind]
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
        for kind, target in _TARGETS.items():
            if target.is_node:
                self._flush(kind)

    def _flush(self, kind: type) -> None:
        buffer = self._buffers[kind]
        if not buffer:
            return
        target = _TARGETS[kind]
        if kind is InteractionRow:
            self._flush_interactions(buffer)
            return
        rows = list(buffer.values())
        buffer.clear()
        self._record(
            target, len(rows), _create_then_refresh(self.graph, target.create, target.update, rows)
        )

    def _record(self, target: _Target, rows: int, created: int) -> None:
        """Count a written batch in the summary and report progress."""
        count = self.summary.count(target)
        count.rows += rows
        count.created += created
        if self.on_rows is not None:
            self.on_rows(rows)

    def _flush_interactions(self, buffer: dict[Hashable, dict[str, Any]]) -> None:
        """Create the new ``(user, item, kind)`` keys, refresh changed ones, skip the rest."""
        batch = dict(buffer)
        buffer.clear()
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
        target = _TARGETS[InteractionRow]
        counters = self.graph.write(target.create, rows=new) if new else {}
        if changed:
            self.graph.write(target.update, rows=changed)
        self._record(target, len(batch), counters.get("relationships_created", 0))

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
        target = _TARGETS[InteractionRow]
        counters = self.graph.write(target.create, rows=rows)
        self._record(target, len(rows), counters.get("relationships_created", 0))

    def close(self) -> IngestSummary:
        """Write everything still buffered (nodes first) and return the summary."""
        self._flush_nodes()
        self._flush_duplicates()
        for kind, target in _TARGETS.items():
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


def derive_co_engagement(
    graph: GraphClient,
    *,
    min_shared: int = 3,
    top_k: int = 20,
    batch_size: int = 2 * DEFAULT_BATCH_SIZE,
) -> Count:
    """Compute ``CO_ENGAGED`` links from the graph's interactions and write them (idempotent).

    See :mod:`graphrec.ingest.co_engagement` for the weight and why it is computed in Python.
    """
    import numpy as np

    from graphrec.graph.interactions import read_interactions
    from graphrec.ingest.co_engagement import co_engagement

    table = read_interactions(graph)
    count = Count()
    if len(table) == 0:
        return count
    users, user_index = np.unique(table.user_ids, return_inverse=True)
    items, item_index = np.unique(table.item_ids, return_inverse=True)
    links = co_engagement(
        user_index,
        item_index,
        num_users=len(users),
        num_items=len(items),
        min_shared=min_shared,
        top_k=top_k,
    )
    rows = [
        {"source_id": items[s], "target_id": items[t], "weight": float(w), "shared": int(n)}
        for s, t, w, n in zip(links.source, links.target, links.weight, links.shared, strict=True)
    ]
    for chunk in batched(rows, batch_size):
        count.rows += len(chunk)
        count.created += _create_then_refresh(
            graph, "ingest/create_missing_co_engaged", "ingest/update_co_engaged", chunk
        )
    return count
