"""Which moments every database can hold: those whose UTC reading is within years 1 to 9999."""

import datetime as dt

import pytest

from core.moments import moment_storable

PLUS_ONE = dt.timezone(dt.timedelta(hours=1))
MINUS_FIVE = dt.timezone(dt.timedelta(hours=-5))


@pytest.mark.parametrize(
    ("moment", "storable"),
    [
        (dt.datetime(1, 1, 1, tzinfo=dt.UTC), True),
        (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), True),
        (dt.datetime(1, 1, 1, 1, tzinfo=PLUS_ONE), True),
        (dt.datetime(1, 1, 1, tzinfo=PLUS_ONE), False),
        (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_FIVE), False),
        (dt.datetime(2011, 12, 9, 12, 50, tzinfo=MINUS_FIVE), True),
    ],
)
def test_a_moment_is_storable_when_its_utc_reading_is_on_the_calendar(moment, storable):
    assert moment_storable(moment) is storable
