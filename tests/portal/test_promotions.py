"""The promotions room: create a promotion, compute and download its targets, measure its results."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from core.models import Job
from crm.models import Promotion
from tests.factories import CategoryFactory, ProductFactory


def _promotion_post(**overrides) -> dict:
    data = {
        "name": "Christmas candles",
        "skus": "",
        "discount_percent": "15",
        "starts_on": "2011-12-01",
        "ends_on": "2011-12-24",
        "channel": "email",
        "audience_size": "2",
        "control_share": "0.25",
        "exclude_bought_within_days": "30",
        "exclude_contacted_within_days": "14",
    }
    data.update(overrides)
    return data


def test_promotion_create_with_skus(staff_client, shop_data):
    products = shop_data["products"][:2]
    skus = f"{products[0].external_id.lower()}, {products[1].external_id}"

    response = staff_client.post(reverse("staff:promotion_create"), _promotion_post(skus=skus))

    promotion = Promotion.objects.get(name="Christmas candles")
    assert response["Location"] == reverse("staff:promotion_detail", args=[promotion.pk])
    assert set(promotion.products.all()) == set(products)
    assert promotion.control_share == 0.25
    assert promotion.ends_on == dt.date(2011, 12, 24)


def test_promotion_create_with_a_category(staff_client, shop_data):
    category = shop_data["categories"][0]
    response = staff_client.post(reverse("staff:promotion_create"), _promotion_post(category=category.pk))
    assert response.status_code == 302
    assert Promotion.objects.get(name="Christmas candles").category == category


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"skus": "NOPE1 NOPE2"}, "Unknown SKU(s): NOPE1, NOPE2"),
        ({}, "Name the promoted products or a category."),
        ({"ends_on": "2011-11-01", "skus": "SKU"}, "before it starts"),
        ({"control_share": "0.9", "skus": "SKU"}, "Ensure this value is less than or equal to 0.5."),
        ({"discount_percent": "120", "skus": "SKU"}, "Ensure this value is less than or equal to 100."),
        ({"audience_size": "1000", "skus": "SKU"}, "larger than the"),
    ],
)
def test_promotion_form_refuses_bad_input(staff_client, shop_data, overrides, message):
    sku = shop_data["products"][0].external_id
    overrides = {key: (sku if value == "SKU" else value) for key, value in overrides.items()}

    response = staff_client.post(reverse("staff:promotion_create"), _promotion_post(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Promotion.objects.filter(name="Christmas candles").exists()


def test_promotion_needs_skus_or_a_category_not_both(staff_client, shop_data):
    category = CategoryFactory(name="Garden", path="Garden")
    ProductFactory(category=category)
    sku = shop_data["products"][0].external_id
    response = staff_client.post(
        reverse("staff:promotion_create"), _promotion_post(skus=sku, category=category.pk)
    )
    assert response.status_code == 400
    assert "Give either products or a category, not both." in response.content.decode()


def test_promotion_detail_compute_and_download(staff_client, shop_data, django_capture_on_commit_callbacks):
    promotion = shop_data["promotion"]
    html = staff_client.get(reverse("staff:promotion_detail", args=[promotion.pk])).content.decode()
    assert 'id="compute-targets"' in html
    assert 'id="download-targets"' in html

    with django_capture_on_commit_callbacks() as callbacks:
        staff_client.post(reverse("staff:promotion_compute_targets", args=[promotion.pk]))
    job = Job.objects.get(kind=Job.Kind.TARGETS)
    assert job.params == {"promotion_id": promotion.pk}
    assert len(callbacks) == 1
    detail = staff_client.get(reverse("staff:promotion_detail", args=[promotion.pk]))
    assert detail.context["job"] == job
    assert f'data-job-url="{reverse("staff:job_status_json", args=[job.pk])}"' in detail.content.decode()

    download = staff_client.get(reverse("staff:promotion_targets_csv", args=[promotion.pk]))
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [row["customer_id"] for row in rows] == list(
        promotion.targets.order_by("rank").values_list("customer__external_id", flat=True)
    )


def test_promotion_results_show_target_against_control(staff_client, shop_data):
    promotion = shop_data["promotion"]
    staff_client.post(reverse("staff:promotion_measure_results", args=[promotion.pk]))
    response = staff_client.get(reverse("staff:promotion_detail", args=[promotion.pk]))
    html = response.content.decode()
    assert (
        response.context["results"]["groups"]["target"]["customers"]
        == promotion.targets.filter(group="target").count()
    )
    assert 'id="results-table"' in html
    assert "Conversion uplift" in html


def test_the_send_list_holds_the_target_group_only(staff_client, shop_data):
    """The one targets file held the control group too, with their e-mails: loaded into a mail tool as it
    was, it sent the offer to the customers held out to measure it."""
    promotion = shop_data["promotion"]
    assert promotion.targets.filter(group="control").exists()
    html = staff_client.get(reverse("staff:promotion_detail", args=[promotion.pk])).content.decode()
    assert 'id="download-send-list"' in html

    url = reverse("staff:promotion_targets_csv", args=[promotion.pk])
    send_list = staff_client.get(url + "?group=target")
    assert (
        send_list["Content-Disposition"]
        == f'attachment; filename="promotion-{promotion.pk}-target-group.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(send_list.content.decode())))
    assert [row["customer_id"] for row in rows] == list(
        promotion.targets.filter(group="target")
        .order_by("rank")
        .values_list("customer__external_id", flat=True)
    )
    both = list(csv.DictReader(io.StringIO(staff_client.get(url).content.decode())))
    assert {row["group"] for row in both} == {"target", "control"}

    wrong = staff_client.get(url + "?group=everyone")
    assert wrong.status_code == 400 and "group must be one of target, control" in wrong.content.decode()


@pytest.mark.parametrize(
    ("bought", "contacted", "exclusions"),
    [
        (0, 14, "contacted in the last 14 days; no consent to E-mail"),
        (1, 0, "bought in the last 1 day; no consent to E-mail"),
        (0, 0, "no consent to E-mail"),
        (30, 14, "bought in the last 30 days; contacted in the last 14 days; no consent to E-mail"),
    ],
)
def test_a_promotions_exclusions_leave_out_a_window_of_0_days(
    staff_client, shop_data, bought, contacted, exclusions
):
    """It read "bought in the last 0 days" for a promotion that excludes no recent buyer."""
    promotion = shop_data["promotion"]
    Promotion.objects.filter(pk=promotion.pk).update(
        exclude_bought_within_days=bought, exclude_contacted_within_days=contacted
    )

    html = staff_client.get(reverse("staff:promotion_detail", args=[promotion.pk])).content.decode()

    assert f"<dt>Exclusions</dt><dd>{exclusions}</dd>" in html


def test_a_promotions_description_has_a_length_limit(staff_client, shop_data):
    """100,000 characters were accepted as a promotion's notes."""
    sku = shop_data["products"][0].external_id
    limit = Promotion._meta.get_field("description").max_length

    too_long = staff_client.post(
        reverse("staff:promotion_create"), _promotion_post(skus=sku, description="x" * (limit + 1))
    )
    at_the_limit = staff_client.post(
        reverse("staff:promotion_create"), _promotion_post(skus=sku, description="x" * limit)
    )

    assert limit == 2000
    assert too_long.status_code == 400 and "at most 2000 characters" in too_long.content.decode()
    assert f'maxlength="{limit}"' in too_long.content.decode()
    assert at_the_limit.status_code == 302
    assert len(Promotion.objects.get(name="Christmas candles").description) == limit


def test_a_description_the_box_takes_is_not_refused_for_its_line_breaks():
    """The browser counts a line break as one character against maxlength but sends it as two (CR LF):
    1,999 characters over 70 lines were refused as 2,070."""
    from portal.promotions.forms import PromotionForm

    lines = ["x" * 27] * 70
    typed = "\r\n".join(lines)
    assert len(typed.replace("\r\n", "\n")) <= 2000 < len(typed)
    form = PromotionForm(data={"description": typed})
    form.is_valid()
    assert "description" not in form.errors
    assert form.cleaned_data["description"] == "\n".join(lines)


def test_the_page_says_how_many_of_the_target_group_the_send_list_holds_once_some_withdrew(
    staff_client, shop_data
):
    """After a target customer withdrew consent the page said "450 in the target group" while the send
    list held 449, without a word why."""
    from crm.services.privacy import consent_set

    promotion = shop_data["promotion"]
    detail = reverse("staff:promotion_detail", args=[promotion.pk])
    assert 'id="sendable-count"' not in staff_client.get(detail).content.decode()
    target = promotion.targets.filter(group="target").select_related("customer").first()
    consent_set(customer=target.customer, channel=promotion.consent_channel, granted=False, source="shop")

    html = staff_client.get(detail).content.decode()
    count = promotion.targets.filter(group="target").count()
    assert f"{count - 1:,} of the target group consent to E-mail now" in html
    send_list = staff_client.get(
        reverse("staff:promotion_targets_csv", args=[promotion.pk]) + "?group=target"
    )
    assert len(list(csv.DictReader(io.StringIO(send_list.content.decode())))) == count - 1
