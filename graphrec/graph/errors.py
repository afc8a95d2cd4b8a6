"""Errors a user can act on. The CLI prints them as one line and exits non-zero."""


class GraphError(Exception):
    """Base class for graph errors with a user-facing message."""


class GraphUnavailableError(GraphError):
    """The server cannot be reached (down, wrong host or port, not Bolt)."""


class GraphAuthError(GraphError):
    """The server refused the credentials."""


class EmbeddedServerError(GraphError):
    """The embedded server could not be started, stopped or used."""


class PortInUseError(EmbeddedServerError):
    """A port the embedded server needs is taken by another process."""
