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

The export streams. Each page's business ids become dense indices at once (the
id maps, one entry per node, are the only state that grows with the graph), and
its edges are appended as typed columns to a sink: numpy chunks in memory for
:func:`export_graph`, raw files for :func:`export_to_disk`. Exported to disk, no
edge is ever held as a Python object, nor all of them at once, except the k-core
filter's index arrays when ``min_user_degree`` or ``min_item_degree`` exceeds 1.

An export folder (format version 1), written by :func:`export_to_disk`:

- ``manifest.json``: ``format`` (``"graphrec-export"``), ``version``, the
  filters, node and edge counts, ``concept_kinds``, ``relation_names`` and, for
  each tensor, its file, dtype (numpy notation, little-endian) and shape;
- ``ids.json``: the :class:`IdMap` (as :meth:`IdMap.save` writes it);
- one raw little-endian array per tensor, no header: ``<edge>.edge_index.bin``
  (int64, shape ``[2, E]``: sources, then targets), ``<edge>.<attr>.bin``, and
  ``concept.kind.bin``. Dtypes are those of the tensors, so :func:`load_export`
  memory-maps every file and copies nothing.

It is written into a hidden sibling folder that is renamed into place at the
end: an interrupted export leaves no folder that looks complete.

:func:`export_triples` gives labelled ``(head, relation, tail)`` triples for PyKEEN.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import HeteroData
from tqdm import tqdm

from graphrec.data import GraphSize
from graphrec.graph.client import GraphClient

SPLIT_CODES = {"train": 1, "test": 2}

#: Relation name of interactions when they are exported as KG triples.
INTERACTED_RELATION = "interacted"
#: Relation name of concept hierarchy triples.
SUBCONCEPT_RELATION = "subconcept_of"

#: ``format`` and ``version`` of the folders :func:`export_to_disk` writes.
EXPORT_FORMAT = "graphrec-export"
EXPORT_FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
IDS_FILE = "ids.json"

#: Edge types by store name, with their attributes besides ``edge_index``, in export order.
EDGE_STORES: dict[str, tuple[tuple[str, str, str], tuple[str, ...]]] = {
    "interacted": (("user", "interacted", "item"), ("weight", "ts", "split")),
    "has_concept": (("item", "has_concept", "concept"), ("relation", "weight")),
    "related": (("concept", "related", "concept"), ("relation",)),
    "subconcept_of": (("concept", "subconcept_of", "concept"), ()),
    "co_engaged": (("item", "co_engaged", "item"), ("weight",)),
}
#: Dtype of each column, on disk and as a tensor (``src`` and ``dst`` become ``edge_index``).
COLUMN_DTYPES = {
    "edge_index": np.dtype("<i8"),
    "src": np.dtype("<i8"),
    "dst": np.dtype("<i8"),
    "weight": np.dtype("<f4"),
    "ts": np.dtype("<i8"),
    "split": np.dtype("<i8"),
    "relation": np.dtype("<i8"),
    "kind": np.dtype("<i8"),
}
#: Called after each page is written with the edge store's name and the page's edge count.
PageCallback = Callable[[str, int], None]


class ExportError(Exception):
    """An export folder that cannot be written or read; the message names the path."""


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


def _interaction_params(filters: ExportFilters) -> dict[str, Any]:
    return {
        "kinds": list(filters.kinds) if filters.kinds is not None else None,
        "ts_from": filters.ts_from,
        "ts_to": filters.ts_to,
    }


def export_interactions(
    graph: GraphClient,
    filters: ExportFilters = ExportFilters(),
    *,
    user_ids: Sequence[str] | None = None,
    page_size: int = 1_000,
    progress: bool = False,
) -> InteractionTable:
    """All interactions passing ``filters`` (of ``user_ids`` only, when given).

    The rows are held as business ids (Python strings) until the end: fine for
    inspection and benchmarks of the read path; for training data,
    :func:`export_graph` and :func:`export_to_disk` stream into index arrays.
    """
    if user_ids is None:
        user_ids = _user_ids(graph, page_size * 10)
    users: list[str] = []
    items: list[str] = []
    weights: list[float] = []
    stamps: list[int] = []
    splits: list[str] = []
    params = _interaction_params(filters)
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


# -- where exported columns go ----------------------------------------------------------------------
#: Rows per chunk when the interactions are filtered and renumbered after the k-core.
_REWRITE_ROWS = 1 << 20


class _MemorySink:
    """Append-only columns, grouped by store (an edge store of :data:`EDGE_STORES`, or
    ``"concept"``), kept in memory as numpy chunks.

    ``src`` and ``dst`` columns are read back together as ``edge_index``.
    """

    def __init__(self) -> None:
        self.lengths: dict[str, int] = {}
        self.attrs: dict[str, tuple[str, ...]] = {}
        self._parts: dict[tuple[str, str], list[np.ndarray]] = {}

    def append(self, store: str, columns: dict[str, np.ndarray]) -> None:
        """Append one page of equally long columns, cast to their :data:`COLUMN_DTYPES`."""
        arrays = {a: np.ascontiguousarray(v, dtype=COLUMN_DTYPES[a]) for a, v in columns.items()}
        lengths = {len(array) for array in arrays.values()}
        if len(lengths) != 1:
            raise ValueError(f"{store}: columns of one page differ in length: {lengths}")
        self.attrs.setdefault(store, tuple(arrays))
        for attr, array in arrays.items():
            self._write(store, attr, array)
        self.lengths[store] = self.lengths.get(store, 0) + lengths.pop()

    def column(self, store: str, attr: str) -> np.ndarray:
        """The whole column (empty when nothing was appended)."""
        parts = self._parts.get((store, attr), [])
        if not parts:
            return np.empty(0, COLUMN_DTYPES[attr])
        whole = parts[0] if len(parts) == 1 else np.concatenate(parts)
        self._parts[(store, attr)] = [whole]
        return whole

    def array(self, store: str, attr: str) -> np.ndarray:
        """``column``, or for ``"edge_index"`` the ``src`` and ``dst`` columns as one ``[2, E]``."""
        if attr == "edge_index":
            return np.stack([self.column(store, "src"), self.column(store, "dst")])
        return self.column(store, attr)

    def rewrite(
        self, store: str, transform: Callable[[int, dict[str, np.ndarray]], dict[str, np.ndarray]]
    ) -> None:
        """Replace ``store`` by ``transform(start, chunk)`` applied to consecutive row chunks."""
        staged = f"{store}~"
        sources = {attr: self.column(store, attr) for attr in self.attrs.get(store, ())}
        for start in range(0, self.lengths.get(store, 0), _REWRITE_ROWS):
            chunk = {
                attr: values[start : start + _REWRITE_ROWS] for attr, values in sources.items()
            }
            self.append(staged, transform(start, chunk))
        del sources
        for attr in self.attrs.pop(store, ()):
            self._drop(store, attr)
        self.lengths.pop(store, None)
        if staged in self.attrs:
            self.attrs[store] = self.attrs.pop(staged)
            self.lengths[store] = self.lengths.pop(staged)
            for attr in self.attrs[store]:
                self._move(staged, store, attr)

    # storage: overridden on disk
    def _write(self, store: str, attr: str, array: np.ndarray) -> None:
        self._parts.setdefault((store, attr), []).append(array)

    def _drop(self, store: str, attr: str) -> None:
        self._parts.pop((store, attr), None)

    def _move(self, source: str, target: str, attr: str) -> None:
        self._parts[(target, attr)] = self._parts.pop((source, attr))


class _DiskSink(_MemorySink):
    """The same columns as raw little-endian files ``<store>.<attr>.bin`` in ``folder``."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def path(self, store: str, attr: str) -> Path:
        return self.folder / f"{store}.{attr}.bin"

    def column(self, store: str, attr: str) -> np.ndarray:
        length = self.lengths.get(store, 0)
        if length == 0:
            return np.empty(0, COLUMN_DTYPES[attr])
        return np.memmap(self.path(store, attr), COLUMN_DTYPES[attr], mode="r", shape=(length,))

    def _write(self, store: str, attr: str, array: np.ndarray) -> None:
        with self.path(store, attr).open("ab") as out:
            array.tofile(out)

    def _drop(self, store: str, attr: str) -> None:
        self.path(store, attr).unlink(missing_ok=True)

    def _move(self, source: str, target: str, attr: str) -> None:
        os.replace(self.path(source, attr), self.path(target, attr))

    def finish(self, layout: _Layout, filters: ExportFilters, page_size: int) -> None:
        """Join each ``src`` and ``dst`` into ``edge_index``, then write ids and manifest."""
        edges: dict[str, Any] = {}
        for store in layout.stores:
            joined = self.path(store, "edge_index")
            if self.lengths.get(store, 0):
                os.replace(self.path(store, "src"), joined)
                with joined.open("ab") as out, self.path(store, "dst").open("rb") as dst:
                    shutil.copyfileobj(dst, out, 1 << 24)
                self.path(store, "dst").unlink()
            edge_type, attrs = EDGE_STORES[store]
            n = self.lengths.get(store, 0)
            edges[store] = {
                "type": list(edge_type),
                "tensors": {
                    "edge_index": self._spec(store, "edge_index", [2, n]),
                    **{attr: self._spec(store, attr, [n]) for attr in attrs},
                },
            }
        ids = layout.id_map
        concept_kind = self._spec("concept", "kind", [len(ids.concepts)])
        for path in self.folder.iterdir():  # the data is on disk before the folder is renamed
            with path.open("rb+") as handle:
                os.fsync(handle.fileno())
        ids.save(self.folder / IDS_FILE)
        manifest = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "page_size": page_size,
            "filters": asdict(filters),
            "ids": IDS_FILE,
            "counts": {
                "user": len(ids.users),
                "item": len(ids.items),
                "concept": len(ids.concepts),
                **{store: self.lengths.get(store, 0) for store in layout.stores},
            },
            "concept_kinds": layout.concept_kinds,
            "relation_names": layout.relation_names,
            "nodes": {"concept": {"kind": concept_kind}},
            "edges": edges,
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        (self.folder / MANIFEST_FILE).write_text(text, encoding="utf-8")

    def _spec(self, store: str, attr: str, shape: list[int]) -> dict[str, Any]:
        path = self.path(store, attr)
        path.touch()  # an empty tensor still has its (empty) file
        return {"file": path.name, "dtype": COLUMN_DTYPES[attr].str, "shape": shape}


# -- the streaming export ---------------------------------------------------------------------------
@dataclass
class _Layout:
    """What an export holds besides its columns: the id map, vocabularies, edge stores."""

    id_map: IdMap
    concept_kinds: list[str]
    relation_names: list[str]
    stores: list[str]  # edge stores, in EDGE_STORES order


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


def _stream(
    graph: GraphClient,
    filters: ExportFilters,
    sink: _MemorySink,
    *,
    page_size: int,
    progress: bool,
    on_page: PageCallback | None,
) -> _Layout:
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
        user_chunks: Iterable[list[str]] = _chunks(sorted(hood_users), page_size)
        total: int | None = len(hood_users)
    else:
        user_chunks = (
            chunk
            for page in graph.pages("export/user_ids_page", page_size=page_size * 10)
            for chunk in _chunks([row["id"] for row in page], page_size)
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
    return _Layout(id_map, concept_kinds, relation_names, ["interacted", *stores])


def _stream_interactions(
    graph: GraphClient,
    filters: ExportFilters,
    sink: _MemorySink,
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
    params = _interaction_params(filters)
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
    sink: _MemorySink,
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
    sink: _MemorySink,
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
            for chunk in _chunks(anchors, page_size):
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


def _hetero(layout: _Layout, array: Callable[[str, str], np.ndarray]) -> HeteroData:
    """Assemble ``HeteroData`` from the columns ``array(store, attr)`` of an export."""
    ids = layout.id_map
    data = HeteroData()
    data["user"].num_nodes = len(ids.users)
    data["item"].num_nodes = len(ids.items)

    def add_edges(store: str) -> None:
        edge_type, attrs = EDGE_STORES[store]
        for attr in ("edge_index", *attrs):
            setattr(data[edge_type], attr, torch.from_numpy(array(store, attr)))

    knowledge = [store for store in layout.stores if store != "interacted"]
    add_edges("interacted")
    data["concept"].num_nodes = len(ids.concepts)
    data["concept"].kind = torch.from_numpy(array("concept", "kind"))
    data.concept_kinds = list(layout.concept_kinds)
    for store in knowledge:
        add_edges(store)
    data.relation_names = list(layout.relation_names)
    return data


# -- the whole subgraph -----------------------------------------------------------------------------
def graph_size(graph: GraphClient) -> GraphSize:
    """What an unfiltered export of ``graph`` will hold, from four counts (no export).

    For checks before the export, such as the memory cap of ``graphrec train``.
    """
    row = graph.read("export/graph_size")[0]
    return GraphSize(
        users=row["users"], items=row["items"], concepts=row["concepts"], kg_edges=row["kg_edges"]
    )


def export_graph(
    graph: GraphClient,
    filters: ExportFilters = ExportFilters(),
    *,
    page_size: int = 1_000,
    progress: bool = True,
    folder: str | Path | None = None,
) -> tuple[HeteroData, IdMap]:
    """Export the subgraph selected by ``filters`` as ``HeteroData`` plus its :class:`IdMap`.

    Args:
        graph: an open client.
        filters: what to export (default: everything).
        page_size: anchor nodes (users, items, concepts) per query (default: 1,000).
        progress: show progress bars (default: True).
        folder: stream the export into this folder with :func:`export_to_disk` and
            return it memory-mapped, so that neither the export nor its result
            holds the edges in memory (default: in memory, no folder).
    """
    if folder is not None:
        export_to_disk(graph, folder, filters, page_size=page_size, progress=progress)
        return load_export(folder)
    sink = _MemorySink()
    layout = _stream(graph, filters, sink, page_size=page_size, progress=progress, on_page=None)
    return _hetero(layout, sink.array), layout.id_map


def export_to_disk(
    graph: GraphClient,
    folder: str | Path,
    filters: ExportFilters = ExportFilters(),
    *,
    page_size: int = 1_000,
    progress: bool = False,
    on_page: PageCallback | None = None,
) -> Path:
    """Stream the subgraph selected by ``filters`` into ``folder``, page by page.

    Edges go straight from each page to files (the format is in the module
    docstring); only the id maps stay in memory. The folder appears, complete,
    when the export ends: it is written under a hidden temporary name next to
    it and renamed into place, replacing an earlier export. An export that fails
    or is interrupted removes its temporary folder and leaves ``folder`` as it was.

    Args:
        graph: an open client.
        folder: where the export goes. It must not exist, be empty, or hold an
            earlier export (which is replaced).
        filters: what to export (default: everything).
        page_size: anchor nodes (users, items, concepts) per query (default: 1,000).
        progress: show progress bars (default: False).
        on_page: called as ``on_page(edge_store, edges)`` after each page is
            written (default: none); an exception it raises aborts the export.

    Returns:
        ``folder``, resolved. Read it with :func:`load_export`.

    Raises:
        ExportError: ``folder`` is a file, or a folder that holds something else.
    """
    folder = Path(folder).expanduser().resolve()
    _check_replaceable(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        sink = _DiskSink(staging)
        layout = _stream(
            graph, filters, sink, page_size=page_size, progress=progress, on_page=on_page
        )
        sink.finish(layout, filters, page_size)
        _move_into_place(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _check_replaceable(folder: Path) -> None:
    """Refuse to overwrite anything but nothing, an empty folder or an earlier export."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ExportError(f"{folder}: exists and is not a folder; choose another export folder")
    is_export = (folder / MANIFEST_FILE).is_file() or (folder / "graph.pt").is_file()
    if not is_export and any(folder.iterdir()):
        raise ExportError(
            f"{folder}: exists and holds no graphrec export ({MANIFEST_FILE} or graph.pt); "
            "refusing to replace it: choose a new or empty folder"
        )


def _move_into_place(staging: Path, folder: Path) -> None:
    if not folder.exists():
        os.rename(staging, folder)
        return
    _check_replaceable(folder)
    retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
    os.replace(folder, retired / "export")
    try:
        os.rename(staging, folder)
    except BaseException:
        os.rename(retired / "export", folder)
        raise
    finally:
        shutil.rmtree(retired, ignore_errors=True)


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
    id_map.save(folder / IDS_FILE)
    return folder


def load_export(folder: str | Path) -> tuple[HeteroData, IdMap]:
    """Read an export folder: one :func:`export_to_disk` wrote (memory-mapped, nothing is
    copied) or one :func:`save_export` wrote (``graph.pt``, read into memory).

    Raises:
        ExportError: no export in ``folder``, or a damaged one (the message names the file).
    """
    folder = Path(folder)
    if (folder / MANIFEST_FILE).is_file():
        return _load_streamed(folder)
    if (folder / "graph.pt").is_file():
        data = torch.load(folder / "graph.pt", weights_only=False)
        return data, IdMap.load(folder / IDS_FILE)
    raise ExportError(
        f"{folder}: no export here (no {MANIFEST_FILE} or graph.pt); "
        "write one with `graphrec export FOLDER`"
    )


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of an :func:`export_to_disk` folder, its format and version checked."""
    path = Path(folder) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"{path}: not found; is {folder} an export folder?") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path}: unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise ExportError(f"{path}: format is not {EXPORT_FORMAT!r}")
    if manifest.get("version") != EXPORT_FORMAT_VERSION:
        raise ExportError(
            f"{path}: version {manifest.get('version')!r} is not supported "
            f"(this graphrec reads version {EXPORT_FORMAT_VERSION}); export again"
        )
    return manifest


def _load_streamed(folder: Path) -> tuple[HeteroData, IdMap]:
    manifest = read_manifest(folder)
    path = folder / MANIFEST_FILE
    try:
        id_map = IdMap.load(folder / manifest["ids"])
        counts = manifest["counts"]
        tensors = {store: entry["tensors"] for store, entry in manifest["edges"].items()}
        tensors["concept"] = manifest["nodes"]["concept"]
        layout = _Layout(
            id_map, manifest["concept_kinds"], manifest["relation_names"], list(manifest["edges"])
        )
    except (OSError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path}: incomplete or damaged ({type(exc).__name__}: {exc})") from None
    for node, ids in (("user", id_map.users), ("item", id_map.items), ("concept", id_map.concepts)):
        if counts.get(node) != len(ids):
            raise ExportError(
                f"{path}: counts.{node} is {counts.get(node)!r} but {manifest['ids']} "
                f"has {len(ids)} {node} ids"
            )
    for store in layout.stores:
        if store not in EDGE_STORES:
            raise ExportError(f"{path}: unknown edge store {store!r} in edges")

    def array(store: str, attr: str) -> np.ndarray:
        spec = tensors[store].get(attr)
        if spec is None:
            raise ExportError(f"{path}: edges.{store}.tensors has no {attr!r}")
        return _mapped(folder, spec, COLUMN_DTYPES[attr], where=f"{store}.{attr}")

    return _hetero(layout, array), id_map


def _mapped(folder: Path, spec: dict[str, Any], dtype: np.dtype, *, where: str) -> np.ndarray:
    """Memory-map one tensor file (copy-on-write: the file is never changed)."""
    name = spec.get("file")
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise ExportError(f"{folder / MANIFEST_FILE}: {where}: bad file name {name!r}")
    if np.dtype(spec.get("dtype")) != dtype:
        raise ExportError(
            f"{folder / MANIFEST_FILE}: {where}: dtype {spec.get('dtype')!r}, expected {dtype.str!r}"
        )
    shape = tuple(int(n) for n in spec["shape"])
    path = folder / name
    expected = int(np.prod(shape)) * dtype.itemsize
    actual = path.stat().st_size if path.is_file() else None
    if actual != expected:
        found = "missing" if actual is None else f"{actual:,} bytes"
        raise ExportError(
            f"{path}: expected {expected:,} bytes ({dtype.str} {list(shape)}), {found}"
        )
    if expected == 0:
        return np.empty(shape, dtype)
    return np.memmap(path, dtype=dtype, mode="c", shape=shape)


def load_training_data(
    settings: Any,
    filters: ExportFilters | None = None,
    *,
    folder: str | Path | None = None,
    **kwargs: Any,
) -> tuple[HeteroData, IdMap]:
    """The training subgraph: exported from the graph ``settings`` points at (``kwargs``
    as :class:`ExportFilters`), or, with ``folder``, read from a saved export there
    (either format :func:`load_export` reads; no connection is made).
    """
    if folder is not None:
        if filters is not None or kwargs:
            raise ValueError("a saved export (folder) was chosen: filters apply when exporting")
        return load_export(folder)
    from graphrec.graph.connect import connect

    filters = filters or ExportFilters(**kwargs)
    with connect(settings) as graph:
        return export_graph(graph, filters)
