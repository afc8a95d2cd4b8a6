"""Explanations: real paths from a user to a recommended item, found with Cypher and ranked
by the model's own vectors.

In flow order: :mod:`~graphrec.explain.paths` (what a path is),
:mod:`~graphrec.explain.search` (the path queries under a deadline),
:mod:`~graphrec.explain.sentences` (rows into paths with a sentence) and
:mod:`~graphrec.explain.ranking` (scores from the model, the best paths).
"""

from graphrec.explain.paths import PATH_KINDS, Explanation, PathSearch
from graphrec.explain.ranking import explain, graph_degrees, model_vectors, rank_paths
from graphrec.explain.search import find_paths

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
