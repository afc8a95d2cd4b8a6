"""graphrec: a graph-database-backed recommendation engine.

The knowledge graph (users, items, interactions, semantic concepts) lives in a
Neo4j-compatible database reached over Bolt; models train on subgraphs exported
to PyTorch Geometric, and their embeddings are written back into the graph.
"""

__version__ = "0.1.0"
