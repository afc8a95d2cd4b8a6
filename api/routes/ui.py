"""``GET /ui``: the explorer page, static files shipped inside the package (no build step).

The page talks to this same API with ``fetch``; its Content-Security-Policy allows
scripts, styles and requests from this origin only, so it loads nothing else.
"""

from __future__ import annotations

import re
from importlib import resources

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)

#: The page's files: flat names with a known type (nothing else is served).
FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\.(html|css|js|svg)$")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _read(name: str) -> bytes | None:
    """The file's bytes from the installed package (``graphrec/api/ui/``), or ``None``."""
    path = resources.files("graphrec.api").joinpath("ui", name)
    return path.read_bytes() if path.is_file() else None


def page_file(name: str) -> Response:
    """One file of the page, or 404."""
    match = FILE_NAME.fullmatch(name)
    content = _read(name) if match else None
    if content is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such file in the explorer: {name!r}")
    return Response(content, media_type=MEDIA_TYPES[match.group(1)], headers=HEADERS)


@router.get("/ui")
async def explorer_redirect() -> RedirectResponse:
    return RedirectResponse("ui/", status_code=status.HTTP_308_PERMANENT_REDIRECT)


@router.get("/ui/")
async def explorer() -> Response:
    """The explorer page: a user's history, recommendations and their explanation paths."""
    return page_file("index.html")


@router.get("/ui/{name}")
async def explorer_file(name: str) -> Response:
    return page_file(name)
