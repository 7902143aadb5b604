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
