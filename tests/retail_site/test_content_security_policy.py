"""Every page carries a Content-Security-Policy that allows no inline script, and the pages keep to it:
no inline <script>, no on...= handler (their behaviour lives in static/js)."""

import re

import pytest
from django.urls import reverse

from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


STAFF_PAGES = [
    "staff:dashboard",
    "staff:customer_list",
    "staff:segments",
    "staff:promotion_list",
    "staff:promotion_create",
    "staff:model_list",
    "staff:data_import",
    "staff:job_list",
    "staff:api_tokens",
    "staff:api_tokens_all",
]


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_run_no_inline_script_under_a_policy_that_forbids_it(staff_client, shop_data, name):
    JobFactory(status="running", progress=0.5)

    response = staff_client.get(reverse(name))
    html = response.content.decode()

    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert not INLINE_SCRIPT.findall(html)
    assert not INLINE_HANDLER.findall(html)


@pytest.mark.parametrize("url", ["/", "/catalogue/", "/accounts/login/", "/admin/login/"])
def test_shop_and_login_pages_carry_the_policy_too(client, shop_data, url):
    response = client.get(url)
    html = response.content.decode()

    assert response.status_code == 200
    assert _policy(response)["script-src"] == ["'self'"]
    assert not INLINE_SCRIPT.findall(html)
    assert not INLINE_HANDLER.findall(html)


def test_the_job_filter_submits_from_a_static_script(staff_client):
    html = staff_client.get(reverse("staff:job_list")).content.decode()

    assert 'id="kind" data-submit-on-change' in html
    assert "/static/js/forms.js" in html


def test_the_api_docs_relax_only_styles(staff_client, staff_user):
    staff_client.force_login(staff_user)

    response = staff_client.get("/api/docs/")

    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]


def test_the_redoc_page_loads_nothing_from_another_site(client, staff_user):
    client.force_login(staff_user)

    html = client.get("/api/redoc/").content.decode()

    assert "<redoc spec-url=" in html
    assert "googleapis" not in html and "https://" not in html
    assert not INLINE_SCRIPT.findall(html)
