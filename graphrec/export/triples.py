"""Labelled ``(head, relation, tail)`` triples of the graph, for PyKEEN."""

from __future__ import annotations

from collections.abc import Sequence

from graphrec.export.filters import ExportFilters
from graphrec.export.subgraph import export_graph
from graphrec.graph.client import GraphClient

#: Relation name of interactions when they are exported as KG triples.
INTERACTED_RELATION = "interacted"
#: Relation name of concept hierarchy triples.
SUBCONCEPT_RELATION = "subconcept_of"


def export_triples(
    graph: GraphClient,
    *,
    include_interactions: bool = False,
    relations: Sequence[str] | None = None,
    page_size: int = 1_000,
) -> list[tuple[str, str, str]]:
    """Labelled ``(head, relation, tail)`` triples for PyKEEN, heads and tails as business ids.

    Item-concept edges carry their ``relation``; ``RELATED`` edges theirs;
    hierarchy edges are ``subconcept_of``; with ``include_interactions``, each
    distinct user-item pair is an ``interacted`` triple. ``relations`` keeps
    only the named relations.
    """
    data, ids = export_graph(
        graph, ExportFilters(include_co_engaged=False), page_size=page_size, progress=False
    )
    names = data.relation_names
    triples: list[tuple[str, str, str]] = []
    has = data["item", "has_concept", "concept"]
    for (i, c), r in zip(has.edge_index.t().tolist(), has.relation.tolist(), strict=True):
        triples.append((ids.items[i], names[r], ids.concepts[c]))
    related = data["concept", "related", "concept"]
    for (h, t), r in zip(related.edge_index.t().tolist(), related.relation.tolist(), strict=True):
        triples.append((ids.concepts[h], names[r], ids.concepts[t]))
    for c, p in data["concept", "subconcept_of", "concept"].edge_index.t().tolist():
        triples.append((ids.concepts[c], SUBCONCEPT_RELATION, ids.concepts[p]))
    if include_interactions:
        pairs = {tuple(p) for p in data["user", "interacted", "item"].edge_index.t().tolist()}
        triples.extend((ids.users[u], INTERACTED_RELATION, ids.items[i]) for u, i in sorted(pairs))
    if relations is not None:
        wanted = set(relations)
        triples = [t for t in triples if t[1] in wanted]
    return triples
