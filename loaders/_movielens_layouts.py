"""The three GroupLens MovieLens layouts, read into movies, users, ratings and tags.

:mod:`graphrec.loaders.movielens` picks a layout and turns what these readers
yield into rows. Each reader turns a bad line into a
:class:`~graphrec.loaders.rows.Reject` naming the file and line: ids follow
:func:`graphrec.schema.normalize_id`, ratings :func:`star_rating`, timestamps
:func:`graphrec.schema.check_timestamp`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphrec.schema import ConceptKind, normalize_id

from ._io import (
    DelimitedFile,
    RowError,
    parse_bounded_int,
    parse_timestamp,
    parse_value,
)
from ._nodes import IdCache, check_concepts, year_from_title
from ._user_attributes import (
    MAX_AGE,
    ML1M_AGE_GROUPS,
    ML1M_OCCUPATIONS,
    age_group_of,
    gender_name,
)
from .errors import LoaderError
from .rows import InteractionRow, Reject

__all__ = ["BUILDERS", "ML100K_GENRES", "STAR_RANGE", "Movie", "Plan", "User", "star_rating"]


#: The genre flags of ML-100K ``u.item``, used when ``u.genre`` is absent.
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

_NO_GENRE = {"(no genres listed)", "unknown", ""}
_LATIN1 = "latin-1"

RATING_KIND = "rating"

#: Every GroupLens MovieLens release rates from half a star to five stars.
STAR_RANGE = (0.5, 5.0)


@dataclass(slots=True)
class Movie:
    item_id: str
    title: str | None
    year: int | None
    genres: list[str]
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class User:
    user_id: str
    properties: dict[str, Any]
    age_group: str | None
    gender: str | None
    occupation: str | None


@dataclass(slots=True)
class Plan:
    """What one layout reads; each callable opens its file when called."""

    movies: Callable[[], Iterator[Movie | Reject]]
    ratings: Callable[[set[str]], Iterator[InteractionRow | Reject]]
    tags: Callable[[set[str]], Iterator[tuple[str, str] | Reject]] | None = None
    users: Callable[[], Iterator[User | Reject]] | None = None


# -- readers shared by the layouts ------------------------------------------------------------


def _ratings(
    file: DelimitedFile, columns: tuple[int, int, int, int], catalog: str
) -> Callable[[set[str]], Iterator[InteractionRow | Reject]]:
    """Reader of (user, item, rating, timestamp) records; unknown items are rejected."""
    user_col, item_col, rating_col, ts_col = columns

    width = None if file.header else 4

    def read(items: set[str]) -> Iterator[InteractionRow | Reject]:
        user_ids, item_ids = IdCache("user id"), IdCache("item id")
        for record in file.rows(columns=width):
            if isinstance(record, Reject):
                yield record
                continue
            number, fields = record
            try:
                item_id = item_ids[fields[item_col]]
                if item_id not in items:
                    raise RowError(f"unknown item {item_id!r} (not in {catalog})")
                row = InteractionRow(
                    user_ids[fields[user_col]],
                    item_id,
                    RATING_KIND,
                    1.0,
                    star_rating(fields[rating_col]),
                    parse_timestamp(fields[ts_col]),
                )
            except ValueError as exc:
                yield file.reject(number, str(exc))
                continue
            yield row

    return read


def star_rating(text: str) -> float:
    """A MovieLens rating: a number (:func:`graphrec.schema.check_value`) from 0.5 to 5 stars.

    Raises:
        RowError: not a number, or outside :data:`STAR_RANGE`.
    """
    value = parse_value(text, "rating")
    low, high = STAR_RANGE
    if not low <= value <= high:
        raise RowError(f"rating {value} is outside the MovieLens range {low:g} to {high:g}")
    return value


def _piped_movies(
    file: DelimitedFile,
    columns: tuple[int, int, int],
    extra: dict[str, dict[str, Any]] | None = None,
    *,
    width: int | None = None,
) -> Iterator[Movie | Reject]:
    """Movies as ``id, title, Genre|Genre`` records (ml-latest and ml-1m).

    ``width`` is the exact column count for a file without a header.
    """
    id_col, title_col, genres_col = columns
    seen: set[str] = set()
    for record in file.rows(columns=width):
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            item_id = _new_id(fields[id_col], seen)
            genres = [g for g in fields[genres_col].split("|") if g.strip() not in _NO_GENRE]
            check_concepts(ConceptKind.GENRE, genres)
        except ValueError as exc:
            yield file.reject(number, str(exc))
            continue
        title = fields[title_col].strip() or None
        properties = extra.get(item_id, {}) if extra else {}
        yield Movie(item_id, title, year_from_title(title or ""), genres, properties)


def _new_id(raw: str, seen: set[str], what: str = "item id") -> str:
    value = normalize_id(raw, field=what)
    if value in seen:
        raise RowError(f"duplicate {what} {value!r}")
    seen.add(value)
    return value


# -- ml-latest / ml-latest-small --------------------------------------------------------------


def _latest(folder: Path) -> Plan:
    movies = DelimitedFile(folder / "movies.csv", sep=",", quoted=True, header=True)
    ratings = DelimitedFile(folder / "ratings.csv", sep=",", quoted=True, header=True)
    movie_cols = tuple(movies.column_indices(["movieId", "title", "genres"]))
    rating_cols = tuple(ratings.column_indices(["userId", "movieId", "rating", "timestamp"]))
    links = _optional(folder / "links.csv", sep=",", quoted=True, header=True)
    tags = _optional(folder / "tags.csv", sep=",", quoted=True, header=True)
    link_cols = tuple(links.column_indices(["movieId", "imdbId", "tmdbId"])) if links else ()
    tag_cols = tuple(tags.column_indices(["movieId", "tag"])) if tags else ()

    def read_movies() -> Iterator[Movie | Reject]:
        found: dict[str, tuple[int, dict[str, str]]] = {}
        if links is not None:
            for entry in _read_links(links, link_cols):
                if isinstance(entry, Reject):
                    yield entry
                else:
                    found[entry[0]] = (entry[1], entry[2])
        extra = {item_id: properties for item_id, (_, properties) in found.items()}
        known: set[str] = set()
        for movie in _piped_movies(movies, movie_cols, extra):  # type: ignore[arg-type]
            if isinstance(movie, Movie):
                known.add(movie.item_id)
            yield movie
        for item_id, (number, _) in found.items():
            if links is not None and item_id not in known:
                yield links.reject(number, f"unknown movie {item_id!r} (not in movies.csv)")

    def read_tags(items: set[str]) -> Iterator[tuple[str, str] | Reject]:
        assert tags is not None
        item_col, tag_col = tag_cols
        item_ids = IdCache("movieId")
        for record in tags.rows():
            if isinstance(record, Reject):
                yield record
                continue
            number, fields = record
            tag = fields[tag_col].strip()
            try:
                item_id = item_ids[fields[item_col]]
                if item_id not in items:
                    raise RowError(f"unknown item {item_id!r} (not in movies.csv)")
                check_concepts(ConceptKind.TAG, [tag])
            except ValueError as exc:
                yield tags.reject(number, str(exc))
                continue
            yield item_id, tag

    return Plan(
        movies=read_movies,
        ratings=_ratings(ratings, rating_cols, "movies.csv"),  # type: ignore[arg-type]
        tags=read_tags if tags is not None else None,
    )


def _read_links(
    links: DelimitedFile, columns: tuple[int, ...]
) -> Iterator[tuple[str, int, dict[str, str]] | Reject]:
    """``(movie id, line, {"imdb_id": ..., "tmdb_id": ...})`` per links.csv line.

    imdbId and tmdbId are numbers (kept as text: imdb ids have leading zeros)
    or empty; a movie listed twice is rejected the second time.
    """
    id_col, imdb_col, tmdb_col = columns
    movie_ids = IdCache("movieId")
    seen: set[str] = set()
    for record in links.rows():
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            item_id = movie_ids[fields[id_col]]
            ids = {
                "imdb_id": _numeric_code(fields[imdb_col], "imdbId"),
                "tmdb_id": _numeric_code(fields[tmdb_col], "tmdbId"),
            }
            if item_id in seen:
                raise RowError(f"duplicate movieId {item_id!r}")
        except ValueError as exc:
            yield links.reject(number, str(exc))
            continue
        seen.add(item_id)
        yield item_id, number, {k: v for k, v in ids.items() if v}


def _numeric_code(text: str, what: str) -> str:
    """An external id made of ASCII digits (``"0114709"``), or ``""`` when empty."""
    code = text.strip()
    if code and not (code.isascii() and code.isdigit()):
        raise RowError(f"{what} is not a number: {code!r}")
    return code


def _optional(path: Path, **kwargs: Any) -> DelimitedFile | None:
    return DelimitedFile(path, **kwargs) if path.is_file() else None


# -- ml-100k --------------------------------------------------------------------------------


def _ml100k(folder: Path) -> Plan:
    items = DelimitedFile(folder / "u.item", sep="|", encoding=_LATIN1)
    ratings = DelimitedFile(folder / "u.data", sep="\t", encoding=_LATIN1)
    genre_file = _optional(folder / "u.genre", sep="|", encoding=_LATIN1)
    users = _optional(folder / "u.user", sep="|", encoding=_LATIN1)
    genres = _read_genre_names(genre_file) if genre_file else list(ML100K_GENRES)

    def read_movies() -> Iterator[Movie | Reject]:
        seen: set[str] = set()
        for record in items.rows(columns=5 + len(genres)):
            if isinstance(record, Reject):
                yield record
                continue
            number, fields = record
            try:
                item_id = _new_id(fields[0], seen)
                flags = fields[5:]
                if any(flag not in ("0", "1") for flag in flags):
                    raise RowError("genre flags must be 0 or 1")
                chosen = [g for g, flag in zip(genres, flags, strict=True) if flag == "1"]
                chosen = check_concepts(
                    ConceptKind.GENRE, [g for g in chosen if g not in _NO_GENRE]
                )
            except ValueError as exc:
                yield items.reject(number, str(exc))
                continue
            title = fields[1].strip() or None
            release = fields[2].strip()
            year = year_from_title(title or "")
            if year is None and len(release) >= 4 and release[-4:].isdigit():
                year = int(release[-4:])
            properties = {"release_date": release, "imdb_url": fields[4].strip()}
            yield Movie(item_id, title, year, chosen, {k: v for k, v in properties.items() if v})

    def read_users() -> Iterator[User | Reject]:
        assert users is not None
        seen: set[str] = set()
        for record in users.rows(columns=5):
            if isinstance(record, Reject):
                yield record
                continue
            number, (raw_id, age, gender, occupation, zip_code) = record
            try:
                user_id = _new_id(raw_id, seen, "user id")
                age_years = parse_bounded_int(age, "age", 0, MAX_AGE)
                check_concepts(ConceptKind.GENDER, [gender_name(gender)] if gender.strip() else [])
                check_concepts(ConceptKind.OCCUPATION, [occupation] if occupation.strip() else [])
            except ValueError as exc:
                yield users.reject(number, str(exc))
                continue
            properties: dict[str, Any] = {"age": age_years}
            if zip_code.strip():
                properties["zip_code"] = zip_code.strip()
            yield User(
                user_id, properties, age_group_of(age_years), gender_name(gender), occupation
            )

    return Plan(
        movies=read_movies,
        ratings=_ratings(ratings, (0, 1, 2, 3), "u.item"),
        users=read_users if users is not None else None,
    )


def _read_genre_names(file: DelimitedFile) -> list[str]:
    """``u.genre`` (``name|index``) as names in index order; a bad line is a LoaderError."""
    by_index: dict[int, str] = {}
    for record in file.rows(columns=2):
        if isinstance(record, Reject):
            raise LoaderError(str(record))
        number, (name, index) = record
        try:
            by_index[int(index)] = name
        except ValueError:
            raise LoaderError(f"{file.name}:{number}: genre index is not an integer") from None
    if sorted(by_index) != list(range(len(by_index))):
        raise LoaderError(f"{file.name}: genre indexes are not 0..{len(by_index) - 1}")
    return [by_index[i] for i in range(len(by_index))]


# -- ml-1m ----------------------------------------------------------------------------------


def _ml1m(folder: Path) -> Plan:
    movies = DelimitedFile(folder / "movies.dat", sep="::", encoding=_LATIN1)
    ratings = DelimitedFile(folder / "ratings.dat", sep="::", encoding=_LATIN1)
    users = _optional(folder / "users.dat", sep="::", encoding=_LATIN1)

    def read_movies() -> Iterator[Movie | Reject]:
        yield from _piped_movies(movies, (0, 1, 2), width=3)

    def read_users() -> Iterator[User | Reject]:
        assert users is not None
        seen: set[str] = set()
        for record in users.rows(columns=5):
            if isinstance(record, Reject):
                yield record
                continue
            number, (raw_id, gender, age, occupation, zip_code) = record
            try:
                user_id = _new_id(raw_id, seen, "user id")
                group = ML1M_AGE_GROUPS.get(age.strip())
                job = ML1M_OCCUPATIONS.get(occupation.strip())
                if group is None:
                    raise RowError(f"unknown age code {age!r}")
                if job is None:
                    raise RowError(f"unknown occupation code {occupation!r}")
                check_concepts(ConceptKind.GENDER, [gender_name(gender)] if gender.strip() else [])
            except ValueError as exc:
                yield users.reject(number, str(exc))
                continue
            properties = {"zip_code": zip_code.strip()} if zip_code.strip() else {}
            yield User(user_id, properties, group, gender_name(gender), job)

    return Plan(
        movies=read_movies,
        ratings=_ratings(ratings, (0, 1, 2, 3), "movies.dat"),
        users=read_users if users is not None else None,
    )


#: Layout name -> the function that plans its reading.
BUILDERS: dict[str, Callable[[Path], Plan]] = {"latest": _latest, "100k": _ml100k, "1m": _ml1m}
