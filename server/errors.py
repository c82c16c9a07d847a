"""One clear line instead of a traceback for mistakes a user can fix.

Commands raise `UserError("what is wrong; what to do next")` and wrap their entry point in
`run_cli`, which prints the message on stderr and exits non-zero. Real bugs still show a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem with the user's input or environment, explained in one line."""


def run_cli(main: Callable[[], int | None]) -> None:
    """Run a command's `main`, turning `UserError` into `error: ...` and exit status 2."""
    try:
        status = main()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(status or 0)


def warn(message: str) -> None:
    """A one-line warning on stderr: the command goes on, the user learns what it costs."""
    print(f"warning: {message}", file=sys.stderr)
