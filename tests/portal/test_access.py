import pytest
from django.test import Client
from django.urls import reverse

from core.models import Job
from recommender.models import ModelVersion

STAFF_PAGES = [
    ("staff:dashboard", {}),
    ("staff:customer_list", {}),
    ("staff:customer_list_csv", {}),
    ("staff:customer_detail", {"customer_id": "customer"}),
    ("staff:segments", {}),
    ("staff:segments_csv", {}),
    ("staff:promotion_list", {}),
    ("staff:promotion_create", {}),
    ("staff:promotion_detail", {"promotion_id": "promotion"}),
    ("staff:promotion_targets_csv", {"promotion_id": "promotion"}),
    ("staff:model_list", {}),
    ("staff:data_import", {}),
    ("staff:job_list", {}),
    ("staff:job_detail", {"job_id": "job"}),
    ("staff:job_status_json", {"job_id": "job"}),
    ("staff:api_tokens", {}),
    ("staff:api_tokens_all", {}),
]
STAFF_ACTIONS = [
    ("staff:customer_note_add", {"customer_id": "customer"}),
    ("staff:customer_consent_change", {"customer_id": "customer"}),
    ("staff:segments_recompute", {}),
    ("staff:promotion_compute_targets", {"promotion_id": "promotion"}),
    ("staff:promotion_measure_results", {"promotion_id": "promotion"}),
    ("staff:model_train", {}),
    ("staff:model_activate", {"version_id": "version"}),
    ("staff:api_token_revoke", {}),
    ("staff:api_tokens_revoke", {}),
    ("staff:api_token_revoke_any", {}),
    ("staff:api_tokens_revoke_login", {}),
]


def _url(name: str, kwargs: dict, shop_data: dict) -> str:
    objects = {
        "customer": shop_data["customers"][0],
        "promotion": shop_data["promotion"],
        "version": shop_data["old_version"],
        "job": Job.objects.first(),
    }
    return reverse(name, kwargs={key: objects[value].pk for key, value in kwargs.items()})


@pytest.mark.parametrize(
    "name", [name for name, kwargs in STAFF_PAGES if not kwargs and not name.endswith("_csv")]
)
def test_staff_pages_render_for_a_new_shop_without_any_data(staff_client, name):
    # a fresh install before its first import: no orders, segments, versions or jobs
    response = staff_client.get(reverse(name))

    assert response.status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), STAFF_PAGES)
def test_staff_pages_render_for_staff(staff_client, shop_data, name, kwargs):
    response = staff_client.get(_url(name, kwargs, shop_data))
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), STAFF_PAGES + STAFF_ACTIONS)
def test_anonymous_visitors_are_sent_to_login(client, shop_data, name, kwargs):
    url = _url(name, kwargs, shop_data)
    response = client.post(url) if (name, kwargs) in STAFF_ACTIONS else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("name", "kwargs"), STAFF_PAGES + STAFF_ACTIONS)
def test_shoppers_are_forbidden_the_staff_portal(shopper_client, shop_data, name, kwargs):
    jobs_before = Job.objects.count()
    url = _url(name, kwargs, shop_data)
    response = shopper_client.post(url) if (name, kwargs) in STAFF_ACTIONS else shopper_client.get(url)
    assert response.status_code == 403
    assert Job.objects.count() == jobs_before
    assert ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).get() == shop_data["version"]


def test_staff_login_page_sends_staff_back_to_the_portal(db, staff_user):
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": "staffer", "password": "pass-word-123", "next": reverse("staff:dashboard")},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:dashboard")


@pytest.mark.parametrize(
    ("name", "form_id"),
    [
        ("staff:promotion_create", "promotion-form"),
        ("staff:data_import", "import-form"),
        ("staff:model_list", None),
        ("staff:segments", None),
    ],
)
def test_staff_forms_carry_a_csrf_token(staff_client, shop_data, name, form_id):
    html = staff_client.get(reverse(name)).content.decode()
    post_forms = html.count('method="post"')
    assert post_forms >= 1
    assert html.count('name="csrfmiddlewaretoken"') >= post_forms
    if form_id:
        assert f'id="{form_id}"' in html


def test_posts_without_a_csrf_token_are_refused(db, staff_user, shop_data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    customer = shop_data["customers"][0]
    response = client.post(reverse("staff:customer_note_add", args=[customer.pk]), {"body": "Hello"})
    assert response.status_code == 403
    assert not customer.notes.filter(body="Hello").exists()
