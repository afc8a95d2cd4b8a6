"""The async twin of :class:`~graphrec.graph.client.GraphClient`, for the FastAPI service:
reads routed as reads, writes in managed (retried) transactions, errors translated the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import neo4j
from neo4j import AsyncGraphDatabase, RoutingControl
from neo4j.exceptions import AuthError, ServiceUnavailable

from graphrec.graph import cypher
from graphrec.graph.client import ConnectionTarget, _counters, translate_error


class AsyncGraphClient:
    """The async twin of :class:`GraphClient`, for the FastAPI service."""

    def __init__(self, driver: neo4j.AsyncDriver, target: ConnectionTarget) -> None:
        self.driver = driver
        self.target = target

    @classmethod
    async def open(
        cls, target: ConnectionTarget, *, verify: bool = True, **driver_config: Any
    ) -> Self:
        try:
            driver = AsyncGraphDatabase.driver(target.uri, auth=target.auth, **driver_config)
        except Exception as exc:
            raise translate_error(target, exc) from exc
        client = cls(driver, target)
        if verify:
            try:
                await driver.verify_connectivity()
            except Exception as exc:
                await driver.close()
                raise translate_error(target, exc) from exc
        return client

    async def close(self) -> None:
        await self.driver.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def read(self, name: str, /, **params: Any) -> list[dict[str, Any]]:
        try:
            result = await self.driver.execute_query(
                cypher.load(name),
                params,
                database_=self.target.database,
                routing_=RoutingControl.READ,
            )
        except (AuthError, ServiceUnavailable) as exc:
            raise translate_error(self.target, exc) from exc
        return [record.data() for record in result.records]

    async def write(self, name: str, /, **params: Any) -> dict[str, int]:
        return await self.write_all([(name, params)])

    async def write_all(self, statements: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, int]:
        """Run the write statements ``(name, params)`` in order, in one transaction; the
        counters summed over them."""
        queries = [(cypher.load(name), params) for name, params in statements]

        async def work(tx: neo4j.AsyncManagedTransaction) -> dict[str, int]:
            total: dict[str, int] = {}
            for query, params in queries:
                counters = _counters(await (await tx.run(query, params)).consume())
                for key, value in counters.items():
                    total[key] = total.get(key, 0) + value
            return total

        try:
            async with self.driver.session(database=self.target.database) as session:
                return await session.execute_write(work)
        except (AuthError, ServiceUnavailable) as exc:
            raise translate_error(self.target, exc) from exc
