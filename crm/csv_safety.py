"""CSV injection: a cell that a spreadsheet would read as a formula is written as text.

Every CSV the product writes goes through ``csv_safe_writer`` (or ``csv_safe_cell`` for a single value):
a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe, as OWASP recommends. Numbers stay numbers: ``-3`` (a return's quantity) or ``+1.5`` are
not formulas and keep their value, so exported files still re-import unchanged.
"""

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet must show it: text that could start a formula is prefixed with '."""
    if not isinstance(value, str) or not value.startswith(FORMULA_TRIGGERS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


class _SafeWriter:
    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_safe_writer(out: IO[str], **options: Any) -> _SafeWriter:
    """A ``csv.writer`` whose every cell goes through ``csv_safe_cell``."""
    return _SafeWriter(out, **options)
