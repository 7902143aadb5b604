"""The dashboard room."""

from django.urls import reverse

from recommender.selectors import DASHBOARD_METRICS
from tests.factories import ModelVersionFactory


def test_the_dashboard_shows_the_columns_its_card_has_room_for(staff_client):
    metrics = {"ndcg@10": 0.38, "recall@10": 0.2, "precision@10": 0.3, "map@10": 0.2, "coverage": 0.5}
    ModelVersionFactory(status="active", metrics={"mlp": {**metrics, "new_items": {"ndcg@10": 0.13}}})

    dashboard = staff_client.get(reverse("staff:dashboard")).context["quality"]
    models_page = staff_client.get(reverse("staff:model_list")).context["quality"]

    assert [column["key"] for column in dashboard["columns"]] == list(DASHBOARD_METRICS)
    assert len(models_page["columns"]) == 6


def test_the_revenue_series_holds_every_period_from_the_first_sale_to_the_last(db):
    """Months with no sale were left out, so the chart drew Dec 2011 beside Dec 2026."""
    import datetime as dt

    from django.utils import timezone

    from portal.dashboard.selectors import revenue_series
    from tests.factories import OrderFactory, OrderLineFactory

    tz = timezone.get_current_timezone()
    for placed_at, price in [
        (dt.datetime(2023, 11, 20, 12, tzinfo=tz), 10),
        (dt.datetime(2024, 2, 3, 12, tzinfo=tz), 4),
    ]:
        OrderLineFactory(order=OrderFactory(placed_at=placed_at), quantity=2, unit_price=price)

    months = revenue_series(period="month")
    weeks = revenue_series(period="week")

    assert [(row["period"].date().isoformat(), row["revenue"], row["orders"]) for row in months] == [
        ("2023-11-01", 20.0, 1),
        ("2023-12-01", 0.0, 0),
        ("2024-01-01", 0.0, 0),
        ("2024-02-01", 8.0, 1),
    ]
    assert len(weeks) == 11 and weeks[0]["period"].date() == dt.date(2023, 11, 20)
    assert [row["orders"] for row in weeks] == [1] + [0] * 9 + [1]


def test_a_gap_of_more_than_a_year_is_one_break_in_the_revenue_series(db):
    """Filled with zeros, fifteen empty years (an old history and today's shop orders) squashed the chart
    to one edge; the view labels the break "…"."""
    import datetime as dt

    from django.utils import timezone

    from portal.dashboard.selectors import revenue_series
    from tests.factories import OrderFactory, OrderLineFactory

    tz = timezone.get_current_timezone()
    for placed_at in [dt.datetime(2011, 11, 20, 12, tzinfo=tz), dt.datetime(2026, 12, 5, 12, tzinfo=tz)]:
        OrderLineFactory(order=OrderFactory(placed_at=placed_at), quantity=1, unit_price=3)

    months = revenue_series(period="month")

    assert [(row["period"] and row["period"].date().isoformat(), row["orders"]) for row in months] == [
        ("2011-11-01", 1),
        (None, None),
        ("2026-12-01", 1),
    ]
    assert len(revenue_series(period="week")) == 3


def test_the_dashboard_draws_the_break_as_a_gap_in_the_line_and_the_bars(staff_client):
    import datetime as dt

    from django.utils import timezone

    from tests.factories import OrderFactory, OrderLineFactory

    tz = timezone.get_current_timezone()
    for placed_at in [
        dt.datetime(2011, 10, 20, 12, tzinfo=tz),
        dt.datetime(2011, 11, 20, 12, tzinfo=tz),
        dt.datetime(2026, 12, 5, 12, tzinfo=tz),
    ]:
        OrderLineFactory(order=OrderFactory(placed_at=placed_at), quantity=1, unit_price=3)

    context = staff_client.get(reverse("staff:dashboard")).context

    assert ">…</text>" in context["revenue_chart"]
    assert context["revenue_chart"].count("<polyline") == 1  # Oct-Nov 2011; Dec 2026 is a point alone
    assert context["orders_chart"].count('<rect class="bar"') == 3
