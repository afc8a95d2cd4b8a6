"""Typed dependencies: the service state, the index a request ranks with, access checks."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from .state import Index, ServiceState

API_KEY_HEADER = "X-API-Key"

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="Required by write and admin endpoints (and by reads when "
    "GRAPHREC_API_LOCK_READS is set); optional on /health, where it adds the graph's URI "
    "and error text.",
)


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


StateDep = Annotated[ServiceState, Depends(get_state)]


def get_index(state: StateDep) -> Index:
    """The index this request ranks with: read once, so the request sees one version."""
    return state.index


IndexDep = Annotated[Index, Depends(get_index)]
ApiKey = Annotated[str | None, Security(api_key_header)]


def _check_key(state: ServiceState, key: str | None) -> None:
    expected = state.settings.api_key
    if expected is None:
        if state.options.dev:
            return
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "no API key is configured (GRAPHREC_API_KEY), so this endpoint is disabled",
        )
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"missing {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )
    if not secrets.compare_digest(key.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid API key")


def has_admin_access(state: ServiceState, key: str | None) -> bool:
    """Whether ``key`` would pass the admin check (for answers that only add detail with it)."""
    try:
        _check_key(state, key)
    except HTTPException:
        return False
    return True


def require_read_access(state: StateDep, key: ApiKey) -> None:
    """Reads are open unless ``api_lock_reads``; then they need the key too."""
    if state.settings.api_lock_reads:
        _check_key(state, key)


def require_admin_access(state: StateDep, key: ApiKey) -> None:
    _check_key(state, key)


def require_write_access(state: StateDep, key: ApiKey) -> None:
    _check_key(state, key)
    if state.options.read_only:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this service is read-only")


ReadAccess = Depends(require_read_access)
WriteAccess = Depends(require_write_access)
AdminAccess = Depends(require_admin_access)
