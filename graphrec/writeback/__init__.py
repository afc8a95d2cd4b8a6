"""Write trained embeddings back into the graph as versioned node properties."""

from graphrec.writeback.embeddings import (
    Embeddings,
    ModelRecord,
    WritebackError,
    active_model,
    embedding_property,
    list_models,
    read_embeddings,
    remove_version,
    write_embeddings,
)

__all__ = [
    "Embeddings",
    "ModelRecord",
    "WritebackError",
    "active_model",
    "embedding_property",
    "list_models",
    "read_embeddings",
    "remove_version",
    "write_embeddings",
]
