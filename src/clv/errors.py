"""Exceptions the command line turns into a one-line message and exit code 2."""


class UserError(Exception):
    """A problem the user can fix: bad arguments, missing files, bad input data."""
