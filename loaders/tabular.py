"""The generic ``csv`` and ``jsonl`` formats: a catalog and a log described by a mapping.

The mapping file (:mod:`graphrec.loaders.mapping`) says which file holds the
items, the users and the interactions and what each column means. CSV/TSV
files need a header line; JSON lines files hold one object per line.

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
  An item missing from the catalog is rejected.

Rows come out catalog, users, then log.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graphrec.schema import normalize_id

from ._io import (
    INT64_MAX,
    INT64_MIN,
    DelimitedFile,
    RowError,
    parse_timestamp,
    parse_value,
    property_value,
    read_lines,
)
from ._nodes import IdCache, Seen, check_concepts, path_names, property_name, snake
from .errors import LoaderError
from .mapping import ConceptSpec, FileSpec, LogSpec, Mapping, TableSpec, read_mapping
from .rows import InteractionRow, ItemConceptRow, Reject, Row, UserConceptRow

__all__ = ["parse_csv", "parse_jsonl", "parse_tabular"]

Record = dict[str, Any]

# CSV text that is plainly a number; leading zeros (zip codes, SKUs) stay text.
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def parse_csv(path: Path, *, mapping: Path | None = None) -> Iterator[Row]:
    """Parse a catalog and log described by a mapping; files default to CSV.

    Args:
        path: The folder holding ``mapping.toml``, or the mapping file itself.
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
        path: The folder holding ``mapping.toml``, or the mapping file itself.
        mapping: The mapping file (default: ``<path>/mapping.toml``).
        default_format: ``"csv"``, ``"tsv"`` or ``"jsonl"``, for files whose
            extension does not say (default: ``"csv"``).
    """
    if path is None:
        raise LoaderError("the csv/jsonl formats need a folder or a mapping file path")
    path = Path(path)
    if mapping is None:
        mapping = path if path.is_file() else path / "mapping.toml"
    spec = read_mapping(Path(mapping), default_format=default_format)
    catalog = _Table(spec.catalog.source, spec.path, _table_columns(spec.catalog), {"id"})
    users = None
    if spec.users is not None:
        users = _Table(spec.users.source, spec.path, _table_columns(spec.users), {"id"})
    log = _Table(spec.log.source, spec.path, _log_columns(spec.log), {"user", "item"})
    return _emit(spec, catalog, users, log)


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


class _Table:
    """The mapped columns of one file, read as ``{column: value}`` records.

    Args:
        source: The file spec from the mapping.
        mapping: The mapping file, for messages.
        columns: Mapping key (relative to the section) -> column name.
        required: Keys whose column must exist (always checked for CSV, on
            the first record for JSON lines, where other keys may be absent).
    """

    def __init__(
        self, source: FileSpec, mapping: Path, columns: dict[str, str], required: set[str]
    ) -> None:
        self.source = source
        self.name = str(source.path)
        self.columns = sorted(set(columns.values()))
        self.csv: DelimitedFile | None = None
        if not source.path.is_file():
            raise LoaderError(f"{source.path}: {source.section}.file not found (from {mapping})")
        if source.format == "jsonl":
            self._check_first_record(mapping, columns, required)
        else:
            self.csv = DelimitedFile(
                source.path,
                sep=source.delimiter,
                encoding=source.encoding,
                quoted=True,
                header=True,
            )
            for key, column in columns.items():
                self.csv.column_index(column, what=f"{mapping}: {source.section}.{key}")

    def reject(self, line: int, reason: str) -> Reject:
        return Reject(self.name, line, reason)

    def records(self) -> Iterator[tuple[int, Record] | Reject]:
        if self.csv is not None:
            yield from self._csv_records(self.csv)
        else:
            yield from self._json_records()

    def _csv_records(self, file: DelimitedFile) -> Iterator[tuple[int, Record] | Reject]:
        indices = [(c, file.column_index(c)) for c in self.columns]
        for record in file.rows():
            if isinstance(record, Reject):
                yield record
                continue
            number, fields = record
            yield number, {c: (fields[i] if fields[i].strip() else None) for c, i in indices}

    def _json_records(self) -> Iterator[tuple[int, Record] | Reject]:
        for entry in read_lines(self.source.path, encoding=self.source.encoding):
            if isinstance(entry, Reject):
                yield entry
                continue
            number, text = entry
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield self.reject(number, f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(value, dict):
                yield self.reject(number, f"expected a JSON object, found {type(value).__name__}")
                continue
            yield number, {c: value.get(c) for c in self.columns}

    def _check_first_record(
        self, mapping: Path, columns: dict[str, str], required: set[str]
    ) -> None:
        for entry in read_lines(self.source.path, encoding=self.source.encoding):
            if isinstance(entry, Reject):
                continue
            number, text = entry
            try:
                first = json.loads(text)
            except json.JSONDecodeError:
                continue
            if not isinstance(first, dict):
                continue
            for key in sorted(required):
                if columns[key] not in first:
                    raise LoaderError(
                        f"{mapping}: {self.source.section}.{key} field {columns[key]!r} "
                        f"not found in the first record of {self.source.path.name} (line {number})"
                    )
            return


def _emit(spec: Mapping, catalog: _Table, users: _Table | None, log: _Table) -> Iterator[Row]:
    seen = Seen()
    yield from _table_rows(catalog, spec.catalog, seen, is_item=True)
    if users is not None and spec.users is not None:
        yield from _table_rows(users, spec.users, seen, is_item=False)
    yield from _log_rows(log, spec.log, seen, catalog.source.path.name)


def _table_rows(table: _Table, spec: TableSpec, seen: Seen, *, is_item: bool) -> Iterator[Row]:
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


def _log_rows(log: _Table, spec: LogSpec, seen: Seen, catalog: str) -> Iterator[Row]:
    items = seen.items
    user_ids, item_ids = IdCache("user id"), IdCache("item id")
    for record in log.records():
        if isinstance(record, Reject):
            yield record
            continue
        number, values = record
        try:
            user_id = user_ids[_id_text(values[spec.user], spec.user, "user id")]
            item_id = item_ids[_id_text(values[spec.item], spec.item, "item id")]
            if item_id not in items:
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
