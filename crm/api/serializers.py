"""Output serializers of the staff and shopper API, and input serializers of bulk ingest.

Records are named by the retailer's ids (``external_id``, ``customer_id``, ``product_id``), never
by database keys.
"""

import re
from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import Job
from crm.api.schema import NOT_BLANK
from crm.models import (
    Basket,
    BehaviourEvent,
    Customer,
    CustomerSegment,
    Order,
    OrderLine,
    Product,
    Promotion,
    PromotionTarget,
    SegmentRun,
)
from crm.models.catalogue import LARGEST_ID
from crm.models.orders import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS
from crm.services.baskets import BASKET_LINE_MAX_QUANTITY


class AmountField(serializers.DecimalField):
    """A line's amount or an order's or a basket's total, to the cent, in the digits the schema states
    (``AMOUNT_MAX_DIGITS``), which the import keeps to. An amount stored beyond them another way (the
    admin takes any quantity and unit price a line's fields hold) is written whole, where rounding it to
    those digits failed and the order, and every page of orders holding it, answered 500."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, read_only=True, **kwargs
        )

    def quantize(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-self.decimal_places), rounding=self.rounding)


# --- Customers ------------------------------------------------------------------------------------


class SegmentSerializer(serializers.ModelSerializer):
    run_id = serializers.IntegerField(source="run.id", read_only=True)
    as_of = serializers.DateField(source="run.as_of", read_only=True)
    rfm_group_label = serializers.CharField(source="get_rfm_group_display", read_only=True)

    class Meta:
        model = CustomerSegment
        fields = [
            "run_id",
            "as_of",
            "rfm_group",
            "rfm_group_label",
            "recency_days",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "expected_purchases_90d",
            "expected_purchases_365d",
            "p_alive",
            "expected_order_value",
            "predicted_clv_12m",
            "high_value",
            "churn_risk",
        ]


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "external_id",
            "name",
            "email",
            "country",
            "signed_up_at",
            "email_opt_in",
            "consent_changed_at",
            "created_at",
        ]


class CustomerDetailSerializer(CustomerSerializer):
    order_count = serializers.IntegerField(read_only=True)
    note_count = serializers.IntegerField(read_only=True)
    event_count = serializers.IntegerField(read_only=True)
    latest_segment = serializers.SerializerMethodField()

    class Meta(CustomerSerializer.Meta):
        fields = [
            *CustomerSerializer.Meta.fields,
            "order_count",
            "note_count",
            "event_count",
            "latest_segment",
        ]

    @extend_schema_field(SegmentSerializer(allow_null=True))
    def get_latest_segment(self, customer: Customer) -> dict | None:
        segment = (
            CustomerSegment.objects.filter(customer=customer)
            .select_related("run")
            .order_by("-run__as_of", "-run__created_at")
            .first()
        )
        return SegmentSerializer(segment).data if segment else None


class CustomerSegmentSerializer(SegmentSerializer):
    customer_id = serializers.CharField(source="customer.external_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta(SegmentSerializer.Meta):
        fields = ["customer_id", "customer_name", *SegmentSerializer.Meta.fields]


class SegmentRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SegmentRun
        fields = ["id", "as_of", "created_at", "customer_count", "group_counts", "parameters"]


# --- Catalogue and orders -------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.path", default=None, allow_null=True, read_only=True)
    in_stock = serializers.BooleanField(read_only=True)

    class Meta:
        model = Product
        fields = [
            "external_id",
            "name",
            "description",
            "category",
            "price",
            "active",
            "stock",
            "in_stock",
            "created_at",
            "updated_at",
        ]


class ProductBriefSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.path", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Product
        fields = ["external_id", "name", "category", "price"]


class OrderLineSerializer(serializers.ModelSerializer):
    product_id = serializers.CharField(
        source="product.external_id", default=None, allow_null=True, read_only=True
    )
    amount = AmountField()

    class Meta:
        model = OrderLine
        fields = [
            "line_number",
            "product_id",
            "item_code",
            "item_name",
            "quantity",
            "unit_price",
            "discount",
            "amount",
        ]


class OrderSerializer(serializers.ModelSerializer):
    customer_id = serializers.CharField(
        source="customer.external_id", default=None, allow_null=True, read_only=True
    )
    total = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["external_id", "customer_id", "placed_at", "channel", "status", "country", "total", "lines"]

    @extend_schema_field(AmountField())
    def get_total(self, order: Order) -> str:
        # Summed from the prefetched lines, so a page of orders costs no query per order.
        return AmountField().to_representation(sum((line.amount for line in order.lines.all()), Decimal("0")))


# --- Marketing --------------------------------------------------------------------------------------


class PromotionSerializer(serializers.ModelSerializer):
    product_ids = serializers.SerializerMethodField()
    category = serializers.CharField(source="category.path", default=None, allow_null=True, read_only=True)
    target_count = serializers.IntegerField(read_only=True)
    control_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Promotion
        fields = [
            "id",
            "name",
            "description",
            "product_ids",
            "category",
            "discount_percent",
            "starts_on",
            "ends_on",
            "channel",
            "audience_size",
            "control_share",
            "exclude_bought_within_days",
            "exclude_contacted_within_days",
            "seed",
            "status",
            "targets_computed_at",
            "model_version_id",
            "target_count",
            "control_count",
            "results",
            "created_at",
        ]

    def get_product_ids(self, promotion: Promotion) -> list[str]:
        return [product.external_id for product in promotion.products.all()]


class PromotionTargetSerializer(serializers.ModelSerializer):
    customer_id = serializers.CharField(source="customer.external_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_email = serializers.CharField(source="customer.email", read_only=True)

    class Meta:
        model = PromotionTarget
        fields = [
            "rank",
            "customer_id",
            "customer_name",
            "customer_email",
            "score",
            "expected_value",
            "group",
        ]


class JobSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    params = serializers.JSONField(
        source="shown_params",
        read_only=True,
        help_text="What the job was asked to do (e.g. an import's file name and options); where an "
        "upload lies on the server is not shown.",
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "message",
            "error",
            "params",
            "result",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
        ]


# --- Ingest -------------------------------------------------------------------------------------

# The JSON types the schema gives each kind of input field. DRF reads "6" as 6 and 6 as "6"; a client
# that sends the wrong type is told so, as the schema says, rather than guessed at. Decimals travel as
# strings ("4.95"), so that no precision is lost on the way.
_JSON_TYPES: list[tuple[type, tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "true or false"),
    (serializers.IntegerField, (int,), "a whole number"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.DecimalField, (str,), 'a valid number in a string, e.g. "4.95"'),
    (serializers.CharField, (str,), "a string"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.DateTimeField, (str,), "an ISO 8601 date-time string"),
    (serializers.DateField, (str,), "an ISO 8601 date string"),
]


_DECIMAL_STRING = re.compile(r"-?(?=\.?\d)\d*(?:\.\d*)?")


class JSONInputSerializer(serializers.Serializer):
    """An input serializer that takes each field only in the JSON type the schema documents for it."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for name, field in self.fields.items():
                value = data.get(name)
                if value is None or field.read_only:
                    continue
                for kind, json_types, words in _JSON_TYPES:
                    if isinstance(field, kind):
                        wrong_type = not isinstance(value, json_types) or (
                            bool not in json_types and isinstance(value, bool)
                        )
                        malformed = (
                            not wrong_type
                            and kind is serializers.DecimalField
                            and not _DECIMAL_STRING.fullmatch(value)
                        )
                        if wrong_type or malformed:
                            errors[name] = [f"Must be {words}."]
                        break
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class IngestOrderLineSerializer(JSONInputSerializer):
    """One line of an order."""

    product_id = serializers.CharField(max_length=64)
    product_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(
        min_value=-(2**31) + 1, max_value=2**31 - 1, help_text="Negative for a returned line."
    )
    unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        help_text="Negative only for non-product codes such as adjustments.",
    )


class IngestOrderSerializer(JSONInputSerializer):
    """An order with its lines, named by the retailer's ids."""

    order_id = serializers.CharField(max_length=64)
    customer_id = serializers.CharField(max_length=64, allow_null=True, help_text="Null for a guest order.")
    ordered_at = serializers.DateTimeField()
    country = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    lines = IngestOrderLineSerializer(many=True, allow_empty=False)


class IngestEventSerializer(JSONInputSerializer):
    """What a shopper did: a customer (or an anonymous session), a product, a kind, a time."""

    customer_id = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    session_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    product_id = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    kind = serializers.ChoiceField(choices=BehaviourEvent.Kind.choices)
    at = serializers.DateTimeField()
    query = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    # the column is a positive 32-bit integer; a larger number would reach the database and fail there
    model_version_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1
    )

    def validate(self, event: dict) -> dict:
        if not event.get("customer_id") and not event.get("session_key"):
            raise serializers.ValidationError({"customer_id": "Give a customer_id or a session_key."})
        if not event.get("product_id") and event["kind"] != BehaviourEvent.Kind.SEARCH:
            raise serializers.ValidationError({"product_id": "A product_id is required for this kind."})
        return event


class IngestEventSerializerExtension(OpenApiSerializerExtension):
    """The event's rules across fields, in the schema too: a customer or a session, and a product
    unless the event is a search."""

    target_class = IngestEventSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            present = {"type": "string", "pattern": NOT_BLANK}
            search = BehaviourEvent.Kind.SEARCH.value
            schema["allOf"] = [
                {
                    "anyOf": [
                        {"required": ["customer_id"], "properties": {"customer_id": present}},
                        {"required": ["session_key"], "properties": {"session_key": present}},
                    ]
                },
                {
                    "anyOf": [
                        {"properties": {"kind": {"type": "string", "pattern": f"^{search}$"}}},
                        {"required": ["product_id"], "properties": {"product_id": present}},
                    ]
                },
            ]
        return schema


class IngestErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True, help_text="Position of the item in the list.")
    field = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class IngestErrorListSerializer(serializers.Serializer):
    errors = IngestErrorSerializer(many=True)


class IngestOrdersResultSerializer(serializers.Serializer):
    orders = serializers.IntegerField(help_text="Orders in the request.")
    lines = serializers.IntegerField(help_text="Order lines in the request.")
    report = serializers.DictField(help_text="What the import wrote and skipped.")


class IngestEventsResultSerializer(serializers.Serializer):
    events = serializers.IntegerField(help_text="Events written.")


# --- A shopper's basket ---------------------------------------------------------------------------


class BasketLineSerializer(serializers.Serializer):
    """One product in the basket, at its price now."""

    product_id = serializers.CharField(source="product.external_id", read_only=True)
    name = serializers.CharField(source="product.name", read_only=True)
    quantity = serializers.IntegerField(read_only=True, min_value=1, max_value=BASKET_LINE_MAX_QUANTITY)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="The product's price now."
    )
    amount = AmountField()
    orderable = serializers.BooleanField(
        read_only=True, help_text="Still sold, with enough units in stock for this line."
    )


class BasketSerializer(serializers.Serializer):
    """The shopper's open basket (an empty one, with no id, before anything is put in it)."""

    id = serializers.IntegerField(
        source="basket.pk",
        default=None,
        allow_null=True,
        read_only=True,
        help_text="Send it as `basket_id` when placing the order, so that a retry finds the same order.",
    )
    status = serializers.ChoiceField(
        choices=Basket.Status.choices, source="basket.status", default=Basket.Status.OPEN, read_only=True
    )
    lines = BasketLineSerializer(many=True, read_only=True)
    item_count = serializers.IntegerField(read_only=True, min_value=0)
    total = AmountField()
    orderable = serializers.BooleanField(read_only=True, help_text="Not empty, and every line orderable.")


class BasketLineAddSerializer(JSONInputSerializer):
    """A product to put in the basket, by the retailer's id, and how many (added to any already in it)."""

    product_id = serializers.CharField(max_length=64, help_text="The retailer's id of the product.")
    quantity = serializers.IntegerField(min_value=1, max_value=BASKET_LINE_MAX_QUANTITY, default=1)


class BasketLineQuantitySerializer(JSONInputSerializer):
    """A line's new quantity (a partial change: without it the line stays as it is)."""

    quantity = serializers.IntegerField(
        min_value=0,
        max_value=BASKET_LINE_MAX_QUANTITY,
        required=False,
        help_text="0 takes the product out of the basket.",
    )


class BasketOrderSerializer(JSONInputSerializer):
    """Which basket to place (optional)."""

    basket_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=LARGEST_ID,
        help_text=(
            "The basket being placed (its `id`); placing it again answers its order. Without it, the "
            "open basket is placed."
        ),
    )
