"""Typed dependencies: the service state, the index a request ranks with, access checks.

They are ``async`` although they never wait: FastAPI runs a plain ``def`` dependency on
its thread pool, a thread hop per dependency per request, which under a burst of
requests costs more than the requests themselves.

Keys have one of two scopes (see :class:`Scope`): an admin key (``GRAPHREC_API_KEY``
and ``GRAPHREC_API_KEYS``) may do everything, a read key (``GRAPHREC_API_READ_KEYS``)
only reads. A missing or unknown key is 401; a read key on a write or admin
endpoint is 403.
"""

from __future__ import annotations

import secrets
from enum import IntEnum
from typing import Annotated

from fastapi import Depends, Request, Security, status
from fastapi.security import APIKeyHeader

from graphrec.config import Settings

from .errors import ApiError
from .state import Index, ServiceState

API_KEY_HEADER = "X-API-Key"

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="A read key (GRAPHREC_API_READ_KEYS) or an admin key (GRAPHREC_API_KEY, "
    "GRAPHREC_API_KEYS). Reads about users need one of them (unless --dev or "
    "GRAPHREC_API_LOCK_READS=false); writes and admin need an admin key; on /health an "
    "admin key adds the graph's URI and error text.",
)


class Scope(IntEnum):
    """What a key may do; a higher scope includes the lower ones."""

    READ = 1
    ADMIN = 2


def key_scope(settings: Settings, key: str | None) -> Scope | None:
    """The scope of ``key`` (``None``: no key, or not one of the configured keys).

    Every configured key is compared, in constant time each, whatever matches.
    """
    if not key:
        return None
    given = key.encode()
    found: Scope | None = None
    for scope, keys in (
        (Scope.ADMIN, settings.admin_key_list()),
        (Scope.READ, settings.read_key_list()),
    ):
        for expected in keys:
            if secrets.compare_digest(given, expected.encode()) and found is None:
                found = scope
    return found


async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_index(state: StateDep) -> Index:
    """The index this request ranks with: read once, so the request sees one version."""
    return state.index


IndexDep = Annotated[Index, Depends(get_index)]
ApiKey = Annotated[str | None, Security(api_key_header)]


def _check_key(state: ServiceState, key: str | None, needed: Scope) -> None:
    settings = state.settings
    if state.options.dev and not settings.admin_key_list():
        return  # --dev without an admin key: everything is open (local development)
    if not settings.has_keys:
        raise ApiError(
            status.HTTP_403_FORBIDDEN,
            "no API key is configured (GRAPHREC_API_KEY, GRAPHREC_API_KEYS, "
            "GRAPHREC_API_READ_KEYS), so this endpoint is disabled",
            code="endpoint_disabled",
        )
    if not key:
        raise ApiError(
            status.HTTP_401_UNAUTHORIZED,
            f"missing {API_KEY_HEADER} header",
            code="missing_api_key",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )
    scope = key_scope(settings, key)
    if scope is None:
        raise ApiError(
            status.HTTP_401_UNAUTHORIZED,
            "invalid API key",
            code="invalid_api_key",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )
    if scope < needed:
        raise ApiError(
            status.HTTP_403_FORBIDDEN,
            f"this key has the {scope.name.lower()} scope; this endpoint needs the "
            f"{needed.name.lower()} scope",
            code="insufficient_scope",
        )


def has_admin_access(state: ServiceState, key: str | None) -> bool:
    """Whether ``key`` would pass the admin check (for answers that only add detail with it)."""
    try:
        _check_key(state, key, Scope.ADMIN)
    except ApiError:
        return False
    return True


async def require_read_access(state: StateDep, key: ApiKey) -> None:
    """Reads about users: a read or admin key, unless ``--dev`` or ``api_lock_reads`` is off."""
    if state.settings.api_lock_reads and not state.options.dev:
        _check_key(state, key, Scope.READ)


async def require_catalog_access(state: StateDep, key: ApiKey) -> None:
    """Catalog reads: open unless ``api_lock_catalog`` (and not ``--dev``)."""
    if state.settings.api_lock_catalog and not state.options.dev:
        _check_key(state, key, Scope.READ)


async def require_admin_access(state: StateDep, key: ApiKey) -> None:
    _check_key(state, key, Scope.ADMIN)


async def require_write_access(state: StateDep, key: ApiKey) -> None:
    _check_key(state, key, Scope.ADMIN)
    if state.options.read_only:
        raise ApiError(status.HTTP_403_FORBIDDEN, "this service is read-only", code="read_only")


ReadAccess = Depends(require_read_access)
CatalogAccess = Depends(require_catalog_access)
WriteAccess = Depends(require_write_access)
AdminAccess = Depends(require_admin_access)
