"""Subcommands of the ``clv`` command line, one module each."""
