"""Ingest: typed rows from the loaders written into the graph in idempotent batches, and the
links derived from them.

In flow order: :mod:`~graphrec.ingest.targets` (how each row kind is written),
:mod:`~graphrec.ingest.writer` (the batched writer), :mod:`~graphrec.ingest.summary`,
and :mod:`~graphrec.ingest.derived` (``CO_ENGAGED`` links, computed by
:mod:`~graphrec.ingest.co_engagement`).
"""

from graphrec.ingest.derived import derive_co_engagement
from graphrec.ingest.summary import Count, IngestSummary
from graphrec.ingest.targets import IngestError
from graphrec.ingest.writer import Ingestor, ingest

__all__ = ["Count", "IngestError", "IngestSummary", "Ingestor", "derive_co_engagement", "ingest"]
