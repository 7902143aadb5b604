"""The portal's template filters, which the shop's pages use as well."""

from decimal import Decimal

import pytest

from portal.templatetags.portal import (
    forecast_model_label,
    money,
    money_change,
    percent,
    points,
    readable,
    units,
)


@pytest.mark.parametrize(
    ("value", "places", "written"),
    [
        (Decimal("1084.14"), 2, "£1,084.14"),
        (Decimal("-77183.6"), 2, "−£77,183.60"),  # a refund: the sign before the symbol, not "£-77,183.60"
        (Decimal("-2.55"), 2, "−£2.55"),
        (Decimal("2.345"), 2, "£2.35"),  # half up, as floatformat rounded
        (1234567.5, 0, "£1,234,568"),
        (0, 2, "£0.00"),
        (None, 2, "–"),
    ],
)
def test_money_is_written_one_way_everywhere(value, places, written):
    assert money(value, places) == written


@pytest.mark.parametrize(("value", "written"), [(-1, "−1"), (1200, "1,200"), (0, "0"), (None, "–")])
def test_units_of_a_returned_line_carry_the_minus_sign_money_does(value, written):
    # the shop's orders wrote "-1 ×" beside "−£2.55"
    assert units(value) == written


def test_money_takes_the_shops_currency(settings):
    settings.CURRENCY_SYMBOL = "€"
    assert money(Decimal("-3.5")) == "−€3.50"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ({"updated": 0, "created": 8}, "created 8, updated 0"),
        ({"b": 100.1, "alpha": 9.424, "r": 0.8256603261414148}, "r 0.8257, α 9.424, b 100.1"),
        (
            {"seconds": 31.133672782999952, "rows": 77183.6},
            "Recommendations written 77,183.6, Time taken 31.13 s",
        ),
        ({"at_risk": 3, "ses": 2, "files_checked": 1}, "At risk 3, Exponential smoothing 2, files checked 1"),
        (["a", None], "a, –"),
        ({}, "–"),
    ],
)
def test_a_jobs_parameters_read_as_words_and_figures(value, written):
    """A job page showed "activate True" and "r 0.8256603261414148"; the keys of a mapping are named as
    the page names them (``JOB_FIELD_LABELS``, in its order), or read as their words."""
    assert readable(value) == written


def test_every_forecast_model_and_baseline_has_a_name_on_the_pages():
    from inventory.forecasting.engine import CANDIDATES
    from inventory.forecasting.metrics import BASELINES

    assert {forecast_model_label(key) for key in (*CANDIDATES, *BASELINES, "chosen")}.isdisjoint(
        {*CANDIDATES, *BASELINES, "chosen"}
    )
    assert forecast_model_label("ses") == "Exponential smoothing"


def test_a_negative_share_has_the_minus_sign_of_money_and_a_difference_of_shares_is_in_points():
    """A page read "-5.47% (95% CI -13.90% …)" beside "−£16.87"; the uplift of conversion is a
    difference of two rates, in percentage points."""
    assert percent(-0.0547, 2) == "−5.47%"
    assert percent(0.125) == "12.5%"
    assert points(-0.0547) == "−5.47 percentage points"
    assert points(0.0125) == "+1.25 percentage points"
    assert points(0) == "0.00 percentage points"
    assert money_change(Decimal("3.11")) == "+£3.11" and money_change(Decimal("-3.11")) == "−£3.11"


def test_a_job_fact_writes_counts_with_separators_and_dates_as_pages_do():
    """Job pages read "Customers 4338" and "As of 2026-12-05"."""
    assert readable(4338) == "4,338"
    assert readable("2026-12-05") == "5 Dec 2026"
    assert readable(True) == "yes" and readable("2026-12-05T10:00") == "2026-12-05T10:00"
    assert points(None) == "–"
