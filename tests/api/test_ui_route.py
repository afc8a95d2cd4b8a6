"""``/ui``: the explorer's static files, served with a strict Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

UI = Path(__file__).resolve().parents[2] / "api" / "ui"


def test_ui_redirects_and_serves_every_file(shared_client: TestClient) -> None:
    redirect = shared_client.get("/ui", follow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["location"] == "ui/"
    page = shared_client.get("/ui/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    types = {
        ".html": "text/html",
        ".css": "text/css",
        ".js": "text/javascript",
        ".svg": "image/svg+xml",
    }
    for file in sorted(UI.iterdir()):
        response = shared_client.get(f"/ui/{file.name}")
        assert response.status_code == 200, file.name
        assert response.content == file.read_bytes()
        assert response.headers["content-type"].startswith(types[file.suffix])
        assert response.headers["x-content-type-options"] == "nosniff"


def test_page_loads_nothing_from_elsewhere() -> None:
    for file in UI.iterdir():
        text = file.read_text()
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), file.name
        assert "https://" not in text and "//cdn" not in text, file.name


@pytest.mark.parametrize(
    "path",
    [
        "/ui/missing.js",
        "/ui/..%2Fmain.py",
        "/ui/%2e%2e/schemas.py",
        "/ui/app.py",
        "/ui/.hidden.js",
        "/ui/sub/app.js",
        "/ui/APP.JS",
    ],
)
def test_only_the_page_files_are_served(shared_client: TestClient, path: str) -> None:
    response = shared_client.get(path)
    assert response.status_code == 404, (path, response.text[:100])
