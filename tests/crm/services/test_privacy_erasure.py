"""Erasure (right to be forgotten) as staff use it: the command, then a scan of every table and file."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import authenticate, get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.test import RequestFactory

from core.models import Job
from crm.models import AuditEvent, Customer, CustomerNote, ErasureRecord, Order, OrderLine, Product
from crm.pseudonyms import pseudonymize
from crm.services.api_tokens import api_token_create
from crm.services.demo_data import generate_demo_data
from crm.services.privacy import consent_set
from recommender.ml.forget import artifact_customer_ids
from recommender.models import ModelVersion, Recommendation
from recommender.services import frames
from recommender.services.scoring import purchase_probabilities
from recommender.services.training import model_version_train
from recommender.tasks import score_model_version_task
from tests.factories import (
    BehaviourEventFactory,
    CustomerFactory,
    CustomerSegmentFactory,
    OrderFactory,
    OrderLineFactory,
    PromotionTargetFactory,
    StaffUserFactory,
    UserFactory,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}
PK = 987_654_321
EXTERNAL_ID = "ZQ-ERASE-4242"
NAME = "Zebulon Quartermaine"
EMAIL = "zebulon.quartermaine@example.test"
USERNAME = "zebulonq"
NEEDLES = [EXTERNAL_ID, NAME, "Quartermaine", EMAIL, USERNAME, str(PK)]


def revenue() -> Decimal:
    amount = ExpressionWrapper(F("quantity") * F("unit_price") - F("discount"), output_field=DecimalField())
    return OrderLine.objects.aggregate(total=Sum(amount))["total"]


def database_hits() -> list[str]:
    """Every (table, column) of every table where any needle appears, whatever the column's type."""
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                name = connection.ops.quote_name(column.name)
                condition = " OR ".join([f"CAST({name} AS TEXT) LIKE %s"] * len(NEEDLES))
                cursor.execute(
                    f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} WHERE {condition}",
                    [f"%{needle}%" for needle in NEEDLES],
                )
                if cursor.fetchone()[0]:
                    hits.append(f"{table}.{column.name}")
    return hits


def file_hits(*folders: Path) -> list[str]:
    needles = [needle.encode() for needle in NEEDLES if needle != str(PK)] + [np.int64(PK).tobytes()]
    hits = []
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file() and any(needle in path.read_bytes() for needle in needles):
                hits.append(str(path))
    return hits


@pytest.fixture
def shop_with_the_customer(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MODEL_ARTIFACT_ROOT = tmp_path / "models"
    generate_demo_data(customers=120, products=50, orders=1200, seed=5, start=dt.date(2024, 1, 1), months=12)
    staff = StaffUserFactory(username="clerk")
    user = UserFactory(username=USERNAME, email=EMAIL, first_name="Zebulon", last_name="Quartermaine")
    customer = CustomerFactory(pk=PK, external_id=EXTERNAL_ID, name=NAME, email=EMAIL, user=user)
    products = list(Product.objects.order_by("pk")[:6])
    last_order = Order.objects.latest("placed_at").placed_at
    for number in range(12):
        order = OrderFactory(
            external_id=f"W-{number}",
            customer=customer,
            placed_at=last_order - dt.timedelta(days=25 * number),
        )
        for line_number, product in enumerate(products[number % 3 : number % 3 + 3], start=1):
            OrderLineFactory(order=order, product=product, line_number=line_number, quantity=2)
    BehaviourEventFactory(customer=customer, product=products[0], at=last_order - dt.timedelta(days=2))
    BehaviourEventFactory(customer=customer, product=None, kind="search", query=NAME, at=last_order)
    CustomerNote.objects.create(customer=customer, author=staff, body=f"Called {NAME} ({EMAIL}).")
    consent_set(customer=customer, channel="sms", granted=True, source="staff", recorded_by=staff)
    CustomerSegmentFactory(customer=customer)
    PromotionTargetFactory(customer=customer)
    api_token_create(user=user)
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(PK),
        object_repr=str(customer),
        action_flag=CHANGE,
        change_message=f"Changed e-mail to {EMAIL}",
    )
    # an upload imported before (its file still there) and a job of an older release that kept a value
    upload = settings.MEDIA_ROOT / "imports" / "0a1b2c-orders.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text(
        f"order_id,customer_id,product_id,quantity,unit_price,ordered_at\nW-0,{EXTERNAL_ID},P1,2,1.5,2024-05-01\n"
    )
    Job.objects.create(kind="import", status="succeeded", params={"path": str(upload)})
    Job.objects.create(
        kind="import", status="failed", error=f"line 2, column customer_id: too long (value '{EXTERNAL_ID}')"
    )
    # a served model trained on all of it
    version = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
    score_model_version_task.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.ACTIVE, version.error
    return customer, version, staff


def test_after_erasure_no_table_and_no_file_holds_the_customer(shop_with_the_customer, settings):
    customer, version, staff = shop_with_the_customer
    # given everything about them is there, in the database and in the served model's artifact
    assert set(database_hits()) >= {"crm_customer.name", "crm_customernote.body", "auth_user.email"}
    assert Recommendation.objects.filter(customer=customer).exists()
    assert PK in artifact_customer_ids(Path(version.artifact_path))
    assert file_hits(settings.MEDIA_ROOT, settings.MODEL_ARTIFACT_ROOT)
    revenue_before, orders_before = revenue(), Order.objects.count()

    # when staff erase them from the command line
    out = io.StringIO()
    call_command("erase_customer", EXTERNAL_ID, "--yes", stdout=out)

    # then nothing names them: not one column of one table, not one file
    assert f"Customer '{EXTERNAL_ID}' erased" in out.getvalue()
    assert database_hits() == []
    assert file_hits(settings.MEDIA_ROOT, settings.MODEL_ARTIFACT_ROOT) == []
    # their orders are kept for the books, under the anonymous record: revenue does not change
    assert revenue() == revenue_before and Order.objects.count() == orders_before
    kept = Order.objects.filter(external_id__startswith="W-")
    assert kept.count() == 12 and {order.customer.anonymous for order in kept} == {True}
    # the served model still works, without them
    assert PK not in artifact_customer_ids(Path(version.artifact_path))
    other = Customer.objects.identified().filter(orders__isnull=False).first()
    scores, served = purchase_probabilities(customer_ids=[other.pk], product_ids=[Product.objects.first().pk])
    assert served == version.pk and scores.shape == (1, 1)
    # the next training sees neither them nor the anonymous record
    anonymous = Customer.objects.get(anonymous=True)
    assert anonymous.pk not in set(frames.order_line_frame()["customer_id"])
    assert anonymous.pk not in set(frames.customer_frame()["customer_id"])
    # the login is disabled and no longer opens
    login = get_user_model().objects.get(pk=customer.user_id)
    assert not login.is_active and not login.has_usable_password()
    assert (
        authenticate(RequestFactory().post("/accounts/login/"), username=USERNAME, password="pass-word-123")
        is None
    )
    # the erasure is on record, by keyed hash only
    record = ErasureRecord.objects.get()
    assert record.subject_hash == pseudonymize(EXTERNAL_ID)
    assert record.counts["orders_kept"] == 12 and record.counts["recommender_artifacts_rewritten"] == 1
    assert record.counts["import_uploads_deleted"] == 1 and record.counts["jobs_scrubbed"] == 1
    assert AuditEvent.objects.filter(action="customer_erased", subject=record.subject_hash).count() == 1


def test_erasing_again_is_a_no_op_that_says_so(shop_with_the_customer, client):
    call_command("erase_customer", EXTERNAL_ID, "--yes", stdout=io.StringIO())
    record = ErasureRecord.objects.get()

    out = io.StringIO()
    call_command("erase_customer", EXTERNAL_ID, "--yes", stdout=out)
    assert "already erased" in out.getvalue()

    client.force_login(StaffUserFactory(username="second-clerk"))
    response = client.post(f"/api/customers/{EXTERNAL_ID}/erase/")
    assert response.status_code == 200
    assert response.json()["already_erased"] is True and response.json()["subject"] == record.subject_hash
    assert ErasureRecord.objects.count() == 1
    assert AuditEvent.objects.filter(action="customer_erased").count() == 1
