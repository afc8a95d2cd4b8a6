"""The streaming export: pages of the graph turned into index columns in a sink.

- ``("item", "co_engaged", "item")``: ``edge_index``, ``weight``.

Each page is one query returning one row per anchor node with parallel lists:
over Bolt the per-record cost dominates, so this exports several times faster
than one record per edge (bench/RESULTS.md).

The export streams. Each page's business ids become dense indices at once (the
id maps, one entry per node, are the only state that grows with the graph), and
its edges are appended as typed columns to a sink: numpy chunks in memory for
:func:`export_graph`, raw files for :func:`export_to_disk`. Exported to disk, no
edge is ever held as a Python object, nor all of them at once, except the k-core
filter's index arrays when ``min_user_degree`` or ``min_item_degree`` exceeds 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from tqdm import tqdm

from graphrec.export.filters import ExportFilters, interaction_params, k_core, neighbourhood
from graphrec.export.idmap import IdMap
from graphrec.export.sinks import MemorySink
from graphrec.export.store import COLUMN_DTYPES, EDGE_STORES, Layout, PageCallback
from graphrec.graph.client import GraphClient, batched
from graphrec.graph.interactions import SPLIT_CODES


@dataclass(frozen=True)
class _EdgeQuery:
    """A statement returning one row per anchor node: its id and parallel lists per target."""

    store: str
    statement: str
    anchor: str  # the row's column with the anchor's business id
    targets: str  # ... with the targets' business ids
    attributes: dict[str, str]  # edge attribute -> the row's column with one value per target


_KNOWLEDGE = (
    _EdgeQuery(
        "has_concept",
        "export/concepts_of_items",
        "item_id",
        "concepts",
        {"relation": "relations", "weight": "weights"},
    ),
    _EdgeQuery(
        "related", "export/related_of_concepts", "head_id", "tails", {"relation": "relations"}
    ),
    _EdgeQuery("subconcept_of", "export/parents_of_concepts", "child_id", "parents", {}),
    _EdgeQuery(
        "co_engaged", "export/co_engaged_of_items", "source_id", "targets", {"weight": "weights"}
    ),
)


def _flat(rows: list[dict[str, Any]], column: str) -> Iterator[Any]:
    return chain.from_iterable(row[column] for row in rows)


def stream(
    graph: GraphClient,
    filters: ExportFilters,
    sink: MemorySink,
    *,
    page_size: int,
    progress: bool,
    on_page: PageCallback | None,
) -> Layout:
    """Export the subgraph selected by ``filters`` into ``sink``; return its layout."""
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    hood_users: set[str] | None = None
    hood_items: set[str] | None = None
    if filters.seed_users is not None or filters.seed_items is not None:
        hood_users, hood_items = neighbourhood(
            graph,
            filters.seed_users or [],
            filters.seed_items or [],
            filters.hops,
            page_size=page_size,
        )
    catalog = [
        (row["id"], row["title"])
        for page in graph.pages("export/item_ids_page", page_size=page_size * 10)
        for row in page
        if hood_items is None or row["id"] in hood_items
    ]
    item_index = {item: i for i, (item, _) in enumerate(catalog)}
    if hood_users is not None:
        user_chunks: Iterable[list[str]] = batched(sorted(hood_users), page_size)
        total: int | None = len(hood_users)
    else:
        user_chunks = (
            chunk
            for page in graph.pages("export/user_ids_page", page_size=page_size * 10)
            for chunk in batched([row["id"] for row in page], page_size)
        )
        total = graph.read("export/count_users")[0]["n"] if progress else None
    with tqdm(total=total, desc="export interactions", unit=" users", disable=not progress) as bar:
        users = _stream_interactions(graph, filters, sink, item_index, user_chunks, bar, on_page)
    user_vocab, catalog = _prune_interactions(sink, users, catalog, filters)
    del item_index
    item_vocab = [item for item, _ in catalog]
    concept_vocab, concept_kinds, relation_names, stores = _stream_knowledge(
        graph, sink, item_vocab, filters, page_size=page_size, progress=progress, on_page=on_page
    )
    id_map = IdMap(
        users=user_vocab,
        items=item_vocab,
        concepts=concept_vocab,
        item_titles=[title for _, title in catalog],
    )
    return Layout(id_map, concept_kinds, relation_names, ["interacted", *stores])


def _stream_interactions(
    graph: GraphClient,
    filters: ExportFilters,
    sink: MemorySink,
    item_index: dict[str, int],
    user_chunks: Iterable[list[str]],
    bar: tqdm,
    on_page: PageCallback | None,
) -> list[str]:
    """Append each page of interactions; return the users with any, in index order.

    A user gets the next index when its first kept interaction is seen; rows
    are taken in id order, so indices follow ids (and usually need no renumbering).
    Interactions with items outside ``item_index`` are dropped.
    """
    users: list[str] = []
    params = interaction_params(filters)
    for chunk in user_chunks:
        rows = graph.read("export/interactions_of_users", ids=chunk, **params)
        rows.sort(key=lambda row: row["user_id"])
        counts = np.fromiter((len(row["items"]) for row in rows), np.int64, count=len(rows))
        n = int(counts.sum())
        item = np.fromiter((item_index.get(i, -1) for i in _flat(rows, "items")), np.int64, n)
        row_of_edge = np.repeat(np.arange(len(rows)), counts)
        kept = item >= 0
        has_edges = np.bincount(row_of_edge[kept], minlength=len(rows)) > 0
        user_of_row = np.full(len(rows), -1, np.int64)
        user_of_row[has_edges] = np.arange(len(users), len(users) + int(has_edges.sum()))
        users.extend(row["user_id"] for row, keep in zip(rows, has_edges, strict=True) if keep)
        split = (SPLIT_CODES.get(s, 0) for s in _flat(rows, "splits"))
        page = {
            "src": user_of_row[row_of_edge[kept]],
            "dst": item[kept],
            "weight": np.fromiter(_flat(rows, "weights"), np.float32, n)[kept],
            "ts": np.fromiter(map(int, _flat(rows, "ts")), np.int64, n)[kept],
            "split": np.fromiter(split, np.int64, n)[kept],
        }
        sink.append("interacted", page)
        bar.update(len(chunk))
        if on_page is not None:
            on_page("interacted", len(page["dst"]))
    return users


def _prune_interactions(
    sink: MemorySink,
    users: list[str],
    catalog: list[tuple[str, str | None]],
    filters: ExportFilters,
) -> tuple[list[str], list[tuple[str, str | None]]]:
    """k-core filter the interactions, put users in id order, drop items without
    interactions when ``min_item_degree > 0``; renumber the edges if anything changed.

    Returns the users and the catalog (``(id, title)`` of each item) in index order.
    """
    src, dst = sink.column("interacted", "src"), sink.column("interacted", "dst")
    keep = k_core(src, dst, filters.min_user_degree, filters.min_item_degree)
    everything = bool(keep.all())
    user_kept = (
        np.ones(len(users), bool)
        if everything
        else np.bincount(src[keep], minlength=len(users)) > 0
    )
    order = sorted(np.flatnonzero(user_kept).tolist(), key=users.__getitem__)
    user_remap = np.full(len(users), -1, np.int64)
    user_remap[order] = np.arange(len(order))
    item_remap = np.arange(len(catalog))
    if filters.min_item_degree > 0:
        item_kept = np.bincount(dst[keep], minlength=len(catalog)) > 0
        catalog = [entry for entry, k in zip(catalog, item_kept, strict=True) if k]
        item_remap = np.where(item_kept, np.cumsum(item_kept) - 1, -1)
    del src, dst
    unchanged = (
        everything
        and np.array_equal(user_remap, np.arange(len(users)))
        and np.array_equal(item_remap, np.arange(len(item_remap)))
    )
    if not unchanged:

        def renumber(start: int, chunk: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            mask = keep[start : start + len(chunk["src"])]
            kept = {attr: values[mask] for attr, values in chunk.items()}
            kept["src"] = user_remap[kept["src"]]
            kept["dst"] = item_remap[kept["dst"]]
            return kept

        sink.rewrite("interacted", renumber)
    return [users[j] for j in order], catalog


def _stream_knowledge(
    graph: GraphClient,
    sink: MemorySink,
    item_vocab: list[str],
    filters: ExportFilters,
    *,
    page_size: int,
    progress: bool,
    on_page: PageCallback | None,
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Concept nodes and the item-concept, concept-concept and item-item edges.

    Returns the concept ids, the concept kinds, the relation names and the
    edge stores written, all in index order.
    """
    kinds_filter = set(filters.concept_kinds) if filters.concept_kinds is not None else None
    concepts = [
        (row["id"], row["kind"])
        for page in graph.pages("export/concepts_page", page_size=page_size * 10)
        for row in page
        if kinds_filter is None or row["kind"] in kinds_filter
    ]
    concept_vocab = [concept for concept, _ in concepts]
    kinds = sorted({kind for _, kind in concepts})
    kind_index = {kind: i for i, kind in enumerate(kinds)}
    sink.append("concept", {"kind": np.asarray([kind_index[k] for _, k in concepts], np.int64)})
    del concepts

    vocab = {"item": item_vocab, "concept": concept_vocab}
    index = {node: {key: i for i, key in enumerate(ids)} for node, ids in vocab.items()}
    wanted = {
        "has_concept": True,
        "related": filters.include_related,
        "subconcept_of": filters.include_subconcepts,
        "co_engaged": filters.include_co_engaged,
    }
    params: dict[str, dict[str, Any]] = {
        "has_concept": {
            "relations": list(filters.relations) if filters.relations is not None else None,
            "kinds": list(filters.concept_kinds) if filters.concept_kinds is not None else None,
        }
    }
    relations: dict[str, int] = {}
    stores = []
    for query in _KNOWLEDGE:
        if not wanted[query.store]:
            continue
        source, _, target = EDGE_STORES[query.store][0]
        anchors = vocab[source]
        with tqdm(
            total=len(anchors),
            desc=f"export {query.store}",
            unit=f" {source}s",
            disable=not progress,
        ) as bar:
            for chunk in batched(anchors, page_size):
                rows = graph.read(query.statement, ids=chunk, **params.get(query.store, {}))
                page = _edge_page(query, rows, index[source], index[target], relations)
                sink.append(query.store, page)
                bar.update(len(chunk))
                if on_page is not None:
                    on_page(query.store, len(page["dst"]))
        stores.append(query.store)
    return concept_vocab, kinds, list(relations), stores


def _edge_page(
    query: _EdgeQuery,
    rows: list[dict[str, Any]],
    anchor_index: dict[str, int],
    target_index: dict[str, int],
    relations: dict[str, int],
) -> dict[str, np.ndarray]:
    """One page of ``query``'s rows as columns; targets outside ``target_index`` are dropped.

    Relation names get the next free index when first kept (``relations`` grows).
    """
    counts = np.fromiter((len(row[query.targets]) for row in rows), np.int64, count=len(rows))
    n = int(counts.sum())
    target = np.fromiter(
        (target_index.get(t, -1) for t in _flat(rows, query.targets)), np.int64, count=n
    )
    kept = target >= 0
    anchor = np.fromiter((anchor_index[row[query.anchor]] for row in rows), np.int64, len(rows))
    page = {"src": np.repeat(anchor, counts)[kept], "dst": target[kept]}
    for attr, column in query.attributes.items():
        if attr == "relation":
            page[attr] = np.fromiter(
                (
                    relations.setdefault(name, len(relations))
                    for name, keep in zip(_flat(rows, column), kept, strict=True)
                    if keep
                ),
                np.int64,
            )
        else:
            page[attr] = np.fromiter(_flat(rows, column), COLUMN_DTYPES[attr], n)[kept]
    return page
