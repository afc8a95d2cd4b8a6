"""One file of the generic csv/jsonl format, read as ``{column: value}`` records.

CSV and TSV files either name their columns in a header line or, with
``header = false`` in the mapping, get the names from ``columns``; JSON lines
files hold one object per line. Used by :mod:`graphrec.loaders.tabular`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._io import DelimitedFile, read_lines
from .errors import LoaderError
from .mapping import FileSpec
from .rows import Reject

__all__ = ["Record", "Table"]

Record = dict[str, Any]


class Table:
    """The mapped columns of one file, read as ``{column: value}`` records.

    An empty CSV cell reads as ``None``, like a JSON field that is absent.

    Args:
        source: The file spec from the mapping.
        mapping: The mapping file, for messages.
        columns: Mapping key (relative to the section) -> column name.
        required: Keys whose column must exist (always checked for CSV, on
            the first record for JSON lines, where other keys may be absent).

    Raises:
        LoaderError: the file is missing, or a mapped column is not in its
            header (or its ``columns``).
    """

    def __init__(
        self, source: FileSpec, mapping: Path, columns: dict[str, str], required: set[str]
    ) -> None:
        self.source = source
        self.name = str(source.path)
        self.columns = sorted(set(columns.values()))
        self.csv: DelimitedFile | None = None
        self._index: dict[str, int] = {}
        if not source.path.is_file():
            raise LoaderError(f"{source.path}: {source.section}.file not found (from {mapping})")
        if source.format == "jsonl":
            self._check_first_record(mapping, columns, required)
            return
        self.csv = DelimitedFile(
            source.path,
            sep=source.delimiter,
            encoding=source.encoding,
            quoted=source.quoting,
            header=source.header,
        )
        names = self.csv.header if self.csv.header is not None else list(source.columns)
        for key, column in columns.items():
            if column not in names:
                where = "header" if source.header else f"{source.section}.columns"
                raise LoaderError(
                    f"{mapping}: {source.section}.{key} column {column!r} not found in "
                    f"{source.path.name} {where} (columns: {', '.join(names)})"
                )
        self._index = {c: names.index(c) for c in self.columns}
        self._width = len(names)

    def reject(self, line: int, reason: str) -> Reject:
        return Reject(self.name, line, reason)

    def records(self) -> Iterator[tuple[int, Record] | Reject]:
        if self.csv is not None:
            yield from self._csv_records(self.csv)
        else:
            yield from self._json_records()

    def _csv_records(self, file: DelimitedFile) -> Iterator[tuple[int, Record] | Reject]:
        indices = list(self._index.items())
        for record in file.rows(columns=self._width):
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
            except RecursionError:
                yield self.reject(number, "invalid JSON: nested too deeply")
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
            except (json.JSONDecodeError, RecursionError):
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
