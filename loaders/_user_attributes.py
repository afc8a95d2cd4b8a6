"""User attribute concepts (age group, gender, occupation) shared by the parsers.

The age groups are the seven GroupLens ML-1M bins; a raw age (ML-100K,
RecBole) is put into the same bins so that both datasets share concepts.
"""

from __future__ import annotations

from graphrec.schema import ConceptKind

from ._nodes import Seen
from .rows import Row, UserConceptRow

#: ML-1M ``users.dat`` age codes (README of ml-1m).
ML1M_AGE_GROUPS: dict[str, str] = {
    "1": "Under 18",
    "18": "18-24",
    "25": "25-34",
    "35": "35-44",
    "45": "45-49",
    "50": "50-55",
    "56": "56+",
}

#: ML-1M ``users.dat`` occupation codes (README of ml-1m).
ML1M_OCCUPATIONS: dict[str, str] = {
    "0": "other or not specified",
    "1": "academic/educator",
    "2": "artist",
    "3": "clerical/admin",
    "4": "college/grad student",
    "5": "customer service",
    "6": "doctor/health care",
    "7": "executive/managerial",
    "8": "farmer",
    "9": "homemaker",
    "10": "K-12 student",
    "11": "lawyer",
    "12": "programmer",
    "13": "retired",
    "14": "sales/marketing",
    "15": "scientist",
    "16": "self-employed",
    "17": "technician/engineer",
    "18": "tradesman/craftsman",
    "19": "unemployed",
    "20": "writer",
}

#: Oldest raw age accepted (ML-100K ``u.user``, RecBole ``age``); older is a bad row.
MAX_AGE = 150

_GENDERS = {"m": "male", "f": "female"}

#: Relation names of the user attribute edges.
HAS_AGE_GROUP = "has_age_group"
HAS_GENDER = "has_gender"
HAS_OCCUPATION = "has_occupation"


def age_group_of(age: int) -> str:
    """Put a raw age into the ML-1M bins: ``17 -> "Under 18"``, ``30 -> "25-34"``."""
    for lower, name in ((56, "56+"), (50, "50-55"), (45, "45-49"), (35, "35-44"), (25, "25-34")):
        if age >= lower:
            return name
    return "18-24" if age >= 18 else "Under 18"


def gender_name(code: str) -> str:
    """``"M" -> "male"``, ``"F" -> "female"``; anything else as given."""
    return _GENDERS.get(code.strip().lower(), code.strip())


def user_attribute_rows(
    seen: Seen,
    user_id: str,
    *,
    age_group: str | None = None,
    gender: str | None = None,
    occupation: str | None = None,
) -> list[Row]:
    """New concept rows and the :class:`UserConceptRow` edges for one user's attributes.

    Empty or missing attributes are skipped.
    """
    rows: list[Row] = []
    for kind, relation, name in (
        (ConceptKind.AGE_GROUP, HAS_AGE_GROUP, age_group),
        (ConceptKind.GENDER, HAS_GENDER, gender),
        (ConceptKind.OCCUPATION, HAS_OCCUPATION, occupation),
    ):
        if name is None or not name.strip():
            continue
        cid, concept = seen.concept(kind, name)
        if concept is not None:
            rows.append(concept)
        rows.append(UserConceptRow(user_id, cid, relation))
    return rows
