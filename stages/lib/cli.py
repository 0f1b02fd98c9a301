"""Entry-point wrapper: errors a user can fix print one clear line, not a traceback."""
from __future__ import annotations

import sys
from typing import Callable

from .errors import UserError


def describe(error: Exception) -> str:
    """One line: a UserError's own message; an OSError as `path: what went wrong`."""
    if isinstance(error, OSError) and error.strerror and not isinstance(error, UserError):
        where = f"{error.filename}: " if error.filename is not None else ""
        return f"{where}{error.strerror.lower()}"
    return str(error)


def run(main: Callable[[], None]) -> None:
    """Runs a stage's main(); the file system's refusals (a read-only folder, a full disk, a file
    where a folder should be) are a user's to fix, so they print one line like bad input does."""
    try:
        main()
    except (UserError, OSError) as error:
        print(f"error: {describe(error)}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:  # outputs are written atomically: nothing half-written is left
        print("interrupted; the last good outputs are kept", file=sys.stderr)
        sys.exit(130)
