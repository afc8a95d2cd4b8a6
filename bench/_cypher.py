"""The benchmarks' own Cypher statements (bench/cypher/): peers and candidate forms that
graphrec does not ship."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def bench_cypher(name: str) -> str:
    """The statement ``bench/cypher/<name>.cypher``, its ``//`` comment lines dropped."""
    text = (HERE / "cypher" / f"{name}.cypher").read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("//"))
