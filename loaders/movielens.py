"""MovieLens (GroupLens) folders: ml-latest / ml-latest-small, ml-100k and ml-1m.

The layout is detected from the files present:

========== ===================================== ===========================
layout     files (required first)                encoding, separator
========== ===================================== ===========================
``latest`` movies.csv, ratings.csv, [tags.csv,   UTF-8, CSV with a header
           links.csv]
``100k``   u.item, u.data, [u.user, u.genre]     latin-1, ``|`` (u.data: tab)
``1m``     movies.dat, ratings.dat, [users.dat]  latin-1, ``::``
========== ===================================== ===========================

What becomes what:

* movie -> :class:`ItemRow` (``title`` as in the source, properties ``year``
  when the title or release date has one; ``imdb_id``/``tmdb_id`` from
  links.csv; ``release_date``/``imdb_url`` from u.item).
* genres -> concept kind ``genre``, relation ``has_genre`` ("(no genres
  listed)" and the ML-100K ``unknown`` flag mean no genre).
* release decade -> kind ``decade`` named like ``"1990s"``, relation ``has_decade``.
* tags.csv -> kind ``tag`` (name normalised with
  :func:`graphrec.schema.normalize_name`), relation ``has_tag``, weight = number
  of times the tag was applied to the movie.
* users.dat / u.user -> :class:`UserRow` (properties ``zip_code``, and ``age``
  for ML-100K) with age group / gender / occupation concepts
  (``has_age_group``, ``has_gender``, ``has_occupation``).
* ratings -> :class:`InteractionRow` with kind ``"rating"``, ``rating`` = stars,
  ``weight`` = 1.0, ``ts`` = Unix seconds.

What is rejected (as ``file:line: reason``): an id that breaks
:func:`graphrec.schema.normalize_id` (``a/b``, ``..``); a rating that is not a
number from 0.5 to 5 stars (:data:`STAR_RANGE`, within
:func:`graphrec.schema.check_value`); a timestamp outside
:func:`graphrec.schema.check_timestamp` (negative, or past 9999); a rating or
tag of a movie missing from the catalog; a ``links.csv`` line for a movie
missing from ``movies.csv``, or whose ``imdbId``/``tmdbId`` is not a number;
an ML-100K age outside 0 to 150.

Rows come out catalog first (items with their genre/decade concepts, then
tags), then users with their attributes, then ratings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from graphrec.schema import ConceptKind

from ._io import require_dir
from ._movielens_layouts import BUILDERS, ML100K_GENRES, STAR_RANGE, Plan, star_rating
from ._nodes import Seen, decade_name
from ._user_attributes import user_attribute_rows
from .errors import LoaderError
from .rows import ConceptRow, InteractionRow, ItemConceptRow, Reject, Row, UserRow

__all__ = [
    "LAYOUTS",
    "ML100K_GENRES",
    "STAR_RANGE",
    "detect_layout",
    "parse_movielens",
    "star_rating",
]

HAS_GENRE = "has_genre"
HAS_TAG = "has_tag"
HAS_DECADE = "has_decade"

#: Layout names accepted by ``parse_movielens(layout=...)``.
LAYOUTS = ("latest", "100k", "1m")


def detect_layout(folder: Path) -> str:
    """``"latest"``, ``"100k"`` or ``"1m"`` from the files in ``folder``.

    Raises:
        LoaderError: no MovieLens file is there.
    """
    for layout, markers in (
        ("latest", ("movies.csv", "ratings.csv")),
        ("100k", ("u.item", "u.data")),
        ("1m", ("movies.dat", "ratings.dat")),
    ):
        if any((folder / m).is_file() for m in markers):
            return layout
    raise LoaderError(
        f"{folder}: no MovieLens files found (expected movies.csv + ratings.csv, "
        "u.item + u.data, or movies.dat + ratings.dat)"
    )


def parse_movielens(
    path: Path,
    *,
    layout: str | None = None,
    tags: bool = True,
    decades: bool = True,
) -> Iterator[Row]:
    """Parse a MovieLens folder in any GroupLens layout.

    Args:
        path: The folder (e.g. ``ml-latest-small/``). A folder holding exactly
            one sub-folder, as a freshly unpacked zip does, is also accepted.
        layout: ``"latest"``, ``"100k"`` or ``"1m"``; detected when ``None``
            (default: ``None``).
        tags: Turn ``tags.csv`` into ``has_tag`` concepts (default: ``True``).
        decades: Add ``has_decade`` concepts from the release year
            (default: ``True``).

    Returns:
        An iterator of rows; see the module docstring for the mapping.

    Raises:
        LoaderError: missing folder or required file, unknown layout. Raised
            by this call, before any row is produced.
    """
    folder = require_dir(path, "movielens")
    if layout is None:
        subfolders = [p for p in folder.iterdir() if p.is_dir()]
        try:
            layout = detect_layout(folder)
        except LoaderError:
            if len(subfolders) != 1:
                raise
            folder = subfolders[0]
            layout = detect_layout(folder)
    if layout not in BUILDERS:
        known = ", ".join(LAYOUTS)
        raise LoaderError(f"{folder}: unknown MovieLens layout {layout!r} (use {known})")
    plan = BUILDERS[layout](folder)
    return _emit(plan, tags=tags, decades=decades)


def _emit(plan: Plan, *, tags: bool, decades: bool) -> Iterator[Row]:
    seen = Seen()
    for movie in plan.movies():
        if isinstance(movie, Reject):
            yield movie
            continue
        properties = dict(movie.properties)
        if movie.year is not None:
            properties["year"] = movie.year
        item = seen.item(movie.item_id, movie.title, properties)
        if item is None:
            continue  # the readers reject duplicates; this is a second guard
        yield item
        for genre in movie.genres:
            cid, concept = seen.concept(ConceptKind.GENRE, genre)
            if concept:
                yield concept
            yield ItemConceptRow(movie.item_id, cid, HAS_GENRE)
        if decades and movie.year is not None:
            cid, concept = seen.concept(ConceptKind.DECADE, decade_name(movie.year))
            if concept:
                yield concept
            yield ItemConceptRow(movie.item_id, cid, HAS_DECADE)

    if tags and plan.tags is not None:
        yield from _emit_tags(plan.tags(seen.items), seen)

    if plan.users is not None:
        for user in plan.users():
            if isinstance(user, Reject):
                yield user
                continue
            row = seen.user(user.user_id, user.properties)
            if row is None:
                continue
            yield row
            yield from user_attribute_rows(
                seen,
                user.user_id,
                age_group=user.age_group,
                gender=user.gender,
                occupation=user.occupation,
            )

    users = seen.users
    for rating in plan.ratings(seen.items):
        if isinstance(rating, InteractionRow) and rating.user_id not in users:
            users.add(rating.user_id)
            yield UserRow(rating.user_id)
        yield rating


def _emit_tags(applications: Iterator[tuple[str, str] | Reject], seen: Seen) -> Iterator[Row]:
    """Count tag applications per (item, tag), then yield concepts and weighted edges."""
    counts: dict[tuple[str, str], int] = {}
    new_concepts: dict[str, ConceptRow] = {}
    for entry in applications:
        if isinstance(entry, Reject):
            yield entry
            continue
        item_id, tag = entry
        cid, concept = seen.concept(ConceptKind.TAG, tag)
        if concept is not None:
            new_concepts[cid] = concept
        key = (item_id, cid)
        counts[key] = counts.get(key, 0) + 1
    for (item_id, cid), count in counts.items():
        concept = new_concepts.pop(cid, None)
        if concept is not None:
            yield concept
        yield ItemConceptRow(item_id, cid, HAS_TAG, float(count))
