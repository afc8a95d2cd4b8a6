"""RecBole atomic files: ``<name>.inter``, ``.item``, ``.user``, ``.kg``, ``.link``.

Every file is tab-separated with a typed header (``user_id:token``,
``rating:float``, ``class:token_seq`` ...); types are ``token``,
``token_seq`` (space-separated list), ``float`` and ``float_seq``. Only
``.inter`` is required.

What becomes what:

* ``.item`` -> :class:`ItemRow`. A ``token``/``token_seq`` field named
  ``title``, ``movie_title``, ``name`` or ``item_name`` is the title.
  ``token_seq`` fields become concepts, one per value, with the kind taken from
  the field name (:data:`FIELD_KINDS`: ``genre``/``genres``/``class`` ->
  genre, ``category``/``categories`` -> category, ``brand`` -> brand,
  ``tag``/``tags`` -> tag, ``author``/``authors`` -> author) and relation
  ``has_<kind>``; any other ``token_seq`` field gives ``entity`` concepts with
  relation ``has_<field>``. A ``token`` field named like a concept kind above
  (e.g. Amazon's ``brand:token``) is one concept. ``year``/``release_year``
  becomes the integer property ``year`` plus a ``has_decade`` concept. Other
  ``token`` fields and all ``float``/``float_seq`` fields become properties.
* ``.user`` -> :class:`UserRow`; ``age`` (raw ages put into the ML-1M bins),
  ``gender`` and ``occupation`` become attribute concepts (``has_age_group``,
  ``has_gender``, ``has_occupation``); other fields become properties.
* ``.kg`` (``head_id``, ``relation_id``, ``tail_id``) -> entity concepts
  (``concept_id("entity", id)``) and :class:`ConceptRelationRow` with the
  relation as given.
* ``.link`` (``item_id``, ``entity_id``) -> :class:`ItemConceptRow` with
  relation :data:`~graphrec.loaders.rows.LINKED_ENTITY` to the entity concept.
* ``.inter`` -> :class:`InteractionRow` (``rating`` and ``timestamp`` fields
  when present; other fields are ignored). Kind is ``"rating"`` when there is
  a rating field, else ``"interacted"``.

When a ``.item`` file exists it is the catalog and any other file naming an
item outside it is rejected; without one, items are created on first sight.
Rows come out in the order ``.item``, ``.kg``, ``.link``, ``.user``, ``.inter``.
Other atomic files (``.net``, ``.sess``) are not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphrec.schema import DEFAULT_INTERACTION_KIND, ConceptKind, normalize_id

from ._io import (
    DelimitedFile,
    RowError,
    parse_bounded_int,
    parse_float,
    parse_timestamp,
    parse_value,
    require_dir,
)
from ._nodes import IdCache, Seen, check_concepts, decade_name, property_name, snake
from ._user_attributes import MAX_AGE, age_group_of, gender_name, user_attribute_rows
from .errors import LoaderError
from .rows import (
    LINKED_ENTITY,
    ConceptRelationRow,
    InteractionRow,
    ItemConceptRow,
    Reject,
    Row,
)

__all__ = ["FIELD_KINDS", "parse_recbole"]

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
class _Field:
    name: str
    type: str
    index: int


class _AtomicFile:
    """One atomic file: a :class:`DelimitedFile` plus its typed header."""

    def __init__(self, path: Path) -> None:
        self.file = DelimitedFile(path, sep="\t", header=True)
        assert self.file.header is not None
        self.fields: dict[str, _Field] = {}
        for index, raw in enumerate(self.file.header):
            name, colon, type_ = raw.partition(":")
            if not colon or not name:
                raise LoaderError(f"{path}: header field {raw!r} is not 'name:type'")
            if type_ not in FIELD_TYPES:
                raise LoaderError(
                    f"{path}: header field {raw!r} has unknown type {type_!r} "
                    f"(known: {', '.join(FIELD_TYPES)})"
                )
            self.fields[name] = _Field(name, type_, index)

    def field(self, name: str, *, option: str | None = None) -> _Field:
        try:
            return self.fields[name]
        except KeyError:
            hint = f"; pick another with {option}=..." if option else ""
            raise LoaderError(
                f"{self.file.path}: no field {name!r} in the header "
                f"(fields: {', '.join(self.fields)}{hint})"
            ) from None

    def optional(self, name: str) -> _Field | None:
        return self.fields.get(name)


def parse_recbole(
    path: Path,
    *,
    dataset: str | None = None,
    kind: str | None = None,
    user_field: str = "user_id",
    item_field: str = "item_id",
    rating_field: str = "rating",
    time_field: str = "timestamp",
) -> Iterator[Row]:
    """Parse a folder of RecBole atomic files.

    Args:
        path: The folder holding ``<dataset>.inter`` and friends.
        dataset: The file stem; needed only when the folder holds several
            ``.inter`` files (default: the only one there).
        kind: Interaction kind (default: ``"rating"`` when ``.inter`` has a
            rating field, else ``"interacted"``).
        user_field: User id field in ``.inter``/``.user`` (default: ``"user_id"``).
        item_field: Item id field in ``.inter``/``.item``/``.link``
            (default: ``"item_id"``).
        rating_field: Rating field in ``.inter`` (default: ``"rating"``).
        time_field: Timestamp field in ``.inter`` (default: ``"timestamp"``).

    Raises:
        LoaderError: no or ambiguous ``.inter`` file, a bad header, a missing
            id field. Raised by this call, before any row is produced.
    """
    folder = require_dir(path, "recbole")
    if dataset is None:
        stems = sorted(p.stem for p in folder.glob("*.inter"))
        if len(stems) != 1:
            found = ", ".join(stems) if stems else "none"
            raise LoaderError(
                f"{folder}: expected exactly one .inter file, found {found} "
                "(pick one with dataset=...)"
            )
        dataset = stems[0]
    files = {
        ext: _AtomicFile(folder / f"{dataset}.{ext}")
        for ext in ("inter", "item", "user", "kg", "link")
        if ext == "inter" or (folder / f"{dataset}.{ext}").is_file()
    }
    inter = files["inter"]
    inter_cols = (
        inter.field(user_field, option="user_field"),
        inter.field(item_field, option="item_field"),
        inter.optional(rating_field),
        inter.optional(time_field),
    )
    if kind is None:
        kind = "rating" if inter_cols[2] is not None else DEFAULT_INTERACTION_KIND
    item_reader = _ItemReader(files["item"], item_field) if "item" in files else None
    user_reader = _UserReader(files["user"], user_field) if "user" in files else None
    kg_cols = None
    if "kg" in files:
        kg = files["kg"]
        kg_cols = tuple(kg.field(n) for n in ("head_id", "relation_id", "tail_id"))
    link_cols = None
    if "link" in files:
        link = files["link"]
        link_cols = (link.field(item_field, option="item_field"), link.field("entity_id"))
    return _emit(files, item_reader, user_reader, kg_cols, link_cols, inter_cols, kind)


def _emit(
    files: dict[str, _AtomicFile],
    item_reader: _ItemReader | None,
    user_reader: _UserReader | None,
    kg_cols: tuple[_Field, ...] | None,
    link_cols: tuple[_Field, _Field] | None,
    inter_cols: tuple[_Field, _Field, _Field | None, _Field | None],
    kind: str,
) -> Iterator[Row]:
    seen = Seen()
    catalog = f"{files['item'].file.path.name}" if item_reader else None
    if item_reader is not None:
        yield from item_reader.rows(seen)
    if kg_cols is not None:
        yield from _kg_rows(files["kg"].file, kg_cols, seen)
    if link_cols is not None:
        yield from _link_rows(files["link"].file, link_cols, seen, catalog)
    if user_reader is not None:
        yield from user_reader.rows(seen)
    yield from _inter_rows(files["inter"].file, inter_cols, kind, seen, catalog)


def _item_ref(raw: str, seen: Seen, catalog: str | None) -> tuple[str, Row | None]:
    """An item id from a non-catalog file: checked against the catalog, or created."""
    item_id = normalize_id(raw, field="item id")
    if catalog is not None:
        if item_id not in seen.items:
            raise RowError(f"unknown item {item_id!r} (not in {catalog})")
        return item_id, None
    return item_id, seen.item(item_id)


def _kg_rows(file: DelimitedFile, cols: tuple[_Field, ...], seen: Seen) -> Iterator[Row]:
    head_col, relation_col, tail_col = (c.index for c in cols)
    for record in file.rows():
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            relation = normalize_id(fields[relation_col], field="relation", url_path=False)
            check_concepts(ConceptKind.ENTITY, [fields[head_col], fields[tail_col]])
            head, head_row = seen.concept(ConceptKind.ENTITY, fields[head_col])
            tail, tail_row = seen.concept(ConceptKind.ENTITY, fields[tail_col])
        except ValueError as exc:
            yield file.reject(number, str(exc))
            continue
        if head_row:
            yield head_row
        if tail_row:
            yield tail_row
        yield ConceptRelationRow(head, relation, tail)


def _link_rows(
    file: DelimitedFile, cols: tuple[_Field, _Field], seen: Seen, catalog: str | None
) -> Iterator[Row]:
    item_col, entity_col = (c.index for c in cols)
    for record in file.rows():
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            check_concepts(ConceptKind.ENTITY, [fields[entity_col]])
            item_id, item_row = _item_ref(fields[item_col], seen, catalog)
            entity, entity_row = seen.concept(ConceptKind.ENTITY, fields[entity_col])
        except ValueError as exc:
            yield file.reject(number, str(exc))
            continue
        if item_row:
            yield item_row
        if entity_row:
            yield entity_row
        yield ItemConceptRow(item_id, entity, LINKED_ENTITY)


def _inter_rows(
    file: DelimitedFile,
    cols: tuple[_Field, _Field, _Field | None, _Field | None],
    kind: str,
    seen: Seen,
    catalog: str | None,
) -> Iterator[Row]:
    user_col, item_col = cols[0].index, cols[1].index
    rating_col = cols[2].index if cols[2] else None
    time_col = cols[3].index if cols[3] else None
    user_ids = IdCache("user id")
    for record in file.rows():
        if isinstance(record, Reject):
            yield record
            continue
        number, fields = record
        try:
            user_id = user_ids[fields[user_col]]
            item_id, item_row = _item_ref(fields[item_col], seen, catalog)
            rating = None
            if rating_col is not None and fields[rating_col].strip():
                rating = parse_value(fields[rating_col], "rating")
            ts = None
            if time_col is not None and fields[time_col].strip():
                ts = parse_timestamp(fields[time_col])
        except ValueError as exc:
            yield file.reject(number, str(exc))
            continue
        if item_row:
            yield item_row
        user_row = seen.user(user_id)
        if user_row:
            yield user_row
        yield InteractionRow(user_id, item_id, kind, 1.0, rating, ts)


def _property(field: _Field, text: str) -> Any:
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


class _ItemReader:
    """Turns ``.item`` records into item rows, concept rows and edges."""

    def __init__(self, atomic: _AtomicFile, item_field: str) -> None:
        self.file = atomic.file
        self.id_col = atomic.field(item_field, option="item_field").index
        self.title_col: int | None = None
        self.concepts: list[tuple[int, ConceptKind, str, bool]] = []
        self.year_col: int | None = None
        self.properties: list[_Field] = []
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


class _UserReader:
    """Turns ``.user`` records into user rows, attribute concepts and edges."""

    def __init__(self, atomic: _AtomicFile, user_field: str) -> None:
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
