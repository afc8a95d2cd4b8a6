"""The id and value rules that every door (loaders, ingest, API, CLI) shares."""

from __future__ import annotations

import math

import pytest

from graphrec.schema import (
    MAX_TIMESTAMP,
    InvalidIdError,
    InvalidValueError,
    check_timestamp,
    check_value,
    concept_id,
    normalize_id,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (42, "42"),
        ("  u1 ", "u1"),
        ("ユーザー🙂\u200b", "ユーザー🙂"),  # zero-width space removed
        ("\u202eabc", "abc"),  # bidi override removed
        ("e\u0301", "\u00e9"),  # NFC: e + combining acute is é
        ("a?b#c%d", "a?b#c%d"),  # survive URL encoding as one path segment
    ],
)
def test_ids_are_normalised(raw: object, expected: str) -> None:
    assert normalize_id(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", None, "\u200b", "a/b", "../", ".", "..", "a\nb", True, "a\ud800"]
)
def test_ids_that_break_the_rule_are_refused(raw: object) -> None:
    with pytest.raises(InvalidIdError):
        normalize_id(raw, field="user id")


def test_the_message_names_the_field_and_value() -> None:
    with pytest.raises(InvalidIdError, match=r"item id contains '/'.*'a/b'"):
        normalize_id("a/b", field="item id")


def test_a_concept_name_of_invisible_characters_is_empty() -> None:
    with pytest.raises(InvalidIdError, match="concept name is empty"):
        concept_id("tag", "\u200b\u200d")


def test_concept_ids_may_hold_a_slash() -> None:
    # Concept ids travel in query parameters, never in a path segment.
    assert concept_id("tag", "live action/animation") == "tag:live action/animation"


@pytest.mark.parametrize("value", [0, -3.5, 1e6, -1e6, 4.5])
def test_values_in_range(value: float) -> None:
    assert check_value(value, field="rating") == value


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e400, 1e6 + 1, True, "x"])
def test_values_out_of_range(value: object) -> None:
    with pytest.raises(InvalidValueError, match="weight"):
        check_value(value, field="weight")  # type: ignore[arg-type]


def test_timestamps() -> None:
    assert check_timestamp(0) == 0
    assert check_timestamp(MAX_TIMESTAMP) == MAX_TIMESTAMP
    for bad in (-5, MAX_TIMESTAMP + 1, 99999999999999999999999, False, 1.5):
        with pytest.raises(InvalidValueError, match="timestamp"):
            check_timestamp(bad)  # type: ignore[arg-type]
