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
