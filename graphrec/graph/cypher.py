"""Load Cypher statements by name from the ``graphrec.cypher`` package.

Every statement lives in its own ``.cypher`` file under ``cypher/``, grouped by
use (``schema/``, ``ingest/``, ``export/`` ...). ``load("graph/ping")`` returns
the text of ``cypher/graph/ping.cypher``. Files are read once and cached.
Values always travel as ``$parameters``: nothing from input is spliced in.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import LiteralString, cast

_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")
_PACKAGE = "graphrec.cypher"


@functools.cache
def load(name: str) -> LiteralString:
    """Return the statement stored in ``cypher/<name>.cypher``.

    Raises:
        ValueError: the name is malformed.
        FileNotFoundError: no such statement ships with graphrec.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid Cypher statement name {name!r}")
    *folders, stem = name.split("/")
    path = resources.files(_PACKAGE).joinpath(*folders, f"{stem}.cypher")
    if not path.is_file():
        raise FileNotFoundError(f"no Cypher statement named {name!r} (looked for {path})")
    text = path.read_text(encoding="utf-8").strip()
    # Comments are kept out of the statement sent to the server.
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("//")]
    return cast(LiteralString, "\n".join(lines).strip().rstrip(";"))


def names(group: str) -> list[str]:
    """All statement names in one group folder, sorted (``names("schema")``)."""
    if not _NAME.fullmatch(group):
        raise ValueError(f"invalid Cypher group name {group!r}")
    folder = resources.files(_PACKAGE).joinpath(*group.split("/"))
    return sorted(
        f"{group}/{entry.name.removesuffix('.cypher')}"
        for entry in folder.iterdir()
        if entry.name.endswith(".cypher")
    )
