"""Query filters of the API. Every filter value is checked: one that cannot be read is a 400 naming the
parameter (DjangoFilterBackend reports a FilterSet's form errors), never silently ignored."""

import datetime as dt

from django import forms
from django.db import models
from django.db.models import Q, QuerySet
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters
from rest_framework import filters as drf_filters
from rest_framework.exceptions import ValidationError

from core.models import Job
from core.moments import OUT_OF_RANGE, moment_storable
from crm.api.query import ONCE, query_value
from crm.models import Customer, CustomerSegment, Order, Product, PromotionTarget

# The spellings OpenAPI clients send for a boolean query parameter (and the usual 1/0).
_BOOLEAN_SPELLINGS = {"true": True, "1": True, "false": False, "0": False}


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``), or absent; anything else is an error rather than "no filter"."""

    widget = forms.TextInput

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        spelled = str(value).strip().lower()
        if spelled not in _BOOLEAN_SPELLINGS:
            raise forms.ValidationError(f"Must be true or false, not {str(value)!r}.", code="invalid")
        return _BOOLEAN_SPELLINGS[spelled]

    def validate(self, value: bool | None) -> None:
        pass


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class FilterSet(filters.FilterSet):
    """The base of the API's filter sets: a model's boolean fields filter strictly too, and a parameter
    sent empty is an error unless it is free text (a date, number, boolean or choice has no empty value;
    leave the parameter out instead)."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
    }

    def _parameter_names(self) -> list[tuple[str, bool]]:
        """Each query parameter of a single value, and whether it is typed (not free text)."""
        names = []
        for name, query_filter in self.filters.items():
            widget = self.form.fields[name].widget
            if getattr(widget, "allow_multiple_selected", False):
                continue
            typed = type(query_filter) is not filters.CharFilter
            suffixes = getattr(widget, "suffixes", None)
            names += [(f"{name}_{suffix}", typed) for suffix in suffixes] if suffixes else [(name, typed)]
        return names

    def is_valid(self) -> bool:
        valid = super().is_valid()
        problems = {}
        for name, typed in self._parameter_names():
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data.get(name)]
            if len(values) > 1:
                problems[name] = ONCE
            elif typed and values == [""]:
                problems[name] = "Give a value, or leave the parameter out."
        for name, problem in problems.items():
            self.form.errors.setdefault(name, self.form.error_class()).append(problem)
        return valid and not problems


class CustomerFilter(FilterSet):
    country = filters.CharFilter(field_name="country", lookup_expr="iexact")
    email_opt_in = BooleanFilter()

    class Meta:
        model = Customer
        fields = ["country", "email_opt_in"]


class ProductFilter(FilterSet):
    category = filters.CharFilter(
        method="filter_category", help_text="Category path; includes its sub-categories."
    )
    active = BooleanFilter()
    in_stock = BooleanFilter(method="filter_in_stock", help_text="In stock, or stock not tracked (empty).")

    class Meta:
        model = Product
        fields = ["category", "active", "in_stock"]

    def filter_category(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        path = value.strip("/")
        return queryset.filter(Q(category__path=path) | Q(category__path__startswith=f"{path}/"))

    def filter_in_stock(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        in_stock = Q(stock__isnull=True) | Q(stock__gt=0)
        return queryset.filter(in_stock) if value else queryset.exclude(in_stock)


class IsoDateTimeField(filter_fields.IsoDateTimeField):
    """An ISO 8601 date and time the database can compare with: one whose UTC reading is beyond the
    calendar (``9999-12-31T23:59:59-05:00``) is an error, where SQLite's comparison overflowed."""

    def to_python(self, value: object) -> dt.datetime | None:
        moment = super().to_python(value)
        if moment is not None and not moment_storable(moment):
            raise forms.ValidationError(OUT_OF_RANGE, code="overflow")
        return moment


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = IsoDateTimeField


ORDER_TIME_BOUNDS = ("placed_at_after", "placed_at_before")


class _OrderFilterForm(forms.Form):
    def clean(self) -> dict:
        # a bound given empty is refused, as a range filter refused it, rather than read as "no bound"
        cleaned = super().clean()
        for name in ORDER_TIME_BOUNDS:
            if name in self.data and not str(self.data[name]).strip():
                self.add_error(name, "Give an ISO 8601 date and time, or leave the parameter out.")
        return cleaned


class OrderFilter(FilterSet):
    """Two bounds of their own rather than a range filter, whose errors named ``placed_at``, a
    parameter the schema does not have."""

    customer = filters.CharFilter(field_name="customer__external_id", help_text="Customer id.")
    status = filters.ChoiceFilter(choices=Order.Status.choices)
    placed_at_after = IsoDateTimeFilter(
        field_name="placed_at", lookup_expr="gte", help_text="Orders placed at or after (ISO 8601)."
    )
    placed_at_before = IsoDateTimeFilter(
        field_name="placed_at", lookup_expr="lte", help_text="Orders placed at or before (ISO 8601)."
    )

    class Meta:
        model = Order
        fields = ["customer", "status", "placed_at_after", "placed_at_before"]
        form = _OrderFilterForm


class MyOrderFilter(OrderFilter):
    """A shopper's own orders: the order filters less the customer, which means nothing there."""

    customer = None

    class Meta(OrderFilter.Meta):
        fields = ["status", "placed_at_after", "placed_at_before"]


class CustomerSegmentFilter(FilterSet):
    rfm_group = filters.ChoiceFilter(choices=CustomerSegment.RfmGroup.choices)
    high_value = BooleanFilter()

    class Meta:
        model = CustomerSegment
        fields = ["rfm_group", "high_value"]


class PromotionTargetFilter(FilterSet):
    group = filters.ChoiceFilter(choices=PromotionTarget.Group.choices)

    class Meta:
        model = PromotionTarget
        fields = ["group"]


class JobFilter(FilterSet):
    kind = filters.ChoiceFilter(choices=Job.Kind.choices)
    status = filters.ChoiceFilter(choices=Job.Status.choices)

    class Meta:
        model = Job
        fields = ["kind", "status"]


# --- Backends for every list view (REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"]) ----------------------


class OrderingFilter(drf_filters.OrderingFilter):
    """``?ordering=a,-b`` over the view's ``ordering_fields``; an unknown field is a 400, not ignored.

    A view without ``ordering_fields`` keeps its own ``ordering`` and takes no ``ordering`` parameter
    (DRF would otherwise allow every serializer field).
    """

    def _choices(self, view) -> list[str]:
        fields = getattr(view, "ordering_fields", None) or []
        names = [field if isinstance(field, str) else field[0] for field in fields]
        return [term for name in names for term in (name, f"-{name}")]

    def get_ordering(self, request, queryset, view):
        raw = query_value(request.query_params, self.ordering_param)
        if raw is None or not getattr(view, "ordering_fields", None):
            return self.get_default_ordering(view)
        terms = [term.strip() for term in raw.split(",") if term.strip()]
        unknown = [term for term in terms if term not in self._choices(view)]
        if unknown:
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by {', '.join(unknown)}; choose from {', '.join(self._choices(view))}."
                    ]
                }
            )
        return terms or self.get_default_ordering(view)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        choices = self._choices(view)
        if not choices:
            return []
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Comma-separated fields to order by; a leading '-' reverses one.",
                "style": "form",
                "explode": False,
                "schema": {"type": "array", "items": {"type": "string", "enum": choices}},
            }
        ]


class SearchFilter(drf_filters.SearchFilter):
    """DRF's search, with a bad term (e.g. a NUL character) reported under the parameter's name; a view
    without ``search_fields`` takes no ``search`` parameter."""

    def get_search_terms(self, request) -> list[str]:
        query_value(request.query_params, self.search_param)
        try:
            return super().get_search_terms(request)
        except ValidationError as error:
            raise ValidationError({self.search_param: error.detail}) from error

    def get_schema_operation_parameters(self, view) -> list[dict]:
        if not getattr(view, "search_fields", None):
            return []
        return super().get_schema_operation_parameters(view)
