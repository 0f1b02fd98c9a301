"""Entry-point wrapper: known input errors print one clear line, not a traceback."""
from __future__ import annotations

import sys
from typing import Callable

from .kaggle_csv import CsvFormatError
from .params import ParamsError
from .submission import SubmissionError


class DataError(ValueError):
    """Input data is missing or inconsistent; the message says what to do."""


def run(main: Callable[[], None]) -> None:
    try:
        main()
    except (ParamsError, CsvFormatError, DataError, SubmissionError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
