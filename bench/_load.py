"""A light open-loop HTTP load generator: plain asyncio streams, HTTP/1.1 keep-alive.

``serve.open_loop`` sends through an ``httpx.AsyncClient``; when the load generator gets
little CPU (a loaded machine, ``nice``), httpcore's pool, which matches every waiting
request against every connection on each release, becomes the bottleneck and the
latencies it reports are the client's own queue. This generator does only what the
measure needs: ``GET`` requests on a fixed set of keep-alive connections, started at a
fixed rate whatever the answers do. Each latency runs from the request's *scheduled*
start to the end of its answer, so time spent waiting for a free connection counts
(no coordinated omission).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from serve import summarise  # bench/serve.py (scripts run from bench/)


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str
) -> int:
    """Send one ``GET`` and read its whole answer (Content-Length framing); the status."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def raw_open_loop(
    host: str,
    port: int,
    path: Callable[[int], str],
    rate: float,
    seconds: float,
    *,
    connections: int = 32,
) -> dict[str, float]:
    """Start ``rate`` requests/s of ``GET path(i)`` for ``seconds``; latency percentiles."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, str] | None] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (job := await queue.get()) is not None:
                scheduled, target = job
                try:
                    status = await _get(reader, writer, host, target)
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                if status >= 400:
                    errors += 1
                else:
                    latencies.append(loop.time() - scheduled)
        finally:
            writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    count = int(rate * seconds)
    start = loop.time()
    for i in range(count):
        scheduled = start + i / rate
        if (delay := scheduled - loop.time()) > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((scheduled, path(i)))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = loop.time() - start
    return {
        "mode": f"open loop {rate:g} req/s, {connections} connections (bench/_load.py)",
        **summarise(latencies, errors, elapsed),
    }
