"""Labelled ``(head, relation, tail)`` triples from the graph, for PyKEEN.

Item-concept triples come from ``HAS_CONCEPT`` (named by its ``relation``:
``has_genre``, ``has_tag``, ...), concept-concept ones from ``RELATED`` (named
by its ``relation``) and ``SUBCONCEPT_OF`` (``subconcept_of``); optionally each
distinct user-item interaction is an ``interacted`` triple. Entity labels are
business ids: items and concepts as they are (``"1"``, ``"genre:comedy"``),
users as ``"user:<id>"``, because user and item ids often coincide (in MovieLens
both count from 1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from graphrec.kge.errors import KGEError
from graphrec.schema import NodeLabel

if TYPE_CHECKING:
    from pykeen.triples import CoreTriplesFactory
    from torch_geometric.data import HeteroData

    from graphrec.export import IdMap
    from graphrec.graph.client import GraphClient

#: Relation name of user-item interactions as triples (as in :mod:`graphrec.export`).
INTERACTED_RELATION = "interacted"
#: Relation name of concept hierarchy triples.
SUBCONCEPT_RELATION = "subconcept_of"
#: Prefix of user entity labels.
USER_PREFIX = "user:"


@dataclass(frozen=True)
class LabelledTriples:
    """``(head, relation, tail)`` string triples plus what each entity label is in the graph.

    Attributes:
        triples: Labels, shape ``(n, 3)``, dtype ``str``.
        entities: Entity label to ``(node label, business id)``, e.g.
            ``"user:7" -> ("User", "7")``. Labels missing here are not written back.
    """

    triples: np.ndarray
    entities: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.triples.ndim != 2 or self.triples.shape[1] != 3:
            raise KGEError(f"triples must have shape (n, 3), got {tuple(self.triples.shape)}")

    def __len__(self) -> int:
        return int(self.triples.shape[0])

    @classmethod
    def from_tuples(
        cls,
        triples: Iterable[tuple[str, str, str]],
        entities: Mapping[str, tuple[str, str]] | None = None,
    ) -> LabelledTriples:
        rows = [tuple(map(str, t)) for t in triples]
        array = np.asarray(rows, dtype=str).reshape(len(rows), 3)
        return cls(array, dict(entities or {}))

    def relation_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.triples[:, 1].tolist()).items()))


def kg_triples(
    data: HeteroData,
    ids: IdMap,
    *,
    include_interactions: bool = False,
    relations: Sequence[str] | None = None,
) -> LabelledTriples:
    """Labelled triples from the export's ``HeteroData`` (see :func:`graphrec.export.export_graph`).

    Args:
        data: The exported graph.
        ids: Its id map.
        include_interactions: Add each distinct user-item pair as
            ``("user:<id>", "interacted", item)`` (default: False).
        relations: Keep only these relation names (default: all).

    Raises:
        KGEError: ``relations`` names a relation the graph does not have, or an
            item and a concept share a business id.
    """
    names = list(getattr(data, "relation_names", []) or [])
    entities: dict[str, tuple[str, str]] = {}
    rows: list[tuple[str, str, str]] = []

    def edges(edge_type: tuple[str, str, str]) -> tuple[list[list[int]], list[int] | None]:
        if edge_type not in data.edge_types:
            return [], None
        store = data[edge_type]
        pairs = store.edge_index.t().tolist()
        return pairs, store.relation.tolist() if "relation" in store else None

    pairs, rel = edges(("item", "has_concept", "concept"))
    for (i, c), r in zip(pairs, rel or [None] * len(pairs), strict=True):
        rows.append((ids.items[i], "has_concept" if r is None else names[r], ids.concepts[c]))
    pairs, rel = edges(("concept", "related", "concept"))
    for (h, t), r in zip(pairs, rel or [None] * len(pairs), strict=True):
        rows.append((ids.concepts[h], "related" if r is None else names[r], ids.concepts[t]))
    pairs, _ = edges(("concept", "subconcept_of", "concept"))
    rows.extend((ids.concepts[c], SUBCONCEPT_RELATION, ids.concepts[p]) for c, p in pairs)
    for concept in ids.concepts:
        entities[concept] = (NodeLabel.CONCEPT.value, concept)
    for item in ids.items:
        if item in entities:
            raise KGEError(
                f"item id {item!r} is also a concept id; KGE entity labels are business ids "
                "and must be unique across items and concepts"
            )
        entities[item] = (NodeLabel.ITEM.value, item)
    if include_interactions:
        pairs, _ = edges(("user", "interacted", "item"))
        for u, i in sorted({(u, i) for u, i in pairs}):
            rows.append((USER_PREFIX + ids.users[u], INTERACTED_RELATION, ids.items[i]))
        for user in ids.users:
            entities[USER_PREFIX + user] = (NodeLabel.USER.value, user)
    if relations is not None:
        present = {r for _, r, _ in rows}
        unknown = sorted(set(relations) - present)
        if unknown:
            raise KGEError(
                f"unknown relation(s) {', '.join(unknown)}; the graph has: "
                f"{', '.join(sorted(present)) or 'none'}"
            )
        wanted = set(relations)
        rows = [t for t in rows if t[1] in wanted]
    used = {t[0] for t in rows} | {t[2] for t in rows}
    return LabelledTriples.from_tuples(rows, {k: v for k, v in entities.items() if k in used})


def export_kg(
    graph: GraphClient,
    *,
    include_interactions: bool = False,
    relations: Sequence[str] | None = None,
    progress: bool = True,
) -> LabelledTriples:
    """Export the graph (without ``CO_ENGAGED``, which interactions derive) and make triples."""
    from graphrec.export import ExportFilters, export_graph

    data, ids = export_graph(graph, ExportFilters(include_co_engaged=False), progress=progress)
    return kg_triples(data, ids, include_interactions=include_interactions, relations=relations)


def labelled_array(
    factory: CoreTriplesFactory, labels_from: CoreTriplesFactory | None = None
) -> np.ndarray:
    """A factory's triples as labels, shape ``(n, 3)`` (``labels_from`` gives the id-to-label
    maps when ``factory`` has none, e.g. a split)."""
    source = labels_from or factory
    entity = np.asarray([source.entity_id_to_label[i] for i in range(source.num_entities)])
    relation = np.asarray([source.relation_id_to_label[i] for i in range(source.num_relations)])
    mapped = factory.mapped_triples.numpy()
    return np.stack([entity[mapped[:, 0]], relation[mapped[:, 1]], entity[mapped[:, 2]]], axis=1)
