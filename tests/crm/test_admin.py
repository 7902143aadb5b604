import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from core.models import Job
from crm.models import (
    Basket,
    BehaviourEvent,
    Category,
    Customer,
    CustomerNote,
    CustomerSegment,
    Order,
    OrderLine,
    Product,
    Promotion,
    PromotionTarget,
    SegmentRun,
)
from tests.factories import (
    BasketFactory,
    BasketLineFactory,
    BehaviourEventFactory,
    CategoryFactory,
    CustomerFactory,
    CustomerSegmentFactory,
    JobFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    PromotionFactory,
    PromotionTargetFactory,
    SegmentRunFactory,
    UserFactory,
)

ROWS = 30
# Session, user, the count, the page of rows, the date hierarchy and list filters: a fixed budget
# that a per-row query (a missing select_related) would blow through at once.
MAX_QUERIES = 12

pytestmark = pytest.mark.django_db


def _notes():
    author = UserFactory()
    return [
        CustomerNote.objects.create(customer=CustomerFactory(), author=author, body=f"Called {number}")
        for number in range(ROWS)
    ]


def _categories():
    parent = CategoryFactory()
    return [
        CategoryFactory(name=f"Child {number}", path=f"{parent.path}/Child {number}", parent=parent)
        for number in range(ROWS)
    ]


def _order_lines():
    order = OrderFactory()
    return [OrderLineFactory(order=order, line_number=number + 1) for number in range(ROWS)]


BUILDERS = {
    Customer: lambda: CustomerFactory.create_batch(ROWS),
    CustomerNote: _notes,
    Category: _categories,
    Product: lambda: ProductFactory.create_batch(ROWS),
    Order: lambda: OrderFactory.create_batch(ROWS),
    OrderLine: _order_lines,
    BehaviourEvent: lambda: BehaviourEventFactory.create_batch(ROWS),
    Job: lambda: JobFactory.create_batch(ROWS, created_by=UserFactory()),
    SegmentRun: lambda: SegmentRunFactory.create_batch(ROWS, job=JobFactory()),
    CustomerSegment: lambda: CustomerSegmentFactory.create_batch(ROWS, run=SegmentRunFactory()),
    Promotion: lambda: PromotionFactory.create_batch(ROWS, category=CategoryFactory()),
    PromotionTarget: lambda: PromotionTargetFactory.create_batch(ROWS, promotion=PromotionFactory()),
    Basket: lambda: BasketFactory.create_batch(ROWS),
}


@pytest.fixture
def staff_client(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_every_crm_model_has_an_admin():
    assert set(BUILDERS) <= set(admin.site._registry)


@pytest.mark.parametrize("model", list(BUILDERS), ids=lambda model: model.__name__)
def test_changelist_costs_a_fixed_number_of_queries(staff_client, django_assert_max_num_queries, model):
    rows = BUILDERS[model]()
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(url)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == model.objects.count() >= len(rows) >= ROWS


def test_changelist_search_finds_a_customer(staff_client):
    CustomerFactory.create_batch(3)
    wanted = CustomerFactory(external_id="17850")

    response = staff_client.get(reverse("admin:crm_customer_changelist"), {"q": "17850"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_order_page_shows_its_lines_inline(staff_client):
    order = OrderFactory(placed_at=timezone.now())
    OrderLineFactory(order=order, line_number=1, item_code="85123A")
    OrderLineFactory(order=order, line_number=2, product=None, item_code="POST")

    response = staff_client.get(reverse("admin:crm_order_change", args=[order.pk]))

    assert response.status_code == 200
    assert response.content.count(b'name="lines-') > 0
    assert b"POST" in response.content and b"85123A" in response.content


def test_a_basket_is_shown_with_its_lines_and_cannot_be_changed_there(staff_client):
    line = BasketLineFactory(product=ProductFactory(name="White lantern"), quantity=3)

    page = staff_client.get(reverse("admin:crm_basket_change", args=[line.basket.pk]))
    changed = staff_client.post(
        reverse("admin:crm_basket_change", args=[line.basket.pk]), {"status": "ordered"}
    )

    assert page.status_code == 200
    assert "White lantern" in page.content.decode()
    assert changed.status_code == 403
    assert staff_client.get(reverse("admin:crm_basket_add")).status_code == 403


def test_consent_is_read_only_in_the_admin(staff_client):
    """A consent changed there left no ConsentEvent: the trail no longer explained the state."""
    customer = CustomerFactory(email_opt_in=True)

    page = staff_client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()

    for field in ("email_opt_in", "sms_opt_in", "push_opt_in", "post_opt_in", "consent_changed_at"):
        assert f'name="{field}"' not in page, field
    assert "Email opt in" in page  # shown, not editable


@pytest.mark.parametrize("stock", [-5, 2**31, 2**63 - 1])
def test_the_admin_refuses_stock_the_api_refuses(staff_client, stock):
    """The admin saved -5 and 2^63-1; the reorder advice then overflowed."""
    from django.core.exceptions import ValidationError

    product = ProductFactory(stock=10)
    product.stock = stock
    with pytest.raises(ValidationError) as refused:
        product.full_clean()
    assert "stock" in refused.value.message_dict


@pytest.mark.parametrize("field", ["min_order_qty", "pack_size", "on_order"])
def test_the_admin_refuses_stock_rules_past_a_32_bit_number(field):
    from django.core.exceptions import ValidationError

    from inventory.models import StockPolicy

    policy = StockPolicy(product=ProductFactory(), **{field: 2**63 - 1})
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert list(refused.value.message_dict) == [field]


def test_view_on_site_of_a_model_with_no_table_is_not_found(staff_client):
    """``core.StaffAccess`` holds permissions only; the admin's redirect looked it up and answered 500."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import StaffAccess

    no_table = ContentType.objects.get_for_model(StaffAccess)
    customer = CustomerFactory()
    customers = ContentType.objects.get_for_model(Customer)

    assert staff_client.get(f"/admin/r/{no_table.pk}/1/").status_code == 404
    assert staff_client.get(f"/admin/r/{customers.pk}/{customer.pk}/").status_code == 404
    assert staff_client.get("/admin/r/999999/1/").status_code == 404
