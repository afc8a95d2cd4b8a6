"""The OpenAPI document of one configured service: security declared where it is enforced.

FastAPI declares the ``X-API-Key`` scheme on every operation whose dependencies
read the header, whatever the configuration. Whether the key is checked depends
on the settings (the keys, ``api_lock_reads``, ``api_lock_catalog``, ``--dev``,
``--read-only``),
so :func:`install` rewrites each operation's ``security`` and its 401/403
responses to say what this service does:

- the key is required: ``security`` names the scheme; 401 and 403 are documented;
- the key is optional and only adds detail (``GET /health`` with a key configured):
  ``security`` lists the scheme and the empty requirement ``{}``;
- the key is not checked (reads by default; writes in ``--dev`` without a key):
  no ``security``, no 401/403 (but 403 for writes of a read-only service);
- the endpoint is disabled (writes and admin without a key and without ``--dev``):
  no ``security`` (no key helps), no 401, 403 always.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.routing import APIRoute

from . import deps
from .state import ServiceOptions


class Access(StrEnum):
    READ = "read"
    CATALOG = "catalog"
    WRITE = "write"
    ADMIN = "admin"
    OPTIONAL = "optional"  # reads the key when given (``has_admin_access``), never refuses


_CHECKS = {
    deps.require_read_access: Access.READ,
    deps.require_catalog_access: Access.CATALOG,
    deps.require_write_access: Access.WRITE,
    deps.require_admin_access: Access.ADMIN,
}


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """The app's API routes as its OpenAPI document sees them (included routers expanded)."""
    # Newer FastAPI keeps included routers as such and expands them for the document with
    # iter_route_contexts; older versions copied their routes into app.routes.
    expand = getattr(fastapi.routing, "iter_route_contexts", None)
    for route in expand(app.routes) if expand is not None else app.routes:
        if isinstance(getattr(route, "original_route", route), APIRoute):
            yield route


def _access(route: Any) -> Access | None:
    """Which access check ``route`` runs (``None``: it does not read the key at all)."""
    found: set[Access] = set()
    reads_key = False
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if dependant.call in _CHECKS:
            found.add(_CHECKS[dependant.call])
        if dependant.call is deps.api_key_header:
            reads_key = True
        pending.extend(dependant.dependencies)
    if len(found) > 1:
        raise ValueError(f"{route.path}: more than one access check: {sorted(found)}")
    if found:
        return found.pop()
    return Access.OPTIONAL if reads_key else None


def _policy(access: Access, options: ServiceOptions) -> tuple[list[dict] | None, set[str]]:
    """``(security, documented error codes among 401/403)`` for an operation with ``access``."""
    settings = options.settings
    admin_keyed = bool(settings.admin_key_list())
    required: list[dict] = [{deps.api_key_header.scheme_name: []}]
    if access is Access.OPTIONAL:
        return ([*required, {}] if admin_keyed else None), set()
    if access in (Access.READ, Access.CATALOG):
        locked = settings.api_lock_reads if access is Access.READ else settings.api_lock_catalog
        if not locked or options.dev:
            return None, set()
        return (required, {"401", "403"}) if settings.has_keys else (None, {"403"})
    if options.dev and not admin_keyed:  # --dev without an admin key: not checked
        return None, ({"403"} if access is Access.WRITE and options.read_only else set())
    if settings.has_keys:
        return required, {"401", "403"}
    return None, {"403"}  # no key: disabled


def document(app: FastAPI, options: ServiceOptions) -> dict[str, Any]:
    """FastAPI's document for ``app`` with each operation's security as enforced."""
    schema = FastAPI.openapi(app)
    for route in _api_routes(app):
        if not route.include_in_schema:
            continue
        access = _access(route)
        if access is None:
            continue
        security, codes = _policy(access, options)
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            if security is None:
                operation.pop("security", None)
            else:
                operation["security"] = security
            for code in {"401", "403"} - codes:
                operation["responses"].pop(code, None)
    used = any(
        "security" in operation
        for methods in schema["paths"].values()
        for operation in methods.values()
    )
    if not used:
        schema.get("components", {}).pop("securitySchemes", None)
    return schema


def install(app: FastAPI, options: ServiceOptions) -> None:
    """Serve :func:`document` as ``app``'s OpenAPI document (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, options)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
