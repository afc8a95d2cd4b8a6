"""What every benchmark does at the end: describe the machine, save JSON and markdown, print."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out"


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def machine() -> str:
    """``"x86_64, 2 cores"``."""
    return f"{platform.machine()}, {os.cpu_count()} cores"


def save(name: str, payload: Any, markdown: str) -> None:
    """Write ``bench/out/<name>.json`` and ``<name>.md`` (gitignored) and print the markdown."""
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    (OUT / f"{name}.md").write_text(markdown)
    print(markdown)
