"""The API's input field types: validated by the shared rules of :mod:`graphrec.schema`,
each with the JSON Schema that says exactly what that validation accepts.

- :data:`BusinessId` (user and item ids in bodies) and :func:`path_id_schema` (in
  paths): :func:`graphrec.schema.normalize_id`. Bodies also take a JSON integer (|n| < 2**53)
  as its decimal text: ``42`` and ``"42"`` are the same user.
- :data:`ConceptId`: ``<kind>:<name>``, :func:`graphrec.schema.concept_id`.
- :data:`Value` (weight, rating) and :data:`Timestamp` (``ts``): strict JSON
  numbers (no bools, no strings; an integer may be written ``10.0``, as JSON Schema
  counts it as one) under :func:`~graphrec.schema.check_value` and
  :func:`~graphrec.schema.check_timestamp`, the rules ingest applies.
- :data:`Text`: free text (titles).

Every text must be valid Unicode: a lone surrogate (``"\\ud800"``, which JSON
can spell but UTF-8 cannot encode) is refused with 422.

The id patterns are built from the Unicode tables of the running Python: the
whitespace that ``str.strip`` removes and the format characters (category
``Cf``) that ``normalize_id`` removes, for the Basic Multilingual Plane, spelled
as ``\\uXXXX`` so that ECMA-262 and Python regular expressions read them alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, WithJsonSchema

from graphrec.schema import (
    MAX_ABS_VALUE,
    MAX_ID_LENGTH,
    MAX_TIMESTAMP,
    ConceptKind,
    InvalidIdError,
    InvalidValueError,
    check_timestamp,
    check_value,
    concept_id,
    normalize_id,
)

#: Interaction kinds and concept relations are short identifiers.
KIND_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
RELATION_PATTERN = r"^[A-Za-z][A-Za-z0-9_.:\-]{0,127}$"
#: Integer ids: those every JSON parser reads exactly (|n| < 2**53); their decimal text is the id.
MIN_INTEGER_ID, MAX_INTEGER_ID = -(2**53 - 1), 2**53 - 1


def _ranges(codes: Iterable[int]) -> str:
    """A regex character-class body for ``codes`` (sorted), as ``\\uXXXX`` ranges."""
    parts: list[str] = []
    start = previous = None
    for code in [*codes, None]:
        if start is not None and (code is None or code != previous + 1):
            parts.append(
                f"\\u{start:04x}" if start == previous else f"\\u{start:04x}-\\u{previous:04x}"
            )
            start = None
        if code is not None and start is None:
            start = code
        previous = code
    return "".join(parts)


@cache
def _classes() -> tuple[str, str]:
    bmp = range(0x10000)
    space = _ranges(c for c in bmp if chr(c).isspace())
    fmt = _ranges(c for c in bmp if unicodedata.category(chr(c)) == "Cf")
    return space, fmt


@cache
def id_pattern() -> str:
    r"""What :func:`normalize_id` accepts for users and items: after format characters and
    surrounding whitespace, at least one other character; no control character, no ``/``;
    not ``.`` or ``..``.

    Format characters outside the BMP (U+110BD, U+13430..., U+E0001...) are not in the
    pattern: it names code points as ``\uXXXX``, the form every JSON Schema validator
    reads. An id made only of those matches the pattern and is still refused (422)."""
    space, fmt = _classes()
    edge = f"[{space}{fmt}]"  # removed or stripped
    inner = r"[^/\u0000-\u001f\u007f]"
    visible = f"[^/\\u0000-\\u001f\\u007f{space}{fmt}]"
    dots = f"(?!{edge}*\\.[{fmt}]*(?:\\.[{fmt}]*)?{edge}*$)"
    return f"^{dots}{edge}*{inner}*{visible}{inner}*{edge}*$"


@cache
def concept_pattern() -> str:
    """What :func:`concept_id` accepts: a known kind, ``:``, and a name with a character
    other than whitespace and format characters, and no control character but whitespace
    (which the name's normalisation collapses)."""
    space, fmt = _classes()
    kinds = "|".join(kind.value for kind in ConceptKind)
    allowed = r"[^\u0000-\u0008\u000e-\u001b\u007f]"
    visible = f"[^\\u0000-\\u001f\\u007f{space}{fmt}]"
    return f"^(?:{kinds}):{allowed}*{visible}{allowed}*$"


def _check_encodable(value: str, field: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{field} is not valid Unicode (a lone surrogate)") from None


def _text(value: str, info: ValidationInfo) -> str:
    _check_encodable(value, info.field_name or "text")
    return value


def _business_id(value: str, info: ValidationInfo) -> str:
    field = info.field_name or "id"
    _check_encodable(value, field)
    try:
        return normalize_id(value, field=field)
    except InvalidIdError as exc:
        raise ValueError(str(exc)) from None


def _json_integer(value: object) -> object:
    """``value`` as an int if it is a JSON integer: JSON Schema counts ``10.0`` as one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _integer_as_text(value: object) -> object:
    # Ids are strings in the graph: 42 and "42" are the same user (bools are not ids).
    value = _json_integer(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not MIN_INTEGER_ID <= value <= MAX_INTEGER_ID:
            raise ValueError(
                f"an integer id must be within ±{MAX_INTEGER_ID} (send larger ids as strings)"
            )
        return str(value)
    return value


def _id_schema(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_ID_LENGTH,
        "pattern": id_pattern(),
        "description": description,
        "examples": ["42"],
    }


_ID_RULE = (
    "Unicode NFC; format characters (zero-width, bidi) and surrounding whitespace are "
    "removed, so `\\u200b42` is `42`; no `/`, no control character, not `.` or `..`."
)

#: A user or item id in a body: a string, or a JSON integer (|n| < 2**53) taken as its text.
BusinessId = Annotated[
    str,
    BeforeValidator(_integer_as_text),
    Field(min_length=1, max_length=MAX_ID_LENGTH),
    AfterValidator(_business_id),
    WithJsonSchema(
        {
            "anyOf": [
                _id_schema(_ID_RULE),
                {
                    "type": "integer",
                    "minimum": MIN_INTEGER_ID,
                    "maximum": MAX_INTEGER_ID,
                    "description": "The same id as its decimal text.",
                },
            ],
            "examples": ["42"],
        }
    ),
]


def path_id_schema() -> dict[str, Any]:
    """The JSON Schema of a user or item id in a URL path (``Path(json_schema_extra=...)``)."""
    return {"pattern": id_pattern(), "description": _ID_RULE}


def _concept_id(value: str, info: ValidationInfo) -> str:
    field = info.field_name or "id"
    _check_encodable(value, field)
    kind, sep, name = value.partition(":")
    kinds = {k.value for k in ConceptKind}
    if not sep or kind not in kinds:
        raise ValueError(
            f"concept ids look like '<kind>:<name>' with kind one of {', '.join(sorted(kinds))}"
        )
    try:
        normalized = concept_id(kind, name)
    except InvalidIdError as exc:
        raise ValueError(str(exc)) from None
    if normalized == f"{kind}:":  # a name of format characters only
        raise ValueError(f"concept name is empty (kind {kind})")
    return normalized


#: A concept id ``<kind>:<name>``, normalised (``tag:Space`` is ``tag:space``).
ConceptId = Annotated[
    str,
    Field(min_length=3, max_length=MAX_ID_LENGTH),
    AfterValidator(_concept_id),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 3,
            "maxLength": MAX_ID_LENGTH,
            "pattern": concept_pattern(),
            "description": "`<kind>:<name>`; the name is NFKC-normalised, case-folded, "
            "its whitespace collapsed and its format characters removed.",
            "examples": ["genre:comedy", "tag:space"],
        }
    ),
]

#: Free text (a title).
Text = Annotated[str, AfterValidator(_text)]


def _shared_value(value: float, info: ValidationInfo) -> float:
    try:
        return check_value(value, field=info.field_name or "value")
    except InvalidValueError as exc:
        raise ValueError(str(exc)) from None


def _shared_timestamp(value: int, info: ValidationInfo) -> int:
    try:
        return check_timestamp(value, field=info.field_name or "ts")
    except InvalidValueError as exc:
        raise ValueError(str(exc)) from None


#: A weight or rating: a JSON number (not a bool, not a string), finite, with
#: |x| <= MAX_ABS_VALUE: :func:`graphrec.schema.check_value`, the rule ingest applies.
Value = Annotated[
    float,
    Field(strict=True, allow_inf_nan=False, ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE),
    AfterValidator(_shared_value),
]
#: Seconds since the epoch: a JSON integer in [0, MAX_TIMESTAMP]
#: (:func:`graphrec.schema.check_timestamp`, the rule ingest applies).
Timestamp = Annotated[
    int,
    Field(strict=True, ge=0, le=MAX_TIMESTAMP),
    BeforeValidator(_json_integer),  # runs before the strict integer check above
    AfterValidator(_shared_timestamp),
]
