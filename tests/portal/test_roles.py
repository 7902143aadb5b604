"""Every staff page with every role: a role opens what it needs and nothing else."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from core.models import Job
from core.roles import ANALYST, BUYER, DATA_ADMIN, MARKETING
from portal import urls as portal_urls
from tests.factories import StaffUserFactory, UserFactory
from tests.shop_data import build_shop_data

ALL = {MARKETING, ANALYST, DATA_ADMIN, BUYER}
# The pages about the signed-in login itself (its own API tokens): every active staff account, role or not.
OWN_LOGIN_PAGES = {"api_tokens", "api_token_revoke", "api_tokens_revoke"}
# Written out by hand (not derived from the code): which roles may use each page of the portal.
ALLOWED = {
    "dashboard": ALL,
    "customer_list": {MARKETING, DATA_ADMIN},
    "customer_list_csv": {MARKETING, DATA_ADMIN},
    "customer_detail": {MARKETING, DATA_ADMIN},
    "customer_note_add": {MARKETING, DATA_ADMIN},
    "customer_consent_change": {DATA_ADMIN},
    "customer_data_download": {DATA_ADMIN},
    "customer_erasure": {DATA_ADMIN},
    "segments": ALL,
    # the files with customer ids; with ?pseudonymize=1 the analyst too (tests/portal/test_data_rights.py)
    "segments_csv": {MARKETING, DATA_ADMIN},
    "segments_recompute": {MARKETING},
    "promotion_list": ALL,
    "promotion_create": {MARKETING},
    "promotion_detail": ALL,
    "promotion_compute_targets": {MARKETING},
    "promotion_targets_csv": {MARKETING, DATA_ADMIN},
    "promotion_measure_results": {MARKETING},
    "model_list": ALL,
    "model_train": {DATA_ADMIN},
    "model_activate": {DATA_ADMIN},
    "model_new_item_weight": {DATA_ADMIN},
    "data_import": {DATA_ADMIN},
    "job_list": ALL,
    "job_detail": ALL,
    "job_status_json": ALL,
    "audit_list": {DATA_ADMIN},
    "audit_csv": {DATA_ADMIN},
    "inventory_overview": {BUYER},
    "inventory_forecast_now": {BUYER},
    "inventory_reorder_list": {BUYER},
    "inventory_reorder_csv": {BUYER},
    "inventory_product": {BUYER},
    "api_tokens": ALL,
    "api_token_revoke": ALL,
    "api_tokens_revoke": ALL,
    "api_tokens_all": {DATA_ADMIN},
    "api_token_revoke_any": {DATA_ADMIN},
    "api_tokens_revoke_login": {DATA_ADMIN},
}
POST_ONLY = {
    "customer_note_add",
    "customer_consent_change",
    "segments_recompute",
    "promotion_compute_targets",
    "promotion_measure_results",
    "model_train",
    "model_activate",
    "model_new_item_weight",
    "inventory_forecast_now",
    "api_token_revoke",
    "api_tokens_revoke",
    "api_token_revoke_any",
    "api_tokens_revoke_login",
}


def _portal_url_names(patterns=None) -> set[str]:
    names = set()
    for pattern in patterns if patterns is not None else portal_urls.urlpatterns:
        if isinstance(pattern, URLResolver):
            names |= _portal_url_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def _url(name: str, data: dict) -> str:
    job = Job.objects.order_by("pk").first()
    kwargs = {
        "customer_detail": {"customer_id": data["customers"][0].pk},
        "customer_note_add": {"customer_id": data["customers"][0].pk},
        "customer_consent_change": {"customer_id": data["customers"][0].pk},
        "customer_data_download": {"customer_id": data["customers"][0].pk},
        "customer_erasure": {"customer_id": data["customers"][0].pk},
        "promotion_detail": {"promotion_id": data["promotion"].pk},
        "promotion_compute_targets": {"promotion_id": data["promotion"].pk},
        "promotion_targets_csv": {"promotion_id": data["promotion"].pk},
        "promotion_measure_results": {"promotion_id": data["promotion"].pk},
        "model_activate": {"version_id": data["version"].pk},
        "model_new_item_weight": {"version_id": data["version"].pk},
        "job_detail": {"job_id": job.pk},
        "job_status_json": {"job_id": job.pk},
        "inventory_product": {"external_id": data["products"][0].external_id},
    }.get(name, {})
    return reverse(f"staff:{name}", kwargs=kwargs)


def test_the_table_covers_every_portal_page():
    assert set(ALLOWED) == _portal_url_names()


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_opens_exactly_its_pages(db, role, django_capture_on_commit_callbacks):
    data = build_shop_data(2)
    client = Client()
    client.force_login(StaffUserFactory(username=f"role-{role}", roles=[role]))
    outcomes = {}
    for name in sorted(ALLOWED):
        url = _url(name, data)
        with django_capture_on_commit_callbacks():  # queued jobs are not sent anywhere
            response = client.post(url, {}) if name in POST_ONLY else client.get(url)
        outcomes[name] = response.status_code
    forbidden = {name for name, status in outcomes.items() if status == 403}
    assert forbidden == set(ALLOWED) - {name for name, roles in ALLOWED.items() if role in roles}, outcomes
    # allowed: the page, a redirect after an action, a 400 for the empty form, a 404 for nothing to export yet
    failed = {name: status for name, status in outcomes.items() if name not in forbidden}
    assert set(failed.values()) <= {200, 302, 400, 404}, failed


def test_staff_without_a_role_and_shoppers_get_403_anonymous_visitors_the_login(db):
    """A staff login without a role still opens the pages about itself (``OWN_LOGIN_PAGES``)."""
    data = build_shop_data(1)
    no_role = Client()
    no_role.force_login(StaffUserFactory(username="no-role", roles=[]))
    shopper = Client()
    shopper.force_login(UserFactory(username="just-a-shopper"))
    anonymous = Client()
    for name in sorted(ALLOWED):
        url = _url(name, data)
        if name in OWN_LOGIN_PAGES:
            # the page, or 405 for a GET of a POST-only action: past the guard either way
            assert no_role.get(url).status_code in {200, 405}, name
        else:
            assert no_role.get(url).status_code == 403, name
        assert shopper.get(url).status_code == 403, name
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name


def test_an_analyst_sees_figures_but_no_names_and_no_buttons_of_other_roles(db):
    data = build_shop_data(3)
    analyst = Client()
    analyst.force_login(StaffUserFactory(username="analyst-1", roles=[ANALYST]))

    segments = analyst.get(reverse("staff:segments")).content.decode()
    promotion = analyst.get(reverse("staff:promotion_detail", args=[data["promotion"].pk])).content.decode()
    models = analyst.get(reverse("staff:model_list")).content.decode()

    for customer in data["customers"]:
        assert customer.name not in segments and customer.name not in promotion
    assert 'id="export-segments"' not in segments and 'id="recompute-segments"' not in segments
    assert 'id="compute-targets"' not in promotion and 'id="download-targets"' not in promotion
    assert 'id="train-now"' not in models
    assert reverse("staff:customer_list") not in analyst.get(reverse("staff:dashboard")).content.decode()
    # the segments' names, with no link to a customer list the analyst may not open
    assert "<td>Champions</td>" in segments and reverse("staff:customer_list") not in segments


def test_a_403_in_the_portal_names_the_permission_and_the_roles_that_hold_it_on_a_page(db):
    """It was Django's bare "403 Forbidden", where README says a 403 names the permission and roles."""
    buyer = Client()
    buyer.force_login(StaffUserFactory(username="buyer-403", roles=[BUYER]))

    response = buyer.get(reverse("staff:customer_list"))

    page = response.content.decode()
    assert response.status_code == 403
    assert "This needs the staff permission core.view_customers (held by the" in page
    assert 'id="forbidden"' in page and reverse("staff:dashboard") in page


def test_a_missing_page_is_a_page_of_the_site(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and 'id="not-found"' in response.content.decode()
