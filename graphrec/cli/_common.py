"""Helpers shared by the command modules."""

from __future__ import annotations

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
