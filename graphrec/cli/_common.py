"""Helpers shared by the command modules."""

from __future__ import annotations

from collections.abc import Callable

import typer
from pydantic import ValidationError

from graphrec.config import Settings, get_settings


def load_settings() -> Settings:
    """Settings from the environment, with validation errors as a one-line CLI error."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"GRAPHREC_{'_'.join(map(str, err['loc'])).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        typer.secho(f"error: invalid settings: {problems}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


def announce(tell: Callable[[], bool], what: str) -> None:
    """Run one of :mod:`graphrec.feed`'s announcements, saying what happened on stderr.

    The change it announces is already committed, so a failure here is a warning: the
    running API processes then need ``POST /admin/reload`` to see ``what``.
    """
    from graphrec.graph.errors import GraphError

    try:
        told = tell()
    except GraphError as exc:
        typer.secho(
            f"warning: could not tell the running API processes about {what} ({exc}); "
            "POST /admin/reload on one of them to load it",
            err=True,
            fg=typer.colors.YELLOW,
        )
        return
    if told:
        typer.echo(f"{what} announced in the change feed: API processes apply it", err=True)
