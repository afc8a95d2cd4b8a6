"""What a request can name that the index does not hold (the API maps these to 404)."""

from __future__ import annotations


class UnknownError(LookupError):
    """Something a request names is not in the index."""


class UnknownUserError(UnknownError):
    pass


class UnknownItemError(UnknownError):
    pass


class UnknownConceptError(UnknownError):
    pass


class UnknownModelError(UnknownError):
    pass


class NoEmbeddingError(UnknownError):
    """The item exists but the model has no embedding for it (no trained vector, no concepts)."""
