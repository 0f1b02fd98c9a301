"""Entry-point wrapper: errors a user can fix print one clear line, not a traceback."""
from __future__ import annotations

import sys
from typing import Callable

from .errors import UserError


class DataError(UserError):
    """Input data is missing or inconsistent; the message says what to do."""


def run(main: Callable[[], None]) -> None:
    try:
        main()
    except (UserError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
