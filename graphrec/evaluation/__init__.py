"""Full-ranking evaluation: the protocol, the metrics, comparison tables and plots."""

from graphrec.evaluation.protocol import MAX_SCORES_PER_CHUNK, ComparisonTable, compare, evaluate

__all__ = ["MAX_SCORES_PER_CHUNK", "ComparisonTable", "compare", "evaluate"]
