from __future__ import annotations

import pytest

from graphrec.loaders import LoaderError
from graphrec.loaders._io import (
    MAX_CONTINUATION_LINES,
    DelimitedFile,
    RowError,
    parse_float,
    parse_timestamp,
    read_lines,
)
from graphrec.loaders.rows import Reject


def test_read_lines_strips_endings_bom_and_blank_lines(tmp_path, write):
    path = write(tmp_path / "a.txt", b"\xef\xbb\xbfone\r\n\r\n  \ntwo\nthree")
    assert list(read_lines(path)) == [(1, "one"), (4, "two"), (5, "three")]


def test_read_lines_rejects_only_the_undecodable_line(tmp_path, write):
    path = write(tmp_path / "a.txt", b"good\nbad \xff\xfe\nalso good\n")
    out = list(read_lines(path))
    assert out[0] == (1, "good")
    assert out[2] == (3, "also good")
    assert isinstance(out[1], Reject)
    assert (out[1].file, out[1].line) == (str(path), 2)
    assert "utf-8" in out[1].reason and "byte 5" in out[1].reason


def test_latin1_decodes_every_byte(tmp_path, write):
    path = write(tmp_path / "a.txt", "Città|Señor\n", encoding="latin-1")
    assert list(read_lines(path, encoding="latin-1")) == [(1, "Città|Señor")]


def test_quoted_csv_fields_commas_quotes_and_newlines(tmp_path, write):
    text = 'id,title\n1,"Hello, World"\n2,"say ""hi"""\n3,"two\nlines"\n4,plain\n'
    file = DelimitedFile(write(tmp_path / "a.csv", text), sep=",", quoted=True, header=True)
    assert file.header == ["id", "title"]
    assert list(file.rows()) == [
        (2, ["1", "Hello, World"]),
        (3, ["2", 'say "hi"']),
        (4, ["3", "two\nlines"]),
        (6, ["4", "plain"]),
    ]


def test_bad_quoting_and_column_count_are_rejected(tmp_path, write):
    text = 'id,title\n1,"a"b\n2,x,extra\n3,ok\n'
    file = DelimitedFile(write(tmp_path / "a.csv", text), sep=",", quoted=True, header=True)
    out = list(file.rows())
    assert [(r.line, r.reason) for r in out if isinstance(r, Reject)] == [
        (2, "malformed CSV quoting: ',' expected after '\"'"),
        (3, "expected 2 columns, found 3"),
    ]
    assert out[-1] == (4, ["3", "ok"])


def test_unterminated_quote_is_bounded(tmp_path, write):
    lines = ["id,title", '1,"never closed'] + [f"{i},x" for i in range(MAX_CONTINUATION_LINES + 5)]
    path = write(tmp_path / "a.csv", "\n".join(lines) + "\n")
    out = list(DelimitedFile(path, sep=",", quoted=True, header=True).rows())
    assert out[0] == Reject(str(path), 2, "unterminated quoted field")
    assert len(out) > 1  # the rest of the file still parses


def test_missing_and_empty_files_raise(tmp_path, write):
    with pytest.raises(LoaderError, match="nope.csv: required file not found"):
        DelimitedFile(tmp_path / "nope.csv", sep=",")
    with pytest.raises(LoaderError, match="empty"):
        DelimitedFile(write(tmp_path / "empty.csv", "\n"), sep=",", header=True)


def test_whitespace_separator(tmp_path, write):
    path = write(tmp_path / "a.txt", "1  2 3\n4\t5\n")
    assert list(DelimitedFile(path, sep=None).rows()) == [(1, ["1", "2", "3"]), (2, ["4", "5"])]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("964982703", 964982703),
        (" 881250949.0 ", 881250949),
        (1700000000, 1700000000),
        (1.7e9, 1700000000),
        ("2024-03-01T08:00:00Z", 1709280000),
        ("2024-03-01T09:00:00+01:00", 1709280000),
        ("2024-03-01 08:00:00", 1709280000),  # naive means UTC
    ],
)
def test_parse_timestamp(value, expected):
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize("value", ["", "yesterday", "nan", True])
def test_parse_timestamp_rejects(value):
    with pytest.raises(RowError):
        parse_timestamp(value)


def test_parse_float_rejects_non_finite():
    assert parse_float("4.5", "rating") == 4.5
    with pytest.raises(RowError, match="rating is not a number: 'x'"):
        parse_float("x", "rating")
    with pytest.raises(RowError, match="not finite"):
        parse_float("inf", "rating")
