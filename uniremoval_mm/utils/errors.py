"""Errors the tools report to a user as one line (no traceback)."""

__all__ = ['UsageError']


class UsageError(ValueError):
    """A mistake in the command line or the config: the tools print it as one line."""
