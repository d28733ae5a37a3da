"""The ``clv`` command line: one module per subcommand under :mod:`clv.commands`.

Each subcommand module exposes ``register(subparsers)``, which adds its parser
and sets ``func`` to a callable taking the parsed arguments and returning an
exit code. Errors a user can fix are raised as :class:`clv.errors.UserError`
and printed as one line with exit code 2, never as a stack trace.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from clv import __version__
from clv.commands import (
    calc,
    cdnow,
    dashboard,
    generate,
    predict,
    publish,
    run_pipeline,
    summary,
    validate,
)
from clv.errors import UserError

COMMANDS = (generate, validate, predict, publish, run_pipeline, summary, dashboard, calc, cdnow)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clv",
        description="Customer-lifetime-value warehouse toolkit.",
    )
    parser.add_argument("--version", action="version", version=f"clv {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"clv {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
