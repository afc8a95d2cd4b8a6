"""Errors a parser raises when it cannot start at all.

Bad *rows* never raise: they become :class:`graphrec.loaders.rows.Reject` rows.
A :class:`LoaderError` means the whole source is unusable (a required file is
missing, the format is unknown, a mapping file is wrong) and its message is one
line that names the path.
"""

from __future__ import annotations


class LoaderError(Exception):
    """A source that cannot be parsed at all; the message names the path."""


class DownloadError(LoaderError):
    """A dataset download that failed or did not verify."""
