"""Model versions over the API (staff)."""

import pytest

from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db


def test_model_versions_with_metrics_and_status_filter(staff_client):
    active = ModelVersionFactory(
        status="active", metrics={"mlp": {"ndcg@10": 0.37}, "popular": {"ndcg@10": 0.12}}
    )
    ModelVersionFactory(status="failed", error="Out of memory")

    detail = staff_client.get(f"/api/model-versions/{active.pk}/").json()
    failed = staff_client.get("/api/model-versions/?status=failed").json()["results"]

    assert detail["ndcg"] == 0.37
    assert detail["metrics"]["popular"] == {"ndcg@10": 0.12}
    assert [version["error"] for version in failed] == ["Out of memory"]
