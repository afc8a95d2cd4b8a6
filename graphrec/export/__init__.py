"""Export a subgraph from the graph database to PyTorch Geometric (in memory or to disk).

In flow order: :mod:`~graphrec.export.filters` (what to take),
:mod:`~graphrec.export.stream` (pages of the graph into index columns),
:mod:`~graphrec.export.sinks` (columns in memory or on disk),
:mod:`~graphrec.export.store` (the on-disk format), :mod:`~graphrec.export.subgraph`
(the entry points) and :mod:`~graphrec.export.triples` (triples for PyKEEN).
"""

from graphrec.export.filters import ExportFilters, k_core
from graphrec.export.idmap import IdMap
from graphrec.export.store import (
    MANIFEST_FILE,
    ExportError,
    load_export,
    read_manifest,
    save_export,
)
from graphrec.export.subgraph import export_graph, export_to_disk, graph_size, load_training_data
from graphrec.export.triples import export_triples

__all__ = [
    "MANIFEST_FILE",
    "ExportError",
    "ExportFilters",
    "IdMap",
    "export_graph",
    "export_to_disk",
    "export_triples",
    "graph_size",
    "k_core",
    "load_export",
    "load_training_data",
    "read_manifest",
    "save_export",
]
