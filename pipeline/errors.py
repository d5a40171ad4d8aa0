"""User-facing errors: the CLI prints them as one ``Error:`` line and exits 1."""


class UsageError(Exception):
    """Something the user can fix: a bad argument, a missing or malformed file."""
