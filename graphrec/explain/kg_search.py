"""Knowledge-graph paths with a bounded cost: a breadth-first search from the item's side.

A knowledge-graph path runs you ─INTERACTED→ *anchor* ─HAS_CONCEPT→ c₁ ─RELATED─ … ─RELATED─
c₂ ←HAS_CONCEPT─ *item*. A single Cypher pattern ``(c1)-[:RELATED*1..4]-(c2)`` expanded
from every concept of every item the user has, and only then filtered by length: through
hub entities (a country, a language or a genre linked to thousands of films) that is
combinatorial, and on a Freebase-style KG it did not finish in ten minutes.

This search starts from the other end and stays small:

1. the user's anchor concepts (one query, linear in the user's interactions);
2. the recommended item's concepts (a handful);
3. up to ``max_hops`` breadth-first steps over RELATED from the item's side, one query
   each (``cypher/explain/kg_neighbours.cypher``). A concept with more than
   ``max_degree`` neighbours is a hub: it may end a path but is never expanded
   through (on Neo4j its degree is read first, so a hub's neighbours are not read at
   all: ``kg_neighbours_degree_first.cypher``); each concept contributes at most
   ``fanout`` neighbours and each step's frontier holds at most ``max_frontier`` concepts. The search stops at the first
   step that reaches one of the user's concepts (shortest paths first) or when it
   has ``limit`` paths.

So one search takes at most ``max_hops + 2`` queries and carries at most
``max_frontier x fanout`` neighbours per step into Python, whatever the graph;
each frontier concept's RELATED edges are read once on the server to tell a hub (on
Neo4j only its degree), and each query gets what is left of the deadline as its
transaction timeout. The rows it returns have the shape the path builder
(:mod:`graphrec.explain.sentences`) takes for the ``knowledge_graph`` kind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from graphrec.graph.capabilities import probe
from graphrec.graph.client import GraphClient


@dataclass(frozen=True)
class KGSearchLimits:
    """The bounds of one search (see the module docstring)."""

    max_degree: int = 200
    fanout: int = 50
    max_frontier: int = 200


DEFAULT_KG_LIMITS = KGSearchLimits()


class KGSearchTimeout(TimeoutError):
    """The deadline passed between two steps of the search."""


def neighbours_form(graph: GraphClient) -> str:
    """The breadth-first step's statement on this engine: the same concepts and neighbours
    either way; where the engine reads a degree without expanding, hubs are told apart
    before any expansion."""
    if probe(graph).degree_count:
        return "explain/kg_neighbours_degree_first"
    return "explain/kg_neighbours"


def kg_paths(
    graph: GraphClient,
    user_id: str,
    item_id: str,
    *,
    max_hops: int = 3,
    limit: int = 25,
    limits: KGSearchLimits = DEFAULT_KG_LIMITS,
    deadline: float | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` shortest knowledge-graph paths from ``user_id``'s items to ``item_id``.

    ``deadline`` is a :func:`time.monotonic` instant: each query is sent with the
    time left as its transaction timeout, and :class:`KGSearchTimeout` is raised
    when none is left before a step.
    """

    def left() -> float | None:
        if deadline is None:
            return None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise KGSearchTimeout("the knowledge-graph path search ran out of time")
        return remaining

    user_rows = graph.read("explain/kg_user_concepts", timeout_=left(), user=user_id, item=item_id)
    anchors: dict[str, list[dict[str, Any]]] = {}
    for row in user_rows:
        anchors.setdefault(row["concept_id"], []).append(row)
    if not anchors:
        return []
    starts = graph.read(
        "explain/kg_item_concepts", timeout_=left(), item=item_id, limit=limits.max_frontier
    )
    # parent[c] = (the concept one step nearer the item, the relation between them); the
    # item's own concepts have parent None and carry the HAS_CONCEPT relation instead.
    parent: dict[str, tuple[str, str | None] | None] = {}
    info: dict[str, dict[str, Any]] = {}
    item_relation: dict[str, str | None] = {}
    for row in starts:
        parent[row["id"]] = None
        info[row["id"]] = {"id": row["id"], "name": row["name"], "kind": row["kind"]}
        item_relation[row["id"]] = row["relation"]
    frontier = sorted(parent)
    found: list[str] = []
    neighbours_statement = neighbours_form(graph)
    for _ in range(max_hops):
        if not frontier:
            break
        step = graph.read(
            neighbours_statement,
            timeout_=left(),
            ids=frontier,
            max_degree=limits.max_degree,
            fanout=limits.fanout,
        )
        next_frontier: list[str] = []
        for row in sorted(step, key=lambda r: r["id"]):
            for neighbour in sorted(row["neighbours"], key=lambda n: n["id"]):
                concept = neighbour["id"]
                if concept in parent:
                    continue
                parent[concept] = (row["id"], neighbour["relation"])
                info[concept] = {k: neighbour[k] for k in ("id", "name", "kind")}
                if concept in anchors:
                    found.append(concept)
                if len(next_frontier) < limits.max_frontier:
                    next_frontier.append(concept)
        if found:
            break
        frontier = next_frontier
    rows: list[dict[str, Any]] = []
    for concept in found:
        chain, hops = [concept], []
        while (link := parent[chain[-1]]) is not None:
            chain.append(link[0])
            hops.append(link[1])
        for anchor in anchors[concept]:
            rows.append(
                {
                    "anchor_id": anchor["anchor_id"],
                    "anchor_title": anchor["anchor_title"],
                    "kind": anchor["kind"],
                    "weight": anchor["weight"],
                    "ts": anchor["ts"],
                    "relation": anchor["relation"],
                    "relation2": item_relation[chain[-1]],
                    "concepts": [info[c] for c in chain],
                    "hops": hops,
                }
            )
            if len(rows) == limit:
                return rows
    return rows
