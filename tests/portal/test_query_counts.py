"""Every staff page costs the same number of queries whatever the amount of data behind it."""

import pytest
from django.urls import reverse

from core.models import Job
from tests.shop_data import build_shop_data

# The most queries each page may run, counted as pytest-django counts them (session, user and
# transaction savepoints included; a staff page also reads the user's role permissions, two queries).
STAFF_PAGES = {
    "dashboard": 16,  # two of them check whether the cached aggregates are still current
    "customer_list": 10,
    "customer_list_csv": 10,  # + its audit entry
    "customer_detail": 17,  # + the customer's basket and recent activity, which re-rank their list, and
    # the explanations of its recommendations
    "segments": 12,
    "segments_csv": 9,  # + its audit entry
    "promotion_list": 8,
    "promotion_detail": 12,  # + who of the target group consents now (the send list)
    "promotion_targets_csv": 9,  # + its audit entry
    "model_list": 8,
    "data_import": 7,
    "job_list": 8,
    "job_detail": 7,
    "job_status_json": 7,
    "api_tokens": 7,
    "api_tokens_all": 7,  # + the count of its pages
}


def _staff_url(name: str, data: dict) -> str:
    kwargs = {
        "customer_detail": {"customer_id": data["customers"][0].pk},
        "promotion_detail": {"promotion_id": data["promotion"].pk},
        "promotion_targets_csv": {"promotion_id": data["promotion"].pk},
        "job_detail": {"job_id": Job.objects.order_by("pk").first().pk},
        "job_status_json": {"job_id": Job.objects.order_by("pk").first().pk},
    }.get(name, {})
    return reverse(f"staff:{name}", kwargs=kwargs)


def _get(client, url: str) -> None:
    response = client.get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    assert response.status_code in (200, 302), url


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_page_queries_do_not_grow_with_data(staff_client, shopper, name, django_assert_max_num_queries):
    small = build_shop_data(1, shopper=shopper)
    with django_assert_max_num_queries(STAFF_PAGES[name]) as small_queries:
        _get(staff_client, _staff_url(name, small))
    build_shop_data(6)
    with django_assert_max_num_queries(STAFF_PAGES[name]) as large_queries:
        _get(staff_client, _staff_url(name, small))
    assert len(large_queries) == len(small_queries)
