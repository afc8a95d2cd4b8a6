"""Export a subgraph from the graph database to PyTorch Geometric.

:func:`export_graph` reads the graph in pages and returns a
:class:`~torch_geometric.data.HeteroData` plus an :class:`IdMap` from business
ids to contiguous indices per node type. The layout (what the models expect):

- node types ``user``, ``item``, ``concept`` (``num_nodes`` set on each;
  ``data["concept"].kind`` indexes ``data.concept_kinds``);
- ``("user", "interacted", "item")``: ``edge_index``, ``weight``, ``ts`` (0 when
  unknown), ``split`` (0 unspecified, 1 train, 2 test: the source's own split);
- ``("item", "has_concept", "concept")``: ``edge_index``, ``relation`` (indexes
  ``data.relation_names``), ``weight``;
- ``("concept", "related", "concept")``: ``edge_index``, ``relation``;
- ``("concept", "subconcept_of", "concept")``: ``edge_index``;
- ``("item", "co_engaged", "item")``: ``edge_index``, ``weight``.

Each page is one query returning one row per anchor node with parallel lists:
over Bolt the per-record cost dominates, so this exports several times faster
than one record per edge (bench/RESULTS.md).

:func:`export_triples` gives labelled ``(head, relation, tail)`` triples for PyKEEN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import HeteroData
from tqdm import tqdm

from graphrec.graph.client import GraphClient

SPLIT_CODES = {"train": 1, "test": 2}

#: Relation name of interactions when they are exported as KG triples.
INTERACTED_RELATION = "interacted"
#: Relation name of concept hierarchy triples.
SUBCONCEPT_RELATION = "subconcept_of"


@dataclass(frozen=True)
class ExportFilters:
    """What part of the graph to export.

    Args:
        kinds: interaction kinds to keep, e.g. ``["rating"]`` (default: all).
        ts_from: keep interactions at or after this time, in seconds (default: open).
        ts_to: keep interactions before this time (default: open).
        min_user_degree: k-core: users need at least this many interactions (default: 1).
        min_item_degree: k-core: items need at least this many interactions; 0 keeps
            catalog items without interactions, for cold start (default: 0).
        relations: ``HAS_CONCEPT`` relations to keep, e.g. ``["has_genre"]`` (default: all).
        concept_kinds: concept kinds to keep, e.g. ``["genre", "tag"]`` (default: all).
        include_related: export ``RELATED`` KG edges between concepts (default: True).
        include_subconcepts: export ``SUBCONCEPT_OF`` edges (default: True).
        include_co_engaged: export ``CO_ENGAGED`` item links (default: True).
        seed_users: restrict to the k-hop neighbourhood of these users (default: none).
        seed_items: ... and/or of these items (default: none).
        hops: neighbourhood size in user-item hops, when seeds are given (default: 2).
    """

    kinds: Sequence[str] | None = None
    ts_from: int | None = None
    ts_to: int | None = None
    min_user_degree: int = 1
    min_item_degree: int = 0
    relations: Sequence[str] | None = None
    concept_kinds: Sequence[str] | None = None
    include_related: bool = True
    include_subconcepts: bool = True
    include_co_engaged: bool = True
    seed_users: Sequence[str] | None = None
    seed_items: Sequence[str] | None = None
    hops: int = 2

    def __post_init__(self) -> None:
        if self.min_user_degree < 0 or self.min_item_degree < 0:
            raise ValueError("min_user_degree and min_item_degree must be >= 0")
        if self.hops < 1:
            raise ValueError(f"hops must be at least 1, got {self.hops}")


@dataclass
class IdMap:
    """Business ids per node type, in index order (``users[i]`` is user index ``i``)."""

    users: list[str]
    items: list[str]
    concepts: list[str] = field(default_factory=list)
    item_titles: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index: dict[str, dict[str, int]] = {}

    def index(self, node_type: str, business_id: str) -> int:
        """The index of ``business_id`` among ``node_type`` (``"user"``, ``"item"``, ``"concept"``)."""
        lookup = self._index.get(node_type)
        if lookup is None:
            ids = {"user": self.users, "item": self.items, "concept": self.concepts}[node_type]
            lookup = self._index[node_type] = {value: i for i, value in enumerate(ids)}
        return lookup[business_id]

    def save(self, path: str | Path) -> None:
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        Path(path).write_text(json.dumps(data, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> IdMap:
        return cls(**json.loads(Path(path).read_text()))


@dataclass
class InteractionTable:
    """Interactions as parallel arrays of business ids and values."""

    user_ids: np.ndarray  # object [E]
    item_ids: np.ndarray  # object [E]
    weight: np.ndarray  # float32 [E]
    ts: np.ndarray  # int64 [E]
    split: np.ndarray  # int8 [E], SPLIT_CODES

    def __len__(self) -> int:
        return int(self.user_ids.shape[0])

    def select(self, mask: np.ndarray) -> InteractionTable:
        """The rows where ``mask`` is true."""
        return InteractionTable(
            self.user_ids[mask],
            self.item_ids[mask],
            self.weight[mask],
            self.ts[mask],
            self.split[mask],
        )


# -- paging ---------------------------------------------------------------------------------------
def _chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _user_ids(graph: GraphClient, page_size: int) -> list[str]:
    return [
        row["id"]
        for page in graph.pages("export/user_ids_page", page_size=page_size)
        for row in page
    ]


def export_interactions(
    graph: GraphClient,
    filters: ExportFilters = ExportFilters(),
    *,
    user_ids: Sequence[str] | None = None,
    page_size: int = 1_000,
    progress: bool = False,
) -> InteractionTable:
    """All interactions passing ``filters`` (of ``user_ids`` only, when given)."""
    if user_ids is None:
        user_ids = _user_ids(graph, page_size * 10)
    users: list[str] = []
    items: list[str] = []
    weights: list[float] = []
    stamps: list[int] = []
    splits: list[str] = []
    params = {
        "kinds": list(filters.kinds) if filters.kinds is not None else None,
        "ts_from": filters.ts_from,
        "ts_to": filters.ts_to,
    }
    with tqdm(
        total=len(user_ids), desc="export interactions", unit=" users", disable=not progress
    ) as bar:
        for chunk in _chunks(user_ids, page_size):
            for row in graph.read("export/interactions_of_users", ids=chunk, **params):
                n = len(row["items"])
                users.extend([row["user_id"]] * n)
                items.extend(row["items"])
                weights.extend(row["weights"])
                stamps.extend(row["ts"])
                splits.extend(row["splits"])
            bar.update(len(chunk))
    split_codes = np.fromiter(
        (SPLIT_CODES.get(s, 0) for s in splits), dtype=np.int8, count=len(splits)
    )
    return InteractionTable(
        user_ids=np.asarray(users, dtype=object),
        item_ids=np.asarray(items, dtype=object),
        weight=np.asarray(weights, dtype=np.float32),
        ts=np.asarray([int(t) for t in stamps], dtype=np.int64),
        split=split_codes,
    )


# -- pure helpers -----------------------------------------------------------------------------------
def k_core(user: np.ndarray, item: np.ndarray, min_user: int, min_item: int) -> np.ndarray:
    """Mask of interactions kept by iterated k-core filtering.

    Repeatedly drops interactions of users with fewer than ``min_user`` and of
    items with fewer than ``min_item`` interactions until both hold everywhere.
    ``user`` and ``item`` are integer index arrays.
    """
    keep = np.ones(user.shape[0], dtype=bool)
    if min_user <= 1 and min_item <= 1:
        return keep
    while True:
        user_deg = np.bincount(user[keep], minlength=int(user.max(initial=-1)) + 1)
        item_deg = np.bincount(item[keep], minlength=int(item.max(initial=-1)) + 1)
        bad = keep & ((user_deg[user] < min_user) | (item_deg[item] < min_item))
        if not bad.any():
            return keep
        keep &= ~bad


def neighbourhood(
    graph: GraphClient,
    seed_users: Sequence[str],
    seed_items: Sequence[str],
    hops: int,
    *,
    page_size: int = 1_000,
) -> tuple[set[str], set[str]]:
    """Users and items within ``hops`` user-item hops of the seeds (a seed itself is hop 0)."""
    users, items = set(seed_users), set(seed_items)
    frontier_users, frontier_items = set(seed_users), set(seed_items)
    for _ in range(hops):
        new_items: set[str] = set()
        for chunk in _chunks(sorted(frontier_users), page_size):
            new_items.update(row["id"] for row in graph.read("export/items_of_users", ids=chunk))
        new_users: set[str] = set()
        for chunk in _chunks(sorted(frontier_items), page_size):
            new_users.update(row["id"] for row in graph.read("export/users_of_items", ids=chunk))
        frontier_items = new_items - items
        frontier_users = new_users - users
        items |= new_items
        users |= new_users
        if not frontier_items and not frontier_users:
            break
    return users, items


def _encode(ids: np.ndarray, vocabulary: list[str]) -> np.ndarray:
    lookup = {value: i for i, value in enumerate(vocabulary)}
    return np.fromiter((lookup[v] for v in ids), dtype=np.int64, count=len(ids))


# -- the whole subgraph -----------------------------------------------------------------------------
def export_graph(
    graph: GraphClient,
    filters: ExportFilters = ExportFilters(),
    *,
    page_size: int = 1_000,
    progress: bool = True,
) -> tuple[HeteroData, IdMap]:
    """Export the subgraph selected by ``filters`` as ``HeteroData`` plus its :class:`IdMap`."""
    seeded = filters.seed_users is not None or filters.seed_items is not None
    if seeded:
        hood_users, hood_items = neighbourhood(
            graph,
            filters.seed_users or [],
            filters.seed_items or [],
            filters.hops,
            page_size=page_size,
        )
        table = export_interactions(
            graph, filters, user_ids=sorted(hood_users), page_size=page_size, progress=progress
        )
        table = table.select(np.isin(table.item_ids, np.asarray(sorted(hood_items), dtype=object)))
    else:
        table = export_interactions(graph, filters, page_size=page_size, progress=progress)

    catalog = [
        (row["id"], row["title"])
        for page in graph.pages("export/item_ids_page", page_size=page_size * 10)
        for row in page
    ]
    if seeded:
        catalog = [(i, t) for i, t in catalog if i in hood_items]

    # Users and items in id order; k-core on interactions; items without interactions stay
    # only when min_item_degree is 0.
    user_vocab = sorted(set(table.user_ids.tolist()))
    item_vocab = [i for i, _ in catalog]
    keep = np.isin(table.item_ids, np.asarray(item_vocab, dtype=object))
    table = table.select(keep)
    user = _encode(table.user_ids, user_vocab)
    item = _encode(table.item_ids, item_vocab)
    table = table.select(k_core(user, item, filters.min_user_degree, filters.min_item_degree))
    user_vocab = sorted(set(table.user_ids.tolist()))
    if filters.min_item_degree > 0:
        interacted = set(table.item_ids.tolist())
        catalog = [(i, t) for i, t in catalog if i in interacted]
    item_vocab = [i for i, _ in catalog]

    data = HeteroData()
    data["user"].num_nodes = len(user_vocab)
    data["item"].num_nodes = len(item_vocab)
    edge = data["user", "interacted", "item"]
    edge.edge_index = torch.from_numpy(
        np.stack([_encode(table.user_ids, user_vocab), _encode(table.item_ids, item_vocab)])
    )
    edge.weight = torch.from_numpy(table.weight)
    edge.ts = torch.from_numpy(table.ts)
    edge.split = torch.from_numpy(table.split.astype(np.int64))

    concept_vocab = _export_knowledge(graph, data, item_vocab, filters, page_size)
    id_map = IdMap(
        users=user_vocab,
        items=item_vocab,
        concepts=concept_vocab,
        item_titles=[t for _, t in catalog],
    )
    return data, id_map


def _export_knowledge(
    graph: GraphClient,
    data: HeteroData,
    item_vocab: list[str],
    filters: ExportFilters,
    page_size: int,
) -> list[str]:
    """Concept nodes and the item-concept, concept-concept and item-item edges."""
    kinds_filter = set(filters.concept_kinds) if filters.concept_kinds is not None else None
    concepts = [
        row
        for page in graph.pages("export/concepts_page", page_size=page_size * 10)
        for row in page
        if kinds_filter is None or row["kind"] in kinds_filter
    ]
    concept_vocab = [row["id"] for row in concepts]
    concept_index = {c: i for i, c in enumerate(concept_vocab)}
    item_index = {c: i for i, c in enumerate(item_vocab)}
    kinds = sorted({row["kind"] for row in concepts})
    kind_index = {k: i for i, k in enumerate(kinds)}
    data["concept"].num_nodes = len(concept_vocab)
    data["concept"].kind = torch.tensor(
        [kind_index[row["kind"]] for row in concepts], dtype=torch.long
    )
    data.concept_kinds = kinds

    relation_names: dict[str, int] = {}

    def relation_id(name: str) -> int:
        return relation_names.setdefault(name, len(relation_names))

    src, dst, rel, weight = [], [], [], []
    for chunk in _chunks(item_vocab, page_size):
        rows = graph.read(
            "export/concepts_of_items",
            ids=chunk,
            relations=list(filters.relations) if filters.relations is not None else None,
            kinds=list(filters.concept_kinds) if filters.concept_kinds is not None else None,
        )
        for row in rows:
            i = item_index[row["item_id"]]
            for c, r, w in zip(row["concepts"], row["relations"], row["weights"], strict=True):
                if c in concept_index:
                    src.append(i)
                    dst.append(concept_index[c])
                    rel.append(relation_id(r))
                    weight.append(w)
    has = data["item", "has_concept", "concept"]
    has.edge_index = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)
    has.relation = torch.tensor(rel, dtype=torch.long)
    has.weight = torch.tensor(weight, dtype=torch.float32)

    if filters.include_related:
        heads, tails, rels = [], [], []
        for chunk in _chunks(concept_vocab, page_size):
            for row in graph.read("export/related_of_concepts", ids=chunk):
                for t, r in zip(row["tails"], row["relations"], strict=True):
                    if t in concept_index:
                        heads.append(concept_index[row["head_id"]])
                        tails.append(concept_index[t])
                        rels.append(relation_id(r))
        related = data["concept", "related", "concept"]
        related.edge_index = torch.tensor([heads, tails], dtype=torch.long).reshape(2, -1)
        related.relation = torch.tensor(rels, dtype=torch.long)

    if filters.include_subconcepts:
        children, parents = [], []
        for chunk in _chunks(concept_vocab, page_size):
            for row in graph.read("export/parents_of_concepts", ids=chunk):
                for p in row["parents"]:
                    if p in concept_index:
                        children.append(concept_index[row["child_id"]])
                        parents.append(concept_index[p])
        data["concept", "subconcept_of", "concept"].edge_index = torch.tensor(
            [children, parents], dtype=torch.long
        ).reshape(2, -1)

    if filters.include_co_engaged:
        a, b, w = [], [], []
        for chunk in _chunks(item_vocab, page_size):
            for row in graph.read("export/co_engaged_of_items", ids=chunk):
                for t, weight_ in zip(row["targets"], row["weights"], strict=True):
                    if t in item_index:
                        a.append(item_index[row["source_id"]])
                        b.append(item_index[t])
                        w.append(weight_)
        co = data["item", "co_engaged", "item"]
        co.edge_index = torch.tensor([a, b], dtype=torch.long).reshape(2, -1)
        co.weight = torch.tensor(w, dtype=torch.float32)

    data.relation_names = list(relation_names)
    return concept_vocab


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


# -- files ------------------------------------------------------------------------------------------
def save_export(folder: str | Path, data: HeteroData, id_map: IdMap) -> Path:
    """Save tensors (``graph.pt``) and the id map (``ids.json``) side by side."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(data, folder / "graph.pt")
    id_map.save(folder / "ids.json")
    return folder


def load_export(folder: str | Path) -> tuple[HeteroData, IdMap]:
    folder = Path(folder)
    data = torch.load(folder / "graph.pt", weights_only=False)
    return data, IdMap.load(folder / "ids.json")


def load_training_data(
    settings: Any, filters: ExportFilters | None = None, **kwargs: Any
) -> tuple[HeteroData, IdMap]:
    """Connect with ``settings`` and export the training subgraph (``kwargs`` as :class:`ExportFilters`)."""
    from graphrec.graph.connect import connect

    filters = filters or ExportFilters(**kwargs)
    with connect(settings) as graph:
        return export_graph(graph, filters)
