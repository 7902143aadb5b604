from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from core.models import Job
from crm.models import Customer, CustomerSegment, Order, Product, PromotionTarget


class CustomerFilter(filters.FilterSet):
    country = filters.CharFilter(field_name="country", lookup_expr="iexact")
    email_opt_in = filters.BooleanFilter()

    class Meta:
        model = Customer
        fields = ["country", "email_opt_in"]


class ProductFilter(filters.FilterSet):
    category = filters.CharFilter(
        method="filter_category", help_text="Category path; includes its sub-categories."
    )
    active = filters.BooleanFilter()
    in_stock = filters.BooleanFilter(
        method="filter_in_stock", help_text="In stock, or stock not tracked (empty)."
    )

    class Meta:
        model = Product
        fields = ["category", "active", "in_stock"]

    def filter_category(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        path = value.strip("/")
        return queryset.filter(Q(category__path=path) | Q(category__path__startswith=f"{path}/"))

    def filter_in_stock(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        in_stock = Q(stock__isnull=True) | Q(stock__gt=0)
        return queryset.filter(in_stock) if value else queryset.exclude(in_stock)


class OrderFilter(filters.FilterSet):
    customer = filters.CharFilter(field_name="customer__external_id", help_text="Customer id.")
    status = filters.ChoiceFilter(choices=Order.Status.choices)
    placed_at = filters.IsoDateTimeFromToRangeFilter(
        help_text="Use placed_at_after and/or placed_at_before (ISO 8601)."
    )

    class Meta:
        model = Order
        fields = ["customer", "status", "placed_at"]


class CustomerSegmentFilter(filters.FilterSet):
    rfm_group = filters.ChoiceFilter(choices=CustomerSegment.RfmGroup.choices)
    high_value = filters.BooleanFilter()

    class Meta:
        model = CustomerSegment
        fields = ["rfm_group", "high_value"]


class PromotionTargetFilter(filters.FilterSet):
    group = filters.ChoiceFilter(choices=PromotionTarget.Group.choices)

    class Meta:
        model = PromotionTarget
        fields = ["group"]


class JobFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Job.Kind.choices)
    status = filters.ChoiceFilter(choices=Job.Status.choices)

    class Meta:
        model = Job
        fields = ["kind", "status"]
