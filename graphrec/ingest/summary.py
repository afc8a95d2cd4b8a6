"""What an ingest wrote: rows, created and existing per label and relationship type, rejects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphrec.ingest.targets import Target
from graphrec.loaders.rows import Reject

#: How many rejects the summary keeps verbatim (all are counted).
KEPT_REJECTS = 1_000


# -- the summary ----------------------------------------------------------------------------------
@dataclass
class Count:
    rows: int = 0  # distinct rows sent
    created: int = 0
    removed: int = 0  # derived links deleted because the derivation no longer produced them

    @property
    def existing(self) -> int:
        """Rows that matched something already in the graph (updated in place, or unchanged)."""
        return self.rows - self.created


@dataclass
class IngestSummary:
    nodes: dict[str, Count] = field(default_factory=dict)
    relationships: dict[str, Count] = field(default_factory=dict)
    rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    seconds: float = 0.0

    def count(self, target: Target) -> Count:
        table = self.nodes if target.is_node else self.relationships
        return table.setdefault(str(target.name), Count())

    @property
    def relationships_created(self) -> int:
        return sum(c.created for c in self.relationships.values())

    def as_dict(self) -> dict[str, Any]:
        def table(counts: dict[str, Count]) -> dict[str, dict[str, int]]:
            return {
                k: {"rows": c.rows, "created": c.created, "existing": c.existing}
                for k, c in sorted(counts.items())
            }

        return {
            "nodes": table(self.nodes),
            "relationships": table(self.relationships),
            "rows_read": self.rows_read,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
        }

    def format_table(self) -> str:
        lines = [f"{'':<16}{'':>14}{'rows':>12}{'created':>12}{'existing':>12}"]
        for title, counts in (("nodes", self.nodes), ("relationships", self.relationships)):
            for name, c in sorted(counts.items()):
                lines.append(f"{title:<16}{name:>14}{c.rows:>12,}{c.created:>12,}{c.existing:>12,}")
        lines.append(
            f"rows read: {self.rows_read:,}   rejected: {self.rejected:,}   seconds: {self.seconds:.1f}"
        )
        return "\n".join(lines)
