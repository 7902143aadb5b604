import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.models import BehaviourEvent, Category, Customer, Order, OrderLine, Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-123")


class StaffUserFactory(UserFactory):
    """A staff login holding every role (``roles=[...]`` for fewer)."""

    is_staff = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        from django.contrib.auth.models import Group

        from core.roles import ROLE_PERMISSIONS

        if create:
            names = ROLE_PERMISSIONS if extracted is None else extracted
            self.groups.set(Group.objects.filter(name__in=names))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Faker("name")
    email = factory.Faker("email")
    country = "United Kingdom"
    email_opt_in = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("path",)

    name = factory.Sequence(lambda n: f"Category {n}")
    path = factory.LazyAttribute(lambda c: c.name)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    external_id = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("4.95")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    external_id = factory.Sequence(lambda n: f"O{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    placed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))
    country = "United Kingdom"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    product = factory.SubFactory(ProductFactory)
    item_code = factory.LazyAttribute(lambda line: line.product.external_id if line.product else "FEE")
    quantity = 1
    unit_price = Decimal("4.95")


class BehaviourEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BehaviourEvent

    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    kind = BehaviourEvent.Kind.VIEW
    at = factory.LazyFunction(timezone.now)


class BasketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Basket"

    customer = factory.SubFactory(CustomerFactory)


class BasketLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.BasketLine"

    basket = factory.SubFactory(BasketFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "core.Job"

    kind = "import"
    status = "queued"


class SegmentRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.SegmentRun"

    as_of = factory.LazyFunction(lambda: timezone.now().date())


class CustomerSegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.CustomerSegment"

    run = factory.SubFactory(SegmentRunFactory)
    customer = factory.SubFactory(CustomerFactory)
    recency_days = 10
    frequency = 3
    monetary = 120.0
    r_score = 4
    f_score = 3
    m_score = 3
    rfm_group = "loyal"


class PromotionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Promotion"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Promotion {n}")
    starts_on = factory.LazyFunction(lambda: timezone.now().date())
    ends_on = factory.LazyAttribute(lambda promotion: promotion.starts_on + dt.timedelta(days=14))
    audience_size = 100

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create and extracted:
            self.products.set(extracted)


class PromotionTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.PromotionTarget"

    promotion = factory.SubFactory(PromotionFactory)
    customer = factory.SubFactory(CustomerFactory)
    rank = factory.Sequence(lambda n: n + 1)
    score = 0.5
    expected_value = 2.0
    group = "target"


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "recommender.ModelVersion"

    status = "ready"


class RecommendationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "recommender.Recommendation"

    model_version = factory.SubFactory(ModelVersionFactory, status="active")
    customer = factory.SubFactory(CustomerFactory)
    product = factory.SubFactory(ProductFactory)
    rank = factory.Sequence(lambda n: n + 1)
    score = 0.5
    reason = "Popular with our customers"


class ProductNeighbourFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "recommender.ProductNeighbour"

    model_version = factory.SubFactory(ModelVersionFactory, status="active")
    product = factory.SubFactory(ProductFactory)
    neighbour = factory.SubFactory(ProductFactory)
    rank = factory.Sequence(lambda n: n + 1)
    score = 0.5


class PopularProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "recommender.PopularProduct"

    model_version = factory.SubFactory(ModelVersionFactory, status="active")
    country = ""
    product = factory.SubFactory(ProductFactory)
    rank = factory.Sequence(lambda n: n + 1)
    score = 0.5
