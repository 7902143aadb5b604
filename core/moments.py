"""Which moments the database can hold.

SQLite (and MySQL) keep a moment as its UTC reading, converted in Python; a moment whose UTC reading falls
before year 1 or after year 9999 (``0001-01-01T00:00:00+01:00``, ``9999-12-31T23:59:59-05:00``) cannot
be converted, and a query comparing with it fails with an OverflowError. PostgreSQL takes such a moment,
so a bound the API refuses, or a page ignores, is the same on every database.
"""

import datetime as dt

OUT_OF_RANGE = "Datetime value out of range."


def moment_storable(moment: dt.datetime) -> bool:
    """Whether ``moment`` (aware) can be stored in, or compared with, a DateTimeField on any database."""
    try:
        moment.astimezone(dt.UTC)
    except OverflowError:
        return False
    return True
