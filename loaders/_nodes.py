"""Node bookkeeping shared by parsers: each node row once, before its edges.

:class:`Seen` remembers which users, items and concepts a parse has already
yielded. Its methods return the new node row (or ``None`` when it was seen
before), so a parser writes::

    cid, row = seen.concept(ConceptKind.GENRE, "Comedy")
    if row:
        yield row
    yield ItemConceptRow(item_id, cid, "has_genre")

Every concept row keeps the invariant ``row.id == concept_id(row.kind, row.name)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from graphrec.schema import (
    RESERVED_PROPERTIES,
    ConceptKind,
    InvalidIdError,
    concept_id,
    normalize_id,
)

from .rows import ConceptRow, ItemRow, Row, SubconceptRow, UserRow

#: Separator used in the display name of a concept that is a hierarchy path.
PATH_SEPARATOR = " > "

_YEAR_IN_TITLE = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*(?:\d{4})?)?\)\s*$")
_NOT_SNAKE = re.compile(r"[^a-z0-9]+")


class IdCache(dict[str, str]):
    """Raw id text -> normalised id, memoised: logs repeat the same ids many times.

    ``cache[raw]`` raises :class:`~graphrec.schema.InvalidIdError` for a bad id
    (which is not cached).
    """

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field

    def __missing__(self, raw: str) -> str:
        value = normalize_id(raw, field=self.field)
        self[raw] = value
        return value


class Seen:
    """The node ids already yielded in one parse."""

    def __init__(self) -> None:
        self.users: set[str] = set()
        self.items: set[str] = set()
        self.concepts: set[str] = set()

    def user(self, user_id: str, properties: dict[str, Any] | None = None) -> UserRow | None:
        """A :class:`UserRow` the first time ``user_id`` is seen, else ``None``."""
        if user_id in self.users:
            return None
        self.users.add(user_id)
        return UserRow(user_id, properties or {})

    def item(
        self, item_id: str, title: str | None = None, properties: dict[str, Any] | None = None
    ) -> ItemRow | None:
        """An :class:`ItemRow` the first time ``item_id`` is seen, else ``None``."""
        if item_id in self.items:
            return None
        self.items.add(item_id)
        return ItemRow(item_id, title, properties or {})

    def concept(self, kind: ConceptKind | str, name: str) -> tuple[str, ConceptRow | None]:
        """The concept id for ``(kind, name)`` and its row if it is new.

        Raises:
            graphrec.schema.InvalidIdError: ``name`` is empty after normalising.
        """
        name = " ".join(name.split())
        cid = concept_id(kind, name)
        if cid in self.concepts:
            return cid, None
        self.concepts.add(cid)
        return cid, ConceptRow(cid, ConceptKind(kind).value, name)

    def concept_path(self, kind: ConceptKind | str, parts: Sequence[str]) -> tuple[str, list[Row]]:
        """Concepts for a hierarchy path such as ``["Electronics", "Audio", "Headphones"]``.

        Each level is its own concept, named by its full path
        (``"Electronics > Audio"``) so that "Audio" under two different parents
        stays two concepts. Returns the leaf's id and the new rows in a safe
        order: every new :class:`ConceptRow`, parents first, then one
        :class:`SubconceptRow` child→parent per new child.

        Raises:
            graphrec.schema.InvalidIdError: a level has a bad name; nothing is
                marked as seen then.
        """
        names = path_names(parts)
        for name in names:
            concept_id(kind, name)  # validate every level before marking any as seen
        concepts: list[Row] = []
        links: list[Row] = []
        parent: str | None = None
        for name in names:
            cid, row = self.concept(kind, name)
            if row is not None:
                concepts.append(row)
                if parent is not None:
                    links.append(SubconceptRow(cid, parent))
            parent = cid
        assert parent is not None
        return parent, concepts + links


def path_names(parts: Sequence[str]) -> list[str]:
    """Display names of every level of a path: ``["A", "B"] -> ["A", "A > B"]``.

    Raises:
        graphrec.schema.InvalidIdError: no part is non-empty.
    """
    clean = [" ".join(p.split()) for p in parts]
    clean = [p for p in clean if p]
    if not clean:
        raise InvalidIdError("concept path is empty")
    return [PATH_SEPARATOR.join(clean[: depth + 1]) for depth in range(len(clean))]


def check_concepts(kind: ConceptKind | str, names: Iterable[str]) -> list[str]:
    """Return ``names`` after checking each makes a valid concept id.

    Readers call this inside their per-line ``try`` so that a bad name rejects
    the line before :class:`Seen` marks anything as yielded.

    Raises:
        graphrec.schema.InvalidIdError: for the first bad name.
    """
    names = list(names)
    for name in names:
        concept_id(kind, name)
    return names


def decade_name(year: int) -> str:
    """``1994 -> "1990s"``."""
    return f"{year // 10 * 10}s"


def year_from_title(title: str) -> int | None:
    """The year in a trailing ``"(1995)"`` or ``"(2006-2007)"``, else ``None``."""
    match = _YEAR_IN_TITLE.search(title)
    return int(match.group(1)) if match else None


def property_name(column: str) -> str:
    """A safe node property name for a source column (see ``graphrec.schema.check_property_name``).

    Lower-snake, starting with a letter, at most 63 characters, never ``id`` or
    ``title``: ``"Price (EUR)" -> "price_eur"``, ``"2nd" -> "p_2nd"``, ``"id" -> "source_id"``.
    """
    name = snake(column) or "property"
    if not name[0].isalpha():
        name = f"p_{name}"
    if name in RESERVED_PROPERTIES:
        name = f"source_{name}"
    return name[:63]


def snake(text: str) -> str:
    """Lower-snake form of a field name for derived relations: ``"Sub-Genre" -> "sub_genre"``."""
    return _NOT_SNAKE.sub("_", text.lower()).strip("_")
