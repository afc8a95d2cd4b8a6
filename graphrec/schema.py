"""The graph's vocabulary: node labels, relationship types, concept kinds, id rules.

Loaders, export, write-back and the API all use this module. Cypher text never
takes a label, relationship type or property name from input: it takes one of
these enum members, or a name checked by :func:`check_property_name`.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class NodeLabel(StrEnum):
    USER = "User"
    ITEM = "Item"
    CONCEPT = "Concept"
    MODEL = "Model"


class RelType(StrEnum):
    INTERACTED = "INTERACTED"  # (:User)-[:INTERACTED {kind, weight, rating, ts}]->(:Item)
    HAS_CONCEPT = "HAS_CONCEPT"  # (:Item)-[:HAS_CONCEPT {relation, weight}]->(:Concept)
    RELATED = "RELATED"  # (:Concept)-[:RELATED {relation}]->(:Concept)
    SUBCONCEPT_OF = "SUBCONCEPT_OF"  # (:Concept)-[:SUBCONCEPT_OF]->(:Concept)
    CO_ENGAGED = "CO_ENGAGED"  # (:Item)-[:CO_ENGAGED {weight}]->(:Item), derived
    HAS_ATTRIBUTE = "HAS_ATTRIBUTE"  # (:User)-[:HAS_ATTRIBUTE {relation}]->(:Concept)


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

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class InvalidIdError(ValueError):
    """A business id that breaks the id rules."""


def normalize_id(value: object, *, field: str = "id") -> str:
    """Return ``value`` as a business id: a non-empty, stripped string.

    Ids are strings in the graph whatever they looked like in the source
    (``1`` and ``"1"`` are the same user). Control characters and ids longer
    than :data:`MAX_ID_LENGTH` are refused.

    Raises:
        InvalidIdError: naming ``field`` and the offending value.
    """
    if value is None:
        raise InvalidIdError(f"{field} is empty")
    text = str(value).strip()
    if not text:
        raise InvalidIdError(f"{field} is empty")
    if len(text) > MAX_ID_LENGTH:
        raise InvalidIdError(f"{field} is longer than {MAX_ID_LENGTH} characters: {text[:40]!r}...")
    if _CONTROL.search(text):
        raise InvalidIdError(f"{field} contains control characters: {text!r}")
    return text


def normalize_name(value: str) -> str:
    """Normalise a free-text concept name: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def concept_id(kind: str | ConceptKind, name: str) -> str:
    """The business id of a concept: ``"<kind>:<normalised name>"``, e.g. ``"genre:comedy"``.

    Namespacing by kind keeps the tag "comedy" and the genre "comedy" apart.
    """
    norm = normalize_name(name)
    if not norm:
        raise InvalidIdError(f"concept name is empty (kind {kind!s})")
    return normalize_id(f"{ConceptKind(kind).value}:{norm}", field="concept id")


def check_property_name(name: str) -> str:
    """Return ``name`` if it is safe to use as a property name in Cypher text.

    Used for names that are computed (for example ``emb_lightgcn``) rather than
    literal in a ``.cypher`` file. Only lower-case letters, digits and ``_``.
    """
    if not _PROPERTY_NAME.fullmatch(name):
        raise ValueError(f"invalid property name {name!r}: use [a-z][a-z0-9_]*, at most 63 chars")
    return name
