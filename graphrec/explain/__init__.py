"""Explanations: real paths from a user to a recommended item, found with Cypher and ranked
by the model's own vectors."""

from graphrec.explain.search import (
    PATH_KINDS,
    Explanation,
    PathSearch,
    explain,
    find_paths,
    graph_degrees,
    model_vectors,
    rank_paths,
)

__all__ = [
    "PATH_KINDS",
    "Explanation",
    "PathSearch",
    "explain",
    "find_paths",
    "graph_degrees",
    "model_vectors",
    "rank_paths",
]
