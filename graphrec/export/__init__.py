"""Export a subgraph from the graph database to PyTorch Geometric (in memory or to disk)."""

from graphrec.export.subgraph import (
    MANIFEST_FILE,
    ExportError,
    ExportFilters,
    IdMap,
    export_graph,
    export_interactions,
    export_to_disk,
    export_triples,
    graph_size,
    k_core,
    load_export,
    load_training_data,
    read_manifest,
    save_export,
)

__all__ = [
    "MANIFEST_FILE",
    "ExportError",
    "ExportFilters",
    "IdMap",
    "export_graph",
    "export_interactions",
    "export_to_disk",
    "export_triples",
    "graph_size",
    "k_core",
    "load_export",
    "load_training_data",
    "read_manifest",
    "save_export",
]
