"""A promotion from the form to its downloaded audience, on a shop with a trained and served model,
and the main pages of the portal, the shop and the API docs on that data."""

import csv
import datetime as dt
import re
import time

import pytest
from django.db.models import Count, Sum

from crm.models import Customer, OrderLine, Product, Promotion, PromotionTarget
from crm.services.demo_data import generate_demo_data
from crm.services.segments import segments_compute
from recommender.models import ModelVersion, ProductNeighbour, Recommendation
from recommender.services.training import model_version_train
from recommender.tasks import score_model_version_task
from tests.browser.helpers import drawn_marks, log_in, save_screenshot
from tests.factories import StaffUserFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# A small shop and a quick training: the point is the flow through the pages, not the model's quality.
FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}
DATA_START = dt.date(2024, 1, 1)
DATA_END = dt.date(2024, 12, 31)
AUDIENCE = 30
CONTROL_SHARE = 0.2


@pytest.fixture
def trained_shop() -> dict:
    """Synthetic history, a model trained and served in this process, segments as of the data's end,
    a staff login and a shopper login linked to a customer the model scored."""
    started = time.monotonic()
    generate_demo_data(customers=150, products=60, orders=1500, seed=5, start=DATA_START, months=12)
    version = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
    score_model_version_task.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE, version.error
    segments_compute(as_of=DATA_END)
    StaffUserFactory(username="staffer")
    # The shopper is the customer whose list gives the most different reasons: the best picture.
    shopper_id = (
        Recommendation.objects.filter(model_version=version)
        .values("customer_id")
        .annotate(reasons=Count("reason", distinct=True))
        .order_by("-reasons", "customer_id")
        .values_list("customer_id", flat=True)
        .first()
    )
    shopper = Customer.objects.get(pk=shopper_id)
    shopper.user = UserFactory(username="shopper")
    shopper.save(update_fields=["user"])
    print(f"trained shop ready in {time.monotonic() - started:.1f} s")
    return {"version": version, "shopper": shopper}


def best_selling_skus(count: int) -> list[str]:
    return list(
        OrderLine.objects.filter(product__isnull=False)
        .values("product__external_id")
        .annotate(units=Sum("quantity"))
        .order_by("-units", "product__external_id")
        .values_list("product__external_id", flat=True)[:count]
    )


def test_staff_create_a_promotion_compute_its_targets_in_a_worker_and_download_them(
    page, trained_shop, celery_worker_process
):
    skus = best_selling_skus(2)
    log_in(page, username="staffer")

    # when staff create a promotion on two products through the form
    page.click(".sidebar nav >> text=Promotions")
    page.click("#new-promotion")
    page.fill("#id_name", "December mugs")
    page.fill("#id_skus", ", ".join(skus))
    page.fill("#id_discount_percent", "15")
    page.fill("#id_starts_on", "2024-12-01")
    page.fill("#id_ends_on", "2024-12-31")
    page.fill("#id_audience_size", str(AUDIENCE))
    page.fill("#id_control_share", str(CONTROL_SHARE))
    with page.expect_navigation():
        page.click("#promotion-form button[type=submit]")
    promotion = Promotion.objects.get(name="December mugs")
    page.wait_for_url(re.compile(rf"/staff/promotions/{promotion.pk}/$"))
    assert sorted(promotion.products.values_list("external_id", flat=True)) == sorted(skus)
    assert page.locator("#download-targets").count() == 0

    # and compute its targets: the worker runs the job and the page follows it until it is done
    with page.expect_navigation():
        page.click("#compute-targets")
    assert page.locator("#targets-job .job").is_visible()
    page.wait_for_selector("#download-targets", timeout=120_000)
    assert page.get_attribute("#targets-job .job", "data-job-status") == "succeeded"
    promotion.refresh_from_db()
    assert promotion.status == Promotion.Status.READY
    assert promotion.model_version_id == trained_shop["version"].pk  # scored by the served MLP
    assert page.locator("#promotion-targets tbody tr").count() == min(AUDIENCE, 25)

    # then the downloaded CSV holds the whole audience, target and control, best first
    with page.expect_download() as download_info:
        page.click("#download-targets")
    download = download_info.value
    assert download.suggested_filename == f"promotion-{promotion.pk}-targets.csv"
    with open(download.path(), newline="") as csv_file:
        rows = list(csv.reader(csv_file))
    assert rows[0] == ["customer_id", "email", "group", "rank", "score", "expected_value"]
    assert len(rows) - 1 == AUDIENCE
    assert [int(row[3]) for row in rows[1:]] == list(range(1, AUDIENCE + 1))
    assert sum(row[2] == "control" for row in rows[1:]) == round(AUDIENCE * CONTROL_SHARE)
    expected = list(
        PromotionTarget.objects.filter(promotion=promotion)
        .order_by("rank")
        .values_list("customer__external_id", "group")
    )
    assert [(row[0], row[2]) for row in rows[1:]] == expected
    assert all(
        Customer.objects.filter(external_id__in=[row[0] for row in rows[1:]]).values_list(
            "email_opt_in", flat=True
        )
    )

    # and the results of the window can be measured from the same page
    with page.expect_navigation():
        page.click("#measure-results")
    assert page.locator("#results-table tr.group-target").is_visible()
    assert page.locator("#results-table tr.group-control").is_visible()
    save_screenshot(page, "promotion-detail")


def test_the_main_pages_render_on_a_trained_shop(page, trained_shop):
    version, shopper = trained_shop["version"], trained_shop["shopper"]
    log_in(page, username="staffer")

    # the dashboard draws every chart and names the served version
    for chart in ("#revenue-chart", "#orders-chart", "#segment-chart", "#ndcg-chart"):
        assert page.locator(f"{chart} svg").is_visible(), chart
        assert drawn_marks(page, chart) > 1, chart
    assert f"v{version.pk}" in page.inner_text("#model-quality")
    save_screenshot(page, "staff-dashboard")

    # a customer's 360 view
    customer = shopper
    page.goto(f"/staff/customers/{customer.pk}/")
    reasons = page.locator(".recommendation .reason").all_inner_texts()
    assert len(reasons) == min(10, Recommendation.objects.filter(customer=customer).count())
    assert all(reason and "{" not in reason for reason in reasons)
    assert page.inner_text("#rfm-group")
    save_screenshot(page, "customer-360")

    # segments, from the run computed above
    page.click(".sidebar nav >> text=Segments")
    assert drawn_marks(page, "main") > 1
    save_screenshot(page, "segments")

    # models: the served version against its baselines
    page.click(".sidebar nav >> text=Models")
    assert page.locator("#train-now").is_visible()
    assert f"v{version.pk}" in page.inner_text("main")
    save_screenshot(page, "models")

    # data import
    page.click(".sidebar nav >> text=Data import")
    assert page.locator("#import-form").is_visible()

    # the API's browsable documentation, served without any CDN
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 10
    save_screenshot(page, "api-docs", full_page=False)

    # the jobs list filters by kind as soon as one is chosen (a static script: no inline handler)
    page.goto("/staff/jobs/")
    with page.expect_navigation():
        page.select_option("#kind", "train")
    assert "kind=train" in page.url

    # the shopper's home and a product page with what is bought together with it
    page.context.clear_cookies()
    log_in(page, username="shopper", next_url="/")
    cards = page.locator("#recommended .recommendation")
    assert cards.count() > 0
    assert all(reason and "{" not in reason for reason in cards.locator(".reason").all_inner_texts())
    save_screenshot(page, "shop-home")
    product = (
        Product.objects.filter(
            pk__in=ProductNeighbour.objects.filter(model_version=version).values("product")
        )
        .order_by("pk")
        .first()
    )
    page.goto(f"/products/{product.pk}/")
    assert page.locator("#bought-together .product-card").count() > 0
    save_screenshot(page, "product-page")


def test_a_long_word_in_a_promotions_notes_stays_inside_its_card(page):
    """One long word (a pasted link) ran out of the Offer card and over the Targets card beside it."""
    StaffUserFactory(username="marketer")
    product = Product.objects.create(external_id="LONG-1", name="Mug", price=5)
    promotion = Promotion.objects.create(
        name="Long notes",
        description="https://example.test/" + "a" * 400,
        discount_percent=10,
        audience_size=10,
        starts_on=DATA_START,
        ends_on=DATA_END,
    )
    promotion.products.set([product])
    log_in(page, username="marketer")

    page.goto(f"/staff/promotions/{promotion.pk}/")

    offer = page.locator("section.card", has=page.locator("h2", has_text="Offer"))
    assert offer.evaluate("card => card.scrollWidth - card.clientWidth") == 0
