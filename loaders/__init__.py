"""Catalog parsers. Installed as ``graphrec.loaders``.

Each parser reads one source format and yields typed rows
(:mod:`graphrec.loaders.rows`). Parsers never build Cypher and never touch the
database: :mod:`graphrec.ingest` turns the rows into batched writes.

Contract of every parser (``parse_xxx(path, **options) -> Iterator[Row]``):

* A node row (user, item, concept) comes before any relationship row that
  names it, and only once per parse. The catalog (items, concepts, their
  edges) comes before the interaction log; a user first met in a log gets its
  :class:`~graphrec.loaders.rows.UserRow` right before its first interaction.
* A bad line never raises: it becomes a :class:`~graphrec.loaders.rows.Reject`
  with the file and 1-based line, and parsing goes on.
* A source that cannot be read at all (missing folder or required file, bad
  mapping, unknown format) raises :class:`LoaderError` when the parser is
  called, before any row.

Usage::

    from graphrec.loaders import parse
    for row in parse("movielens", Path("ml-latest-small")):
        ...
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import DownloadError, LoaderError
from .kgat import parse_kgat
from .movielens import parse_movielens
from .recbole import parse_recbole
from .rows import Row
from .synthetic import generate_synthetic, parse_synthetic
from .tabular import parse_csv, parse_jsonl

__all__ = [
    "FORMATS",
    "DownloadError",
    "LoaderError",
    "Parser",
    "generate_synthetic",
    "get_parser",
    "parse",
    "parse_csv",
    "parse_jsonl",
    "parse_kgat",
    "parse_movielens",
    "parse_recbole",
    "parse_synthetic",
]

#: ``parser(path, **options) -> Iterator[Row]``.
Parser = Callable[..., Iterator[Row]]

#: Format name -> parser.
FORMATS: dict[str, Parser] = {
    "movielens": parse_movielens,
    "recbole": parse_recbole,
    "kgat": parse_kgat,
    "csv": parse_csv,
    "jsonl": parse_jsonl,
    "synthetic": parse_synthetic,
}


def get_parser(name: str) -> Parser:
    """The parser registered as ``name``.

    Raises:
        LoaderError: ``name`` is not a known format; the message lists them.
    """
    try:
        return FORMATS[name]
    except KeyError:
        raise LoaderError(
            f"unknown format {name!r} (known formats: {', '.join(sorted(FORMATS))})"
        ) from None


def parse(name: str, path: Path | str | None, **options: Any) -> Iterator[Row]:
    """Parse ``path`` with the parser registered as ``name``.

    ``options`` are the parser's keyword-only options. An option the parser
    does not take raises :class:`LoaderError`.
    """
    parser = get_parser(name)
    target = Path(path) if path is not None else None
    try:
        inspect.signature(parser).bind(target, **options)
    except TypeError as exc:
        raise LoaderError(f"{name}: {exc}") from None
    return parser(target, **options)
