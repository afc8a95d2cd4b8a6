"""The OpenAPI document says what the code does: the id and concept patterns accept exactly
the strings the shared rules accept (format characters outside the BMP aside: the patterns
cannot name them, so they are wider there, and the server still answers 422), and each operation declares the API key only where
this configuration enforces it."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from graphrec.api.fields import BusinessId, ConceptId, concept_pattern, id_pattern
from graphrec.api.main import create_app
from graphrec.config import Settings
from graphrec.schema import MAX_ID_LENGTH

#: Characters the rules treat specially, and some that they do not.
TRICKY = "./: \t\n\r\x0b\x0c\x1c\x1f\x00\x01\x7f\x85\xa0\u00ad\u200b\u200d\u2060\ufeff\u202e\u3000aZ9_-é\u0301ユ🙂"


def _astral_format(value: str) -> bool:
    r"""Whether ``value`` holds a format character outside the BMP (``\U00013430``...):
    the patterns name code points as ``\uXXXX`` (JSON Schema's portable form), so they
    cannot list those, and only promise to accept whatever the rules accept."""
    return any(ord(c) > 0xFFFF and unicodedata.category(c) == "Cf" for c in value)


def _agree(pattern: str, accepted: bool, value: str) -> None:
    matched = bool(re.search(pattern, value))
    if _astral_format(value):
        assert matched or not accepted, repr(value)  # the pattern is wider, never narrower
    else:
        assert matched == accepted, repr(value)


class _Id(BaseModel):
    id: BusinessId


class _Concept(BaseModel):
    id: ConceptId


def _accepted(model: type[BaseModel], value: str) -> bool:
    try:
        model(id=value)
    except ValidationError:
        return False
    return True


@settings(max_examples=1_000, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(TRICKY), max_size=8) | st.text(max_size=8))
@example(".")
@example(" .. ")
@example(".\u200b.")
@example(". .")
@example("\t\u200ba")
@example("a\tb")
@example("\u200b")
@example("a/b")
@example("\U00013430")
@example("a\U000e0001")
def test_the_id_pattern_is_normalize_id(value: str) -> None:
    _agree(id_pattern(), _accepted(_Id, value), value)


@settings(max_examples=1_000, deadline=None, database=None)
@given(
    st.sampled_from(["genre:", "tag:", "Tag:", "planet:", "tag", ""]),
    st.text(alphabet=st.sampled_from(TRICKY), max_size=8) | st.text(max_size=8),
)
@example("tag:", "\u200b")
@example("tag:", "a\tb")
@example("tag:", "live action/animation")
@example("genre:", "\x01")
def test_the_concept_pattern_is_concept_id(prefix: str, name: str) -> None:
    value = prefix + name
    if not 3 <= len(value) <= MAX_ID_LENGTH:
        return
    _agree(concept_pattern(), _accepted(_Concept, value), value)


def test_integer_ids_are_their_text_within_the_exact_json_range() -> None:
    assert _Id(id=42).id == "42" and _Id(id=-(2**53 - 1)).id == str(-(2**53 - 1))
    assert _Id(id=42.0).id == "42"  # JSON Schema counts 42.0 as an integer
    for bad in (2**53, True, 1.5, None):
        with pytest.raises(ValidationError):
            _Id(id=bad)


def _document(tmp_path: Path, **settings: Any) -> dict[str, Any]:
    app_options = settings.pop("app_options", {})
    config = Settings(_env_file=None, data_dir=tmp_path, **settings)
    return create_app(config, **app_options).openapi()


def _security(document: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{method.upper()} {path}": (operation.get("security"), sorted(operation["responses"]))
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


KEY = [{"APIKeyHeader": []}]
OPTIONAL_KEY = [{"APIKeyHeader": []}, {}]


ADMIN_KEY = "admin-key-0123456789"
CATALOG_READS = {
    "GET /items/{item_id}",
    "GET /items/{item_id}/similar",
    "GET /models",
    "GET /metrics",
}


def test_security_is_declared_where_it_is_enforced(tmp_path: Path) -> None:
    ops = _security(_document(tmp_path, api_key=ADMIN_KEY))
    reads = [op for op in ops if op.startswith("GET ") and op != "GET /health"]
    user_reads = [*(op for op in reads if op not in CATALOG_READS), "POST /recommendations/batch"]
    assert {"GET /users/{user_id}/recommendations", "GET /users/{user_id}"} <= set(user_reads)
    for read in user_reads:  # locked by default
        security, codes = ops[read]
        assert security == KEY and {"401", "403"} <= set(codes), read
    for read in CATALOG_READS:  # open by default
        security, codes = ops[read]
        assert security is None and "401" not in codes and "403" not in codes, read
    for write in ("POST /interactions", "POST /items", "POST /admin/reload"):
        security, codes = ops[write]
        assert security == KEY and {"401", "403"} <= set(codes), write
    assert ops["GET /health"][0] == OPTIONAL_KEY  # the key only adds detail

    opened = _security(_document(tmp_path, api_key=ADMIN_KEY, api_lock_reads=False))
    for read in user_reads:
        assert opened[read][0] is None, read
    locked = _security(_document(tmp_path, api_key=ADMIN_KEY, api_lock_catalog=True))
    for read in CATALOG_READS:
        security, codes = locked[read]
        assert security == KEY and {"401", "403"} <= set(codes), read

    dev = _security(_document(tmp_path, app_options={"dev": True}))
    for operation, (security, codes) in dev.items():
        assert security is None and "401" not in codes and "403" not in codes, operation

    read_only = _security(
        _document(tmp_path, api_lock_reads=False, app_options={"read_only": True})
    )
    for write in ("POST /interactions", "POST /items", "POST /admin/reload"):
        security, codes = read_only[write]  # no key configured: always 403, no key helps
        assert security is None and "403" in codes and "401" not in codes, write


def test_body_operations_document_400_and_408(tmp_path: Path) -> None:
    document = _document(tmp_path, api_key=ADMIN_KEY)
    for path in ("/interactions", "/items"):
        assert {"400", "408", "413", "422"} <= set(document["paths"][path]["post"]["responses"])
    body = document["paths"]["/interactions"]["post"]["requestBody"]["content"]
    schema = body["application/json"]["schema"]
    many = next(s for s in schema["anyOf"] if s.get("type") == "array")
    assert many["minItems"] == 1 and many["maxItems"] == 10_000
