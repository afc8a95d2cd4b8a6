"""Transport limits over a raw socket: a body that stops short of its declared
Content-Length is answered 408 and the connection closed within the body timeout."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

BODY_TIMEOUT = 0.5


@pytest.fixture
def live(
    shared_graph: Any, make_app: Callable[..., Any], serve: Callable[..., Any]
) -> Iterator[Any]:
    with serve(make_app(shared_graph, api_body_timeout=BODY_TIMEOUT)) as server:
        yield server


def _request(length: int, key: str) -> bytes:
    return (
        "POST /interactions HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {length}\r\n"
        f"X-API-Key: {key}\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> tuple[bytes, float, bool]:
    """Everything the server sends until it closes (or 5 s pass), when it answered, closed."""
    started, data, answered_at = time.monotonic(), b"", None
    sock.settimeout(5.0)
    try:
        while chunk := sock.recv(65536):
            data += chunk
            answered_at = answered_at or time.monotonic()
    except TimeoutError:
        return data, (answered_at or time.monotonic()) - started, False
    return data, (answered_at or time.monotonic()) - started, True


def test_a_short_body_is_answered_408_and_the_connection_closed(live: Any, api_key: str) -> None:
    with socket.create_connection(("127.0.0.1", live.port)) as sock:
        sock.sendall(_request(100, api_key) + b'{"user_id": "x"')  # 15 of 100 bytes, then nothing
        data, seconds, closed = _answer(sock)
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b"request body" in data and b"timeout" in data.lower()
    assert closed, "the connection stayed open"
    assert seconds < BODY_TIMEOUT + 2.0


def test_a_trickled_body_is_bounded_as_a_whole(live: Any, api_key: str) -> None:
    """A byte every 0.1 s never lets one read time out; the whole body still must arrive in time."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", live.port)) as sock:
        sock.sendall(_request(1_000, api_key))
        sock.settimeout(0.2)
        answer = b""
        for _ in range(100):
            try:
                sock.sendall(b" ")
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # the server closed: a later send was refused
                break
            if answer:
                break
        seconds = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert seconds < BODY_TIMEOUT + 2.0


def test_a_whole_body_within_the_timeout_is_served(live: Any, api_key: str) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{live.port}") as client:
        assert client.get("/health").status_code == 200
        response = client.post(
            "/interactions",
            content=b'{"user_id": "u0", "item_id": "no-such-item"}',
            headers={"Content-Type": "application/json", "X-API-Key": api_key},
        )
        assert response.status_code == 404  # read, parsed and answered: nothing timed out
