"""Ingest: typed rows from the loaders written into the graph in idempotent batches, and the
links derived from them (co-engagement)."""

from graphrec.ingest.writer import IngestError, IngestSummary, derive_co_engagement, ingest

__all__ = ["IngestError", "IngestSummary", "derive_co_engagement", "ingest"]
