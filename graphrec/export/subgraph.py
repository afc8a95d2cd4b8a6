"""Export a subgraph from the graph database to PyTorch Geometric: the entry points.

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

The page-by-page streaming is :mod:`graphrec.export.stream`, the sinks it writes
into :mod:`graphrec.export.sinks`, the on-disk format :mod:`graphrec.export.store`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from torch_geometric.data import HeteroData

from graphrec.data import GraphSize
from graphrec.export.filters import ExportFilters
from graphrec.export.idmap import IdMap
from graphrec.export.sinks import DiskSink, MemorySink
from graphrec.export.store import (
    PageCallback,
    assemble,
    check_replaceable,
    load_export,
    move_into_place,
)
from graphrec.export.stream import stream
from graphrec.graph.client import GraphClient


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
    sink = MemorySink()
    layout = stream(graph, filters, sink, page_size=page_size, progress=progress, on_page=None)
    return assemble(layout, sink.array), layout.id_map


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
    check_replaceable(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        sink = DiskSink(staging)
        layout = stream(
            graph, filters, sink, page_size=page_size, progress=progress, on_page=on_page
        )
        sink.finish(layout, filters, page_size)
        move_into_place(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


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
