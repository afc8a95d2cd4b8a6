"""Errors of :mod:`graphrec.kge`; each message says what to change."""

from __future__ import annotations


class KGEError(ValueError):
    """Knowledge-graph embedding input that cannot be used; the message says what to change."""


class UnknownKGEModelError(KGEError):
    """A model name PyKEEN does not know."""


class KGEDimensionError(KGEError):
    """A KGE run's vectors do not fit the dimension asked for."""
