"""Shared checks for the loader tests: the row-stream contract and small file helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from graphrec.loaders.rows import (
    ConceptRelationRow,
    ConceptRow,
    InteractionRow,
    ItemConceptRow,
    ItemRow,
    Reject,
    Row,
    SubconceptRow,
    UserConceptRow,
    UserRow,
)
from graphrec.schema import ConceptKind, concept_id

_CATALOG = (ItemRow, ItemConceptRow, ConceptRelationRow, SubconceptRow)


def check_contract(rows: Iterable[Row], *, catalog_first: bool = True) -> list[Row]:
    """Assert the ordering contract over a row stream and return the rows.

    * every node row is yielded once, before any relationship row naming it;
    * concept ids are ``concept_id(kind, name)`` with a known kind;
    * with ``catalog_first``, no item or concept edge follows the first interaction.
    """
    rows = list(rows)
    users: set[str] = set()
    items: set[str] = set()
    concepts: set[str] = set()
    in_log = False
    for position, row in enumerate(rows):
        where = f"row {position}: {row!r}"
        if isinstance(row, UserRow):
            assert row.id not in users, f"duplicate user, {where}"
            users.add(row.id)
        elif isinstance(row, ItemRow):
            assert row.id not in items, f"duplicate item, {where}"
            items.add(row.id)
        elif isinstance(row, ConceptRow):
            assert row.id not in concepts, f"duplicate concept, {where}"
            assert row.id == concept_id(ConceptKind(row.kind), row.name), where
            concepts.add(row.id)
        elif isinstance(row, InteractionRow):
            assert row.user_id in users and row.item_id in items, f"dangling, {where}"
            in_log = True
        elif isinstance(row, ItemConceptRow):
            assert row.item_id in items and row.concept_id in concepts, f"dangling, {where}"
        elif isinstance(row, UserConceptRow):
            assert row.user_id in users and row.concept_id in concepts, f"dangling, {where}"
        elif isinstance(row, ConceptRelationRow):
            assert row.head_id in concepts and row.tail_id in concepts, f"dangling, {where}"
        elif isinstance(row, SubconceptRow):
            assert row.child_id in concepts and row.parent_id in concepts, f"dangling, {where}"
        else:
            assert isinstance(row, Reject), f"unknown row type, {where}"
        if catalog_first and in_log:
            assert not isinstance(row, _CATALOG), f"catalog row after the log, {where}"
    return rows


def write_file(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    """Write ``content`` (text in ``encoding``, or bytes as they are), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


@pytest.fixture
def contract() -> Callable[..., list[Row]]:
    """``contract(rows, catalog_first=True) -> list``: assert the ordering contract."""
    return check_contract


@pytest.fixture
def write() -> Callable[..., Path]:
    """``write(path, content, encoding="utf-8") -> path``."""
    return write_file
