"""Line reading shared by every parser: bytes in, decoded lines or rejects out.

Files are read as bytes and decoded one line at a time, so one undecodable
line becomes a :class:`~graphrec.loaders.rows.Reject` instead of killing the
whole file. Line numbers are 1-based physical line numbers in the file.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphrec.schema import InvalidValueError, check_timestamp, check_value

from .errors import LoaderError
from .rows import Reject

#: A quoted CSV field may span at most this many physical lines; past that the
#: record is rejected rather than swallowing the rest of the file.
MAX_CONTINUATION_LINES = 100

#: The range of a Bolt (and Neo4j) integer property.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

Line = tuple[int, str]
Fields = tuple[int, list[str]]


class RowError(ValueError):
    """A bad value in one row. Parsers turn it into a Reject and carry on."""


def require_file(path: Path, what: str = "required file") -> Path:
    """Return ``path`` if it is a file, else raise :class:`LoaderError` naming it."""
    if not path.is_file():
        raise LoaderError(f"{path}: {what} not found")
    return path


def require_dir(path: Path | None, fmt: str) -> Path:
    """Return ``path`` if it is a folder, else raise :class:`LoaderError` naming it."""
    if path is None:
        raise LoaderError(f"the {fmt} format needs a folder path")
    path = Path(path)
    if not path.is_dir():
        raise LoaderError(f"{path}: not a folder ({fmt} format expects a folder)")
    return path


def read_lines(path: Path, *, encoding: str = "utf-8") -> Iterator[Line | Reject]:
    """Yield ``(line_number, text)`` for every non-blank line of ``path``.

    The line ending (``\\n`` or ``\\r\\n``) is removed and a UTF-8 byte order
    mark on the first line is dropped. A line that does not decode yields a
    :class:`Reject` instead.
    """
    name = str(path)
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            raw = raw.rstrip(b"\r\n")
            if not raw or raw.isspace():
                continue
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                yield Reject(
                    name, number, f"undecodable bytes for {encoding} at byte {exc.start + 1}"
                )
                continue
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield number, text


class DelimitedFile:
    """A delimited text file: optional header row, one record per line.

    Args:
        path: The file; it must exist (else :class:`LoaderError`).
        sep: Field separator (``","``, ``"\\t"``, ``"|"``, ``"::"`` ...), or
            ``None`` for runs of whitespace.
        encoding: Text encoding of every line (default: ``"utf-8"``).
        quoted: Honour CSV double-quote quoting, including quoted fields that
            span lines (default: ``False``).
        header: The first non-blank line names the columns (default: ``False``).
    """

    def __init__(
        self,
        path: Path,
        *,
        sep: str | None,
        encoding: str = "utf-8",
        quoted: bool = False,
        header: bool = False,
    ) -> None:
        if quoted and not sep:
            raise ValueError("quoted files need an explicit separator")
        self.path = require_file(path)
        self.name = str(path)
        self.sep = sep
        self.encoding = encoding
        self.quoted = quoted
        self.header: list[str] | None = self._read_header() if header else None

    def reject(self, line: int, reason: str) -> Reject:
        return Reject(self.name, line, reason)

    def column_index(self, column: str, *, what: str | None = None) -> int:
        """Position of ``column`` in the header, or :class:`LoaderError` if absent.

        ``what`` prefixes the message (e.g. ``"mapping.toml: log.user"``).
        """
        assert self.header is not None, "column_index needs a file read with header=True"
        try:
            return self.header.index(column)
        except ValueError:
            prefix = f"{what} column" if what else f"{self.name}: column"
            raise LoaderError(
                f"{prefix} {column!r} not found in {self.path.name} header "
                f"(columns: {', '.join(self.header)})"
            ) from None

    def column_indices(self, columns: Sequence[str]) -> list[int]:
        return [self.column_index(c) for c in columns]

    def rows(self, *, columns: int | None = None) -> Iterator[Fields | Reject]:
        """Yield ``(line_number, fields)`` per record, or a :class:`Reject`.

        Args:
            columns: Exact number of fields a record must have; defaults to the
                header's width when there is a header, else no check.
        """
        if columns is None and self.header is not None:
            columns = len(self.header)
        lines = read_lines(self.path, encoding=self.encoding)
        if self.header is not None:
            next(lines, None)  # the header line; _read_header proved it decodes
        sep = self.sep
        for entry in lines:
            if isinstance(entry, Reject):
                yield entry
                continue
            number, text = entry
            if self.quoted and '"' in text:
                try:
                    fields = self._split_quoted(text, lines)
                except RowError as exc:
                    yield self.reject(number, str(exc))
                    continue
            else:
                fields = text.split(sep)
            if columns is not None and len(fields) != columns:
                yield self.reject(number, f"expected {columns} columns, found {len(fields)}")
                continue
            yield number, fields

    def _split_quoted(self, text: str, more: Iterator[Line | Reject]) -> list[str]:
        for _ in range(MAX_CONTINUATION_LINES):
            try:
                return next(csv.reader((text,), delimiter=self.sep, strict=True))
            except csv.Error as exc:
                if "unexpected end of data" not in str(exc):
                    raise RowError(f"malformed CSV quoting: {exc}") from None
            following = next(more, None)
            if following is None or isinstance(following, Reject):
                break
            text = f"{text}\n{following[1]}"
        raise RowError("unterminated quoted field")

    def _read_header(self) -> list[str]:
        for entry in read_lines(self.path, encoding=self.encoding):
            if isinstance(entry, Reject):
                raise LoaderError(f"{entry.file}:{entry.line}: header line is not {self.encoding}")
            _, text = entry
            if self.quoted and '"' in text:
                fields = next(csv.reader((text,), delimiter=self.sep))
            else:
                fields = text.split(self.sep)
            return [f.strip() for f in fields]
        raise LoaderError(f"{self.path}: file is empty (expected a header line)")


def parse_float(text: str, what: str) -> float:
    """``float(text)`` or :class:`RowError` naming ``what``; refuses NaN and infinity."""
    try:
        value = float(text)
    except (ValueError, OverflowError):
        raise RowError(f"{what} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise RowError(f"{what} is not finite: {text!r}")
    return value


def parse_value(text: str, what: str) -> float:
    """A weight or rating from text, checked by :func:`graphrec.schema.check_value`.

    Raises:
        RowError: not a number, not finite, or ``|value| > MAX_ABS_VALUE``.
    """
    try:
        return check_value(parse_float(text, what), field=what)
    except InvalidValueError as exc:
        raise RowError(str(exc)) from None


def parse_int(text: str, what: str) -> int:
    """``int(text)`` or :class:`RowError` naming ``what``."""
    try:
        return int(text)
    except ValueError:
        raise RowError(f"{what} is not an integer: {text!r}") from None


def parse_bounded_int(text: str, what: str, low: int, high: int) -> int:
    """``int(text)`` within ``[low, high]``, or :class:`RowError` naming ``what``."""
    value = parse_int(text, what)
    if not low <= value <= high:
        raise RowError(f"{what} out of range: {value} ({low} to {high})")
    return value


def parse_timestamp(value: object, what: str = "timestamp") -> int:
    """Seconds since the epoch from epoch seconds (int, float, numeric text) or ISO 8601.

    A naive ISO 8601 time is taken as UTC. The result is checked by
    :func:`graphrec.schema.check_timestamp` (``0 <= ts <= MAX_TIMESTAMP``).

    Raises:
        RowError: not a time, or ``"<what> out of range: ..."``.
    """
    seconds = _seconds(value, what)
    try:
        return check_timestamp(seconds, field=what)
    except InvalidValueError as exc:
        raise RowError(str(exc)) from None


def _seconds(value: object, what: str) -> int:
    if isinstance(value, str):
        try:
            return int(value)  # the common case, first
        except ValueError:
            pass
    if isinstance(value, bool):
        raise RowError(f"{what} is not a time: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RowError(f"{what} is not finite: {value!r}")
        return int(value)
    text = str(value).strip()
    if not text:
        raise RowError(f"{what} is empty")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return int(parse_float(text, what))
    except RowError:
        pass
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    except (ValueError, OverflowError):
        raise RowError(f"{what} is neither epoch seconds nor ISO 8601: {text!r}") from None


def property_value(value: Any, what: str) -> Any:
    """``value`` if the graph can store it as a property, else :class:`RowError`.

    Bolt carries integers as signed 64-bit, so a larger one would fail the
    whole write batch; NaN and infinity are refused like everywhere else.
    Lists are checked element by element.
    """
    if isinstance(value, list):
        return [property_value(v, what) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise RowError(f"{what} {value} does not fit in a 64-bit integer")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RowError(f"{what} is not finite: {value!r}")
        return value
    raise RowError(f"{what} has an unsupported type: {type(value).__name__}")
