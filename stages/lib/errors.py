"""The one base of every error a user can fix: the entry points print its message in one line."""


class UserError(ValueError):
    """Bad input, params or paths; the message names the file, row and field, or the key."""
