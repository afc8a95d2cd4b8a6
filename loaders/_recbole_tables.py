"""RecBole atomic files: the typed header, and the ``.item`` and ``.user`` readers.

Used by :mod:`graphrec.loaders.recbole`, whose docstring says what becomes
what. A bad value rejects its line: numbers must be finite, a ``year`` of
digits lies in 0 to 9999, a numeric ``age`` in 0 to 150.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphrec.schema import ConceptKind, normalize_id

from ._io import DelimitedFile, RowError, parse_bounded_int, parse_float
from ._nodes import Seen, check_concepts, decade_name, property_name, snake
from ._user_attributes import MAX_AGE, age_group_of, gender_name, user_attribute_rows
from .errors import LoaderError
from .rows import ItemConceptRow, Reject, Row

__all__ = ["FIELD_KINDS", "AtomicFile", "Field", "ItemReader", "UserReader"]


#: Item field name -> concept kind. Unlisted ``token_seq`` fields give ``entity``.
FIELD_KINDS: dict[str, ConceptKind] = {
    "genre": ConceptKind.GENRE,
    "genres": ConceptKind.GENRE,
    "class": ConceptKind.GENRE,  # RecBole's ml-100k/ml-1m name for genres
    "category": ConceptKind.CATEGORY,
    "categories": ConceptKind.CATEGORY,
    "brand": ConceptKind.BRAND,
    "brands": ConceptKind.BRAND,
    "tag": ConceptKind.TAG,
    "tags": ConceptKind.TAG,
    "author": ConceptKind.AUTHOR,
    "authors": ConceptKind.AUTHOR,
}

TITLE_FIELDS = ("title", "movie_title", "name", "item_name")
YEAR_FIELDS = ("year", "release_year")
FIELD_TYPES = ("token", "token_seq", "float", "float_seq")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    index: int


class AtomicFile:
    """One atomic file: a :class:`DelimitedFile` plus its typed header."""

    def __init__(self, path: Path) -> None:
        self.file = DelimitedFile(path, sep="\t", header=True)
        assert self.file.header is not None
        self.fields: dict[str, Field] = {}
        for index, raw in enumerate(self.file.header):
            name, colon, type_ = raw.partition(":")
            if not colon or not name:
                raise LoaderError(f"{path}: header field {raw!r} is not 'name:type'")
            if type_ not in FIELD_TYPES:
                raise LoaderError(
                    f"{path}: header field {raw!r} has unknown type {type_!r} "
                    f"(known: {', '.join(FIELD_TYPES)})"
                )
            self.fields[name] = Field(name, type_, index)

    def field(self, name: str, *, option: str | None = None) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            hint = f"; pick another with {option}=..." if option else ""
            raise LoaderError(
                f"{self.file.path}: no field {name!r} in the header "
                f"(fields: {', '.join(self.fields)}{hint})"
            ) from None

    def optional(self, name: str) -> Field | None:
        return self.fields.get(name)


def _property(field: Field, text: str) -> Any:
    """The value of a property field, or ``None`` when it is empty."""
    text = text.strip()
    if not text:
        return None
    if field.type == "float":
        return parse_float(text, field.name)
    if field.type == "float_seq":
        return [parse_float(v, field.name) for v in text.split()]
    if field.type == "token_seq":
        return text.split()
    return text


def _year(text: str) -> int | str | None:
    """A year field: an integer year (0 to 9999) when it is all digits, else the text.

    Raises:
        RowError: digits outside 0 to 9999.
    """
    text = text.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return parse_bounded_int(text, "year", 0, 9999)
    return text


def _age(text: str) -> int | None:
    """A raw age in years, or ``None`` when the field holds a group name such as ``"25-34"``.

    Raises:
        RowError: a number outside 0 to :data:`MAX_AGE`.
    """
    try:
        years = float(text)
    except ValueError:
        return None
    if not 0 <= years <= MAX_AGE:  # also refuses NaN
        raise RowError(f"age out of range: {text!r} (0 to {MAX_AGE})")
    return int(years)


class ItemReader:
    """Turns ``.item`` records into item rows, concept rows and edges."""

    def __init__(self, atomic: AtomicFile, item_field: str) -> None:
        self.file = atomic.file
        self.id_col = atomic.field(item_field, option="item_field").index
        self.title_col: int | None = None
        self.concepts: list[tuple[int, ConceptKind, str, bool]] = []
        self.year_col: int | None = None
        self.properties: list[Field] = []
        for field in atomic.fields.values():
            name = field.name.lower()
            if field.name == item_field:
                continue
            if self.title_col is None and name in TITLE_FIELDS and "token" in field.type:
                self.title_col = field.index
            elif name in YEAR_FIELDS and field.type == "token" and self.year_col is None:
                self.year_col = field.index
            elif name in FIELD_KINDS and field.type in ("token", "token_seq"):
                kind = FIELD_KINDS[name]
                self.concepts.append(
                    (field.index, kind, f"has_{kind.value}", field.type == "token_seq")
                )
            elif field.type == "token_seq":
                relation = f"has_{snake(field.name)}"
                self.concepts.append((field.index, ConceptKind.ENTITY, relation, True))
            else:
                self.properties.append(field)

    def rows(self, seen: Seen) -> Iterator[Row]:
        ids: set[str] = set()
        for record in self.file.rows():
            if isinstance(record, Reject):
                yield record
                continue
            number, fields = record
            try:
                item_id = normalize_id(fields[self.id_col], field="item id")
                if item_id in ids:
                    raise RowError(f"duplicate item id {item_id!r}")
                properties = self._properties(fields)
                edges = self._edges(item_id, fields, seen)
            except ValueError as exc:
                yield self.file.reject(number, str(exc))
                continue
            ids.add(item_id)
            title = None
            if self.title_col is not None:
                title = fields[self.title_col].strip() or None
            item = seen.item(item_id, title, properties)
            if item:
                yield item
            yield from edges

    def _properties(self, fields: list[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for field in self.properties:
            value = _property(field, fields[field.index])
            if value is not None:
                properties[property_name(field.name)] = value
        if self.year_col is not None:
            year = _year(fields[self.year_col])
            if year is not None:
                properties["year"] = year
        return properties

    def _edges(self, item_id: str, fields: list[str], seen: Seen) -> list[Row]:
        """New concept rows and item edges; computed whole so a bad value rejects the line."""
        rows: list[Row] = []
        pending: list[tuple[ConceptKind, str, str]] = []
        for index, kind, relation, is_seq in self.concepts:
            text = fields[index].strip()
            values = text.split() if is_seq else [text]
            pending.extend((kind, relation, v) for v in values if v)
        year = _year(fields[self.year_col]) if self.year_col is not None else None
        if isinstance(year, int):
            pending.append((ConceptKind.DECADE, "has_decade", decade_name(year)))
        pending = list(dict.fromkeys(pending))  # "Action Action" is one edge
        for kind, _, name in pending:
            check_concepts(kind, [name])
        for kind, relation, name in pending:
            cid, concept = seen.concept(kind, name)
            if concept:
                rows.append(concept)
            rows.append(ItemConceptRow(item_id, cid, relation))
        return rows


class UserReader:
    """Turns ``.user`` records into user rows, attribute concepts and edges."""

    def __init__(self, atomic: AtomicFile, user_field: str) -> None:
        self.file = atomic.file
        self.id_col = atomic.field(user_field, option="user_field").index
        self.attributes = {
            name: field.index
            for name, field in atomic.fields.items()
            if name in ("age", "gender", "occupation") and field.type in ("token", "float")
        }
        self.properties = [
            f
            for f in atomic.fields.values()
            if f.name != user_field and f.name not in self.attributes
        ]

    def rows(self, seen: Seen) -> Iterator[Row]:
        for record in self.file.rows():
            if isinstance(record, Reject):
                yield record
                continue
            number, fields = record
            try:
                user_id = normalize_id(fields[self.id_col], field="user id")
                if user_id in seen.users:
                    raise RowError(f"duplicate user id {user_id!r}")
                properties = {}
                for field in self.properties:
                    value = _property(field, fields[field.index])
                    if value is not None:
                        properties[property_name(field.name)] = value
                attrs = {k: fields[i].strip() for k, i in self.attributes.items()}
                check_concepts(ConceptKind.GENDER, [gender_name(attrs.get("gender") or "-")])
                check_concepts(ConceptKind.OCCUPATION, [attrs.get("occupation") or "-"])
                check_concepts(ConceptKind.AGE_GROUP, [attrs.get("age") or "-"])
                age: str | None = attrs.get("age") or None
                if age is not None and (years := _age(age)) is not None:
                    properties["age"] = years
                    age = age_group_of(years)
            except ValueError as exc:
                yield self.file.reject(number, str(exc))
                continue
            gender = attrs.get("gender")
            row = seen.user(user_id, properties)
            if row:
                yield row
            yield from user_attribute_rows(
                seen,
                user_id,
                age_group=age,
                gender=gender_name(gender) if gender else None,
                occupation=attrs.get("occupation"),
            )
