"""Cypher statements, one per ``.cypher`` file, grouped by use. Installed as ``graphrec.cypher``.

Load them with :func:`graphrec.graph.cypher.load`; never build Cypher from input.
"""
