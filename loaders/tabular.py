"""The generic ``csv`` and ``jsonl`` formats: a catalog and a log described by a mapping.

The mapping file (:mod:`graphrec.loaders.mapping`) says which file holds the
items, the users, the interactions and, optionally, a knowledge graph, and
what each column means. CSV/TSV files have a header line or name their
columns in the mapping (``header = false``, ``columns = [...]``); JSON lines
files hold one object per line.

What becomes what:

* each catalog record -> :class:`ItemRow` (``title`` and the listed
  ``properties``, property names in lower_snake; CSV numbers become ``int`` or
  ``float``).
* each ``[[catalog.concepts]]`` column -> concepts of its ``kind`` linked with its
  ``relation``; with ``separator`` the cell (or a JSON list) holds several;
  with ``hierarchy`` the value is a path whose levels are concepts named by
  their path (``"Electronics > Audio"``), linked child -> parent by
  :class:`SubconceptRow`, the item linked to the leaf.
* each users record -> :class:`UserRow` plus :class:`UserConceptRow` edges for
  ``[[users.concepts]]``.
* each log record -> :class:`InteractionRow`: ``kind`` from the kind column
  in lower_snake (``"Add to cart"`` -> ``"add_to_cart"``) or ``default_kind``,
  ``weight`` (default 1.0), ``rating``, ``ts`` from epoch seconds or ISO 8601.
  ``weight`` and ``rating`` obey :func:`graphrec.schema.check_value`, ``ts``
  :func:`graphrec.schema.check_timestamp`. An item missing from the catalog is
  rejected; without a ``[catalog]``, items are created on first sight.
* each ``[entities]`` record -> the item's entity concept
  (``concept_id("entity", value)``, kind ``entity``) and an
  :class:`ItemConceptRow` with relation
  :data:`~graphrec.loaders.rows.LINKED_ENTITY`, as RecBole ``.link`` files.
* each ``[kg]`` record -> entity concepts for head and tail and a
  :class:`ConceptRelationRow` (``RELATED``) with the relation as written
  (NFC, format characters removed; not lower-cased: ``film.film.actor``).

User and item ids follow :func:`graphrec.schema.normalize_id`. A bad record
is a :class:`Reject` naming the file and line.

Rows come out catalog, entity links, KG triples, users, then log.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graphrec.schema import ConceptKind, normalize_id

from ._io import INT64_MAX, INT64_MIN, RowError, parse_timestamp, parse_value, property_value
from ._nodes import IdCache, Seen, check_concepts, path_names, property_name, snake
from ._table import Table
from .errors import LoaderError
from .mapping import (
    ConceptSpec,
    EntityLinkSpec,
    KGSpec,
    LogSpec,
    Mapping,
    TableSpec,
    read_mapping,
)
from .rows import (
    LINKED_ENTITY,
    ConceptRelationRow,
    InteractionRow,
    ItemConceptRow,
    Reject,
    Row,
    UserConceptRow,
)

__all__ = ["parse_csv", "parse_jsonl", "parse_tabular"]

# CSV text that is plainly a number; leading zeros (zip codes, SKUs) stay text.
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def parse_csv(path: Path, *, mapping: Path | None = None) -> Iterator[Row]:
    """Parse a catalog and log described by a mapping; files default to CSV.

    Args:
        path: The data folder (holding ``mapping.toml`` unless ``mapping`` is
            given), or the mapping file itself; see :func:`parse_tabular`.
        mapping: The mapping file (default: ``<path>/mapping.toml``).

    Raises:
        LoaderError: a missing file, an invalid mapping, or a mapped column
            that a file does not have. Raised by this call.
    """
    return parse_tabular(path, mapping=mapping, default_format="csv")


def parse_jsonl(path: Path, *, mapping: Path | None = None) -> Iterator[Row]:
    """As :func:`parse_csv`, but a file whose extension does not say is JSON lines."""
    return parse_tabular(path, mapping=mapping, default_format="jsonl")


def parse_tabular(
    path: Path, *, mapping: Path | None = None, default_format: str = "csv"
) -> Iterator[Row]:
    """Parse a catalog and log described by a mapping file.

    Args:
        path: The data folder (holding ``mapping.toml`` unless ``mapping`` is
            given), or the mapping file itself. Relative file names in the
            mapping are resolved against the folder, or against the mapping
            file's folder when ``path`` is the mapping file.
        mapping: The mapping file (default: ``<path>/mapping.toml``).
        default_format: ``"csv"``, ``"tsv"`` or ``"jsonl"``, for files whose
            extension does not say (default: ``"csv"``).
    """
    if path is None:
        raise LoaderError("the csv/jsonl formats need a folder or a mapping file path")
    path = Path(path)
    if mapping is None:
        mapping = path if path.is_file() else path / "mapping.toml"
    data_dir = path if path.is_dir() else None
    spec = read_mapping(Path(mapping), default_format=default_format, data_dir=data_dir)
    tables: dict[str, Table] = {}
    for name, section in (("catalog", spec.catalog), ("users", spec.users)):
        if section is not None:
            tables[name] = Table(section.source, spec.path, _table_columns(section), {"id"})
    if spec.entities is not None:
        columns = {"item": spec.entities.item, "entity": spec.entities.entity}
        tables["entities"] = Table(spec.entities.source, spec.path, columns, set(columns))
    if spec.kg is not None:
        columns = {"head": spec.kg.head, "relation": spec.kg.relation, "tail": spec.kg.tail}
        tables["kg"] = Table(spec.kg.source, spec.path, columns, set(columns))
    tables["log"] = Table(spec.log.source, spec.path, _log_columns(spec.log), {"user", "item"})
    return _emit(spec, tables)


def _table_columns(table: TableSpec) -> dict[str, str]:
    """Mapping key (relative to the section) -> column, e.g. ``{"id": "product_id", ...}``."""
    columns = {"id": table.id}
    if table.title:
        columns["title"] = table.title
    for i, column in enumerate(table.properties, 1):
        columns[f"properties[{i}]"] = column
    for i, concept in enumerate(table.concepts, 1):
        columns[f"concepts[{i}].column"] = concept.column
    return columns


def _log_columns(log: LogSpec) -> dict[str, str]:
    keys = ("user", "item", "timestamp", "weight", "kind", "rating")
    return {k: getattr(log, k) for k in keys if getattr(log, k)}


def _emit(spec: Mapping, tables: dict[str, Table]) -> Iterator[Row]:
    seen = Seen()
    catalog = None
    if spec.catalog is not None:
        yield from _table_rows(tables["catalog"], spec.catalog, seen, is_item=True)
        catalog = tables["catalog"].source.path.name
    if spec.entities is not None:
        yield from _entity_rows(tables["entities"], spec.entities, seen, catalog)
    if spec.kg is not None:
        yield from _kg_rows(tables["kg"], spec.kg, seen)
    if spec.users is not None:
        yield from _table_rows(tables["users"], spec.users, seen, is_item=False)
    yield from _log_rows(tables["log"], spec.log, seen, catalog)


def _item_ref(item_id: str, seen: Seen, catalog: str | None) -> Row | None:
    """Check an item named outside the catalog; without a catalog, its row on first sight."""
    if catalog is None:
        return seen.item(item_id)
    if item_id not in seen.items:
        raise RowError(f"unknown item {item_id!r} (not in {catalog})")
    return None


def _entity_rows(
    table: Table, spec: EntityLinkSpec, seen: Seen, catalog: str | None
) -> Iterator[Row]:
    item_ids = IdCache("item id")
    for record in table.records():
        if isinstance(record, Reject):
            yield record
            continue
        number, values = record
        try:
            item_id = item_ids[_id_text(values[spec.item], spec.item, "item id")]
            entity = _scalar(values[spec.entity], spec.entity)
            check_concepts(ConceptKind.ENTITY, [entity])
            item = _item_ref(item_id, seen, catalog)
        except ValueError as exc:
            yield table.reject(number, str(exc))
            continue
        if item:
            yield item
        cid, concept = seen.concept(ConceptKind.ENTITY, entity)
        if concept:
            yield concept
        yield ItemConceptRow(item_id, cid, LINKED_ENTITY)


def _kg_rows(table: Table, spec: KGSpec, seen: Seen) -> Iterator[Row]:
    for record in table.records():
        if isinstance(record, Reject):
            yield record
            continue
        number, values = record
        try:
            head = _scalar(values[spec.head], spec.head)
            tail = _scalar(values[spec.tail], spec.tail)
            relation = normalize_id(
                _scalar(values[spec.relation], spec.relation), field="relation", url_path=False
            )
            check_concepts(ConceptKind.ENTITY, [head, tail])
        except ValueError as exc:
            yield table.reject(number, str(exc))
            continue
        head_id, head_row = seen.concept(ConceptKind.ENTITY, head)
        if head_row:
            yield head_row
        tail_id, tail_row = seen.concept(ConceptKind.ENTITY, tail)
        if tail_row:
            yield tail_row
        yield ConceptRelationRow(head_id, relation, tail_id)


def _table_rows(table: Table, spec: TableSpec, seen: Seen, *, is_item: bool) -> Iterator[Row]:
    ids: set[str] = set()
    what = "item id" if is_item else "user id"
    for record in table.records():
        if isinstance(record, Reject):
            yield record
            continue
        number, values = record
        try:
            node_id = _id(values[spec.id], spec.id, what)
            if node_id in ids:
                raise RowError(f"duplicate {what} {node_id!r}")
            properties = {
                property_name(c): _property(values[c], c)
                for c in spec.properties
                if values[c] is not None
            }
            planned = [(c, _concept_paths(c, values[c.column])) for c in spec.concepts]
        except ValueError as exc:
            yield table.reject(number, str(exc))
            continue
        ids.add(node_id)
        if is_item:
            title = str(values[spec.title]).strip() if spec.title and values[spec.title] else ""
            node = seen.item(node_id, title or None, properties)
        else:
            node = seen.user(node_id, properties)
        if node:
            yield node
        for concept, paths in planned:
            for names in paths:
                cid, new = seen.concept_path(concept.kind, names)
                yield from new
                if is_item:
                    yield ItemConceptRow(node_id, cid, concept.relation)
                else:
                    yield UserConceptRow(node_id, cid, concept.relation)


def _concept_paths(spec: ConceptSpec, value: Any) -> list[list[str]]:
    """The concept values of one cell, each as a path (length 1 without ``hierarchy``).

    Checked here so a bad value rejects the line before anything is marked seen.
    """
    if value is None:
        return []
    if isinstance(value, list):
        values = [_scalar(v, spec.column) for v in value]
    else:
        text = _scalar(value, spec.column)
        values = text.split(spec.separator) if spec.separator else [text]
    paths = []
    for text in values:
        parts = text.split(spec.hierarchy) if spec.hierarchy else [text]
        if not any(p.strip() for p in parts):
            continue
        check_concepts(spec.kind, path_names(parts))
        paths.append(parts)
    return paths


def _log_rows(log: Table, spec: LogSpec, seen: Seen, catalog: str | None) -> Iterator[Row]:
    user_ids, item_ids = IdCache("user id"), IdCache("item id")
    for record in log.records():
        if isinstance(record, Reject):
            yield record
            continue
        number, values = record
        try:
            user_id = user_ids[_id_text(values[spec.user], spec.user, "user id")]
            item_id = item_ids[_id_text(values[spec.item], spec.item, "item id")]
            if catalog is not None and item_id not in seen.items:
                raise RowError(f"unknown item {item_id!r} (not in {catalog})")
            row = InteractionRow(
                user_id,
                item_id,
                _kind(values[spec.kind], spec) if spec.kind else spec.default_kind,
                _number(values[spec.weight], "weight", 1.0) if spec.weight else 1.0,
                _number(values[spec.rating], "rating", None) if spec.rating else None,
                _time(values[spec.timestamp]) if spec.timestamp else None,
            )
        except ValueError as exc:
            yield log.reject(number, str(exc))
            continue
        item = seen.item(item_id) if catalog is None else None
        if item:
            yield item
        user = seen.user(user_id)
        if user:
            yield user
        yield row


def _id(value: Any, column: str, what: str) -> str:
    """A user or item id cell under :func:`graphrec.schema.normalize_id`."""
    return normalize_id(_id_text(value, column, what), field=what)


def _id_text(value: Any, column: str, what: str) -> str:
    """The raw text of an id cell, for an :class:`IdCache`; JSON booleans are refused."""
    if isinstance(value, bool):
        raise RowError(f"{what} is not an id: {value!r} ({column})")
    return _scalar(value, column)


def _scalar(value: Any, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise RowError(f"{column} must be a single value, got {type(value).__name__}")
    return str(value)


def _kind(value: Any, spec: LogSpec) -> str:
    kind = snake(_scalar(value, spec.kind or "kind"))
    return kind or spec.default_kind


def _number(value: Any, what: str, default: float | None) -> float | None:
    """A weight or rating cell, checked by :func:`graphrec.schema.check_value`."""
    if value is None:
        return default
    if isinstance(value, (bool, dict, list)):
        raise RowError(f"{what} is not a number: {value!r}")
    return parse_value(value if isinstance(value, str) else str(value), what)


def _time(value: Any) -> int | None:
    return None if value is None else parse_timestamp(value)


def _homogeneous(values: list[Any], column: str) -> list[Any]:
    """A list the graph can store as a property: all text, all booleans, or all numbers."""
    if all(isinstance(v, str) for v in values) or all(isinstance(v, bool) for v in values):
        return values
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values] if any(isinstance(v, float) for v in values) else values
    raise RowError(f"{column} must be a list of strings, numbers or booleans, not a mix")


def _property(value: Any, column: str) -> Any:
    """A property value: JSON scalars and lists as they are, CSV text auto-typed.

    A JSON number the graph cannot store (NaN, infinity, an integer beyond 64
    bits) rejects the line; CSV text that would be such a number stays text.
    """
    if isinstance(value, dict):
        raise RowError(f"{column} must not be an object")
    if isinstance(value, list):
        return property_value(_homogeneous(value, column), column)
    if not isinstance(value, str):
        return property_value(value, column)
    text = value.strip()
    if _INTEGER.fullmatch(text):
        number = int(text)
        return number if INT64_MIN <= number <= INT64_MAX else text
    if _DECIMAL.fullmatch(text):
        decimal = float(text)
        return decimal if math.isfinite(decimal) else text
    return text  # including "01234": a code, not a number
