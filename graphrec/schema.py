"""The graph's vocabulary: node labels, relationship types, concept kinds, id rules.

Loaders, export, write-back and the API all use this module. Cypher text never
takes a label, relationship type or property name from input: it takes one of
these enum members, or a name checked by :func:`check_property_name`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from enum import StrEnum


class NodeLabel(StrEnum):
    USER = "User"
    ITEM = "Item"
    CONCEPT = "Concept"
    MODEL = "Model"
    # (:Recommendations {model, version, k, users, published_at, pending_version, pending_k}):
    # which version of a model's RECOMMENDED edges readers follow (graphrec.serving.materialise).
    RECOMMENDATIONS = "Recommendations"


class RelType(StrEnum):
    INTERACTED = "INTERACTED"  # (:User)-[:INTERACTED {kind, weight, rating, ts}]->(:Item)
    HAS_CONCEPT = "HAS_CONCEPT"  # (:Item)-[:HAS_CONCEPT {relation, weight}]->(:Concept)
    RELATED = "RELATED"  # (:Concept)-[:RELATED {relation}]->(:Concept)
    SUBCONCEPT_OF = "SUBCONCEPT_OF"  # (:Concept)-[:SUBCONCEPT_OF]->(:Concept)
    CO_ENGAGED = "CO_ENGAGED"  # (:Item)-[:CO_ENGAGED {weight}]->(:Item), derived
    HAS_ATTRIBUTE = "HAS_ATTRIBUTE"  # (:User)-[:HAS_ATTRIBUTE {relation}]->(:Concept)
    # (:Item)-[:GRAPHREC_SIMILAR {score}]->(:Item): a GDS peer's item similarities, written
    # while it runs and deleted afterwards (graphrec.peers.gds).
    GRAPHREC_SIMILAR = "GRAPHREC_SIMILAR"
    # (:User)-[:RECOMMENDED {model, version, rank, score}]->(:Item): materialised top-k
    # (graphrec.serving.materialise); readers follow the (:Recommendations) pointer.
    RECOMMENDED = "RECOMMENDED"


class ConceptKind(StrEnum):
    """What a `(:Concept)` stands for. Stored as the `kind` property, never as a label."""

    GENRE = "genre"
    TAG = "tag"
    DECADE = "decade"
    AUTHOR = "author"
    BRAND = "brand"
    CATEGORY = "category"
    ENTITY = "entity"
    AGE_GROUP = "age_group"
    GENDER = "gender"
    OCCUPATION = "occupation"


#: Default interaction kind when a log does not say (ratings, clicks, purchases ...).
DEFAULT_INTERACTION_KIND = "interacted"

#: Node properties that free-form source columns may not overwrite.
RESERVED_PROPERTIES = frozenset({"id", "title"})

#: Longest business id accepted. Long enough for URLs and hashes, short enough for an index key.
MAX_ID_LENGTH = 512

#: Largest magnitude of an interaction's weight or rating, and of a concept link's weight.
#: Loaders, the API and the CLI share it, so a row refused at one door is refused at all.
MAX_ABS_VALUE = 1e6

#: Latest interaction timestamp accepted (seconds since the epoch): 9999-12-31T23:59:59Z, so
#: that every stored ``ts`` converts to a calendar date. Earlier than the epoch is refused.
MAX_TIMESTAMP = 253_402_300_799

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class InvalidIdError(ValueError):
    """A business id that breaks the id rules."""


class InvalidValueError(ValueError):
    """A number (weight, rating, timestamp) outside the rules shared by every door."""


def _without_format_characters(text: str) -> str:
    # Unicode category Cf: zero-width spaces and joiners, bidi controls, the BOM ...
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def normalize_id(value: object, *, field: str = "id", url_path: bool = True) -> str:
    """Return ``value`` as a business id: a non-empty, normalised string.

    The one id rule, applied at every door (loaders, ingest, the API, the CLI):

    * ids are strings in the graph whatever they looked like in the source
      (``1`` and ``"1"`` are the same user);
    * Unicode is NFC-normalised and format characters (category ``Cf``:
      zero-width spaces and joiners, bidi controls) are removed, so two ids
      that look the same are the same (``"ユーザー🙂\u200b"`` is ``"ユーザー🙂"``);
      surrounding whitespace is stripped;
    * refused: empty ids, ids longer than :data:`MAX_ID_LENGTH`, control
      characters and, for ids that appear in URL paths (users, items:
      ``url_path=True``), ``/`` (it cannot travel in a path segment, so such
      an id could be written but never read back) and the ids ``.`` and
      ``..`` (URL dot segments). Concept ids travel in query parameters and
      may hold ``/`` (the MovieLens tag ``live action/animation``).

    Raises:
        InvalidIdError: naming ``field`` and the offending value.
    """
    if value is None or isinstance(value, bool):
        raise InvalidIdError(
            f"{field} is empty" if value is None else f"{field} is not an id: {value!r}"
        )
    text = _without_format_characters(unicodedata.normalize("NFC", str(value))).strip()
    if not text:
        raise InvalidIdError(f"{field} is empty")
    if len(text) > MAX_ID_LENGTH:
        raise InvalidIdError(f"{field} is longer than {MAX_ID_LENGTH} characters: {text[:40]!r}...")
    if _CONTROL.search(text):
        raise InvalidIdError(f"{field} contains control characters: {text!r}")
    if any(unicodedata.category(ch) == "Cs" for ch in text):
        raise InvalidIdError(
            f"{field} contains a lone surrogate (not valid Unicode text): {text!r}"
        )
    if url_path and "/" in text:
        raise InvalidIdError(f"{field} contains '/', which cannot appear in a URL path: {text!r}")
    if url_path and text in (".", ".."):
        raise InvalidIdError(f"{field} {text!r} is a URL dot segment")
    return text


def check_value(value: float, *, field: str) -> float:
    """Return ``value`` if it is a finite number with magnitude at most :data:`MAX_ABS_VALUE`.

    Raises:
        InvalidValueError: naming ``field`` and the value.
    """
    if isinstance(value, bool):
        raise InvalidValueError(f"{field} is not a number: {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidValueError(f"{field} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise InvalidValueError(f"{field} is not a finite number: {value!r}")
    if abs(number) > MAX_ABS_VALUE:
        raise InvalidValueError(
            f"{field} {value!r} is out of range (|{field}| <= {MAX_ABS_VALUE:g})"
        )
    return number


def check_timestamp(value: int, *, field: str = "timestamp") -> int:
    """Return ``value`` if it is an integer number of seconds in ``[0, MAX_TIMESTAMP]``.

    Raises:
        InvalidValueError: ``"<field> out of range"`` or ``"<field> is not an integer"``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(f"{field} is not an integer: {value!r}")
    if not 0 <= value <= MAX_TIMESTAMP:
        raise InvalidValueError(f"{field} out of range: {value} (0 to {MAX_TIMESTAMP})")
    return value


def normalize_name(value: str) -> str:
    """Normalise a free-text concept name: NFKC, case-folded, format characters removed,
    whitespace collapsed (a name of only invisible characters becomes empty)."""
    text = _without_format_characters(unicodedata.normalize("NFKC", value).casefold())
    return " ".join(text.split())


def concept_id(kind: str | ConceptKind, name: str) -> str:
    """The business id of a concept: ``"<kind>:<normalised name>"``, e.g. ``"genre:comedy"``.

    Namespacing by kind keeps the tag "comedy" and the genre "comedy" apart.
    """
    norm = normalize_name(name)
    if not norm:
        raise InvalidIdError(f"concept name is empty (kind {kind!s})")
    return normalize_id(f"{ConceptKind(kind).value}:{norm}", field="concept id", url_path=False)


def check_property_name(name: str) -> str:
    """Return ``name`` if it is safe to use as a property name in Cypher text.

    Used for names that are computed (for example ``emb_lightgcn``) rather than
    literal in a ``.cypher`` file. Only lower-case letters, digits and ``_``.
    """
    if not _PROPERTY_NAME.fullmatch(name):
        raise ValueError(f"invalid property name {name!r}: use [a-z][a-z0-9_]*, at most 63 chars")
    return name
