"""Staff endpoints (customers, catalogue, orders, segments, promotions, jobs), bulk ingest, and a
shopper's own record and orders."""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import Job
from crm.api import filters, serializers
from crm.api.auditing import PersonalDataReadAudit
from crm.api.errors import NamedNotFound
from crm.api.pagination import StandardPagination
from crm.api.permissions import NO_LINKED_CUSTOMER, HasStaffPermission, customer_for_request
from crm.api.schema import error_response
from crm.api.throttles import IngestRateThrottle
from crm.models import (
    BehaviourEvent,
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
from crm.selectors.marketing import promotion_target_list_exportable
from crm.services.ingest import (
    INGEST_MAX_EVENTS,
    INGEST_MAX_ORDERS,
    IngestConflictError,
    IngestValidationError,
    events_ingest,
    orders_ingest,
)

# A retailer's id: anything but a slash or a NUL character (which PostgreSQL cannot compare with), so
# that a URL holding one is a 404 rather than a database error.
EXTERNAL_ID_PATTERN = r"[^/\x00]+"


class ExternalIdConverter:
    """``<external_id:name>`` in a URL: a retailer's id, as the viewsets' lookups take it."""

    regex = EXTERNAL_ID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def _count_of(model: type, field: str) -> Coalesce:
    rows = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def orders_with_lines(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("line_number"))
    )


class StaffViewSet(NamedNotFound, viewsets.ReadOnlyModelViewSet):
    """A staff list and its rows; each one names the role permission of the portal page that shows the
    same data."""

    permission_classes = [HasStaffPermission("view_portal")]
    pagination_class = StandardPagination


class CustomerViewSet(PersonalDataReadAudit, StaffViewSet):
    permission_classes = [HasStaffPermission("view_customers")]
    audit_subject = "customers"
    audit_subject_is_customer = True
    lookup_field = "external_id"
    lookup_value_regex = EXTERNAL_ID_PATTERN
    filterset_class = filters.CustomerFilter
    search_fields = ["external_id", "name", "email"]
    ordering_fields = ["external_id", "name", "country", "signed_up_at", "created_at"]
    ordering = ["external_id"]

    def get_queryset(self) -> QuerySet[Customer]:
        customers = Customer.objects.all()
        if self.action == "retrieve":
            customers = customers.annotate(
                order_count=_count_of(Order, "customer"),
                note_count=_count_of(CustomerNote, "customer"),
                event_count=_count_of(BehaviourEvent, "customer"),
            )
        return customers

    def get_serializer_class(self) -> type:
        if self.action == "retrieve":
            return serializers.CustomerDetailSerializer
        return serializers.CustomerSerializer


class ProductViewSet(StaffViewSet):
    serializer_class = serializers.ProductSerializer
    queryset = Product.objects.select_related("category")
    lookup_field = "external_id"
    lookup_value_regex = EXTERNAL_ID_PATTERN
    filterset_class = filters.ProductFilter
    search_fields = ["external_id", "name", "description"]
    ordering_fields = ["external_id", "name", "price", "stock", "created_at"]
    ordering = ["external_id"]


class OrderViewSet(PersonalDataReadAudit, StaffViewSet):
    permission_classes = [HasStaffPermission("view_customers")]
    audit_subject = "orders"
    serializer_class = serializers.OrderSerializer
    queryset = orders_with_lines(Order.objects.all())
    lookup_field = "external_id"
    lookup_value_regex = EXTERNAL_ID_PATTERN
    filterset_class = filters.OrderFilter
    search_fields = ["external_id"]
    ordering_fields = ["placed_at", "external_id"]
    ordering = ["-placed_at", "external_id"]


def segment_run_latest() -> SegmentRun | None:
    return SegmentRun.objects.order_by("-as_of", "-created_at").first()


class SegmentRunLatestView(APIView):
    """The latest segment run: its date, fitted parameters and the number of customers per group."""

    permission_classes = [HasStaffPermission("view_portal")]

    @extend_schema(
        responses={
            200: serializers.SegmentRunSerializer,
            404: error_response("No segments have been computed yet."),
        }
    )
    def get(self, request: Request) -> Response:
        run = segment_run_latest()
        if run is None:
            raise Http404("No segments have been computed yet.")
        return Response(serializers.SegmentRunSerializer(run).data)


class CustomerSegmentListView(PersonalDataReadAudit, generics.ListAPIView):
    """Every customer's segment in the latest run."""

    audit_subject = "customer segments"

    # Every customer by id and name: what the portal's segments CSV holds.
    permission_classes = [HasStaffPermission("export_personal_data")]
    pagination_class = StandardPagination
    serializer_class = serializers.CustomerSegmentSerializer
    filterset_class = filters.CustomerSegmentFilter
    search_fields = ["customer__external_id", "customer__name", "customer__email"]
    ordering_fields = ["predicted_clv_12m", "churn_risk", "monetary", "recency_days", "frequency"]
    ordering = ["-predicted_clv_12m", "customer__external_id"]

    def get_queryset(self) -> QuerySet[CustomerSegment]:
        if getattr(self, "swagger_fake_view", False):
            return CustomerSegment.objects.none()
        run = segment_run_latest()
        if run is None:
            return CustomerSegment.objects.none()
        return CustomerSegment.objects.filter(run=run).select_related("run", "customer")


class PromotionViewSet(StaffViewSet):
    serializer_class = serializers.PromotionSerializer
    queryset = (
        Promotion.objects.select_related("category")
        .prefetch_related(Prefetch("products", queryset=Product.objects.order_by("external_id")))
        .annotate(
            target_count=Count("targets", filter=Q(targets__group=PromotionTarget.Group.TARGET)),
            control_count=Count("targets", filter=Q(targets__group=PromotionTarget.Group.CONTROL)),
        )
    )
    ordering_fields = ["created_at", "starts_on", "name"]
    ordering = ["-created_at", "-id"]
    search_fields = ["name"]


class PromotionTargetListView(PersonalDataReadAudit, generics.ListAPIView):
    """The customers chosen for a promotion, best first; ``group`` tells target from control."""

    audit_subject = "targets of promotion {pk}"

    # Ids, names and e-mails: what the portal's targets CSV holds.
    permission_classes = [HasStaffPermission("export_personal_data")]
    pagination_class = StandardPagination
    serializer_class = serializers.PromotionTargetSerializer
    filterset_class = filters.PromotionTargetFilter
    search_fields: list[str] = []
    ordering_fields = ["rank", "score", "expected_value"]
    ordering = ["rank"]

    def get_queryset(self) -> QuerySet[PromotionTarget]:
        if getattr(self, "swagger_fake_view", False):
            return PromotionTarget.objects.none()
        promotion = Promotion.objects.filter(pk=self.kwargs["pk"]).first()
        if promotion is None:
            raise Http404("No such promotion.")
        # Consent is checked now, not when the targets were computed: a withdrawal takes effect at once.
        return promotion_target_list_exportable(promotion=promotion).select_related("customer")


class JobViewSet(StaffViewSet):
    serializer_class = serializers.JobSerializer
    queryset = Job.objects.all()
    filterset_class = filters.JobFilter
    search_fields: list[str] = []
    ordering_fields = ["created_at", "finished_at"]
    ordering = ["-created_at", "-id"]


# --- Ingest -------------------------------------------------------------------------------------


def _serializer_errors(errors: object, index: int, prefix: str = "") -> list[dict]:
    """Flatten DRF's nested error structure into ``{index, field, message}`` items."""
    if isinstance(errors, dict):
        flat = []
        for key, value in errors.items():
            if isinstance(key, int):
                flat += _serializer_errors(value, index, f"{prefix}[{key}]")
                continue
            name = "" if key == "non_field_errors" else str(key)
            flat += _serializer_errors(
                value, index, f"{prefix}.{name}" if prefix and name else prefix or name
            )
        return flat
    if isinstance(errors, list) and errors and not isinstance(errors[0], str):
        flat = []
        for position, value in enumerate(errors):
            if value:
                flat += _serializer_errors(value, index, f"{prefix}[{position}]")
        return flat
    messages = errors if isinstance(errors, list) else [errors]
    return [{"index": index, "field": prefix, "message": str(message)} for message in messages]


def _validated_batch(request: Request, serializer_class: type, max_items: int, noun: str) -> list[dict]:
    try:
        payload = request.data
    except ParseError as error:
        raise _BadBatch(f"The body is not valid JSON: {error.detail}") from error
    if not isinstance(payload, list):
        raise _BadBatch(f"Send a JSON list of {noun}.")
    if not payload:
        raise _BadBatch(f"The list of {noun} is empty.")
    if len(payload) > max_items:
        raise _BadBatch(f"At most {max_items} {noun} per request; got {len(payload)}.")
    serializer = serializer_class(data=payload, many=True)
    if not serializer.is_valid():
        item_errors = serializer.errors
        # A list serializer reports per item, as a list or (newer releases) a dict keyed by position.
        by_index = item_errors.items() if isinstance(item_errors, dict) else enumerate(item_errors)
        errors = []
        for index, errors_of_item in sorted(by_index, key=lambda pair: int(pair[0])):
            if errors_of_item:
                errors += _serializer_errors(errors_of_item, int(index))
        raise _BadBatch(errors=errors)
    return serializer.validated_data


class _BadBatch(Exception):
    def __init__(self, message: str = "", errors: list[dict] | None = None) -> None:
        self.errors = errors if errors is not None else [{"index": None, "field": "", "message": message}]
        super().__init__(message)


class _IngestView(APIView):
    # Orders and events written in bulk: the portal's data import.
    permission_classes = [HasStaffPermission("import_data")]
    throttle_classes = [IngestRateThrottle]
    # A JSON list: a form cannot carry one.
    parser_classes = [JSONParser]


class OrderIngestView(_IngestView):
    @extend_schema(
        request=serializers.IngestOrderSerializer(many=True, allow_empty=False, max_length=INGEST_MAX_ORDERS),
        responses={
            200: serializers.IngestOrdersResultSerializer,
            400: serializers.IngestErrorListSerializer,
            409: error_response("The same orders were being written by another request."),
        },
        description=(
            f"Create or confirm up to {INGEST_MAX_ORDERS} orders with their lines, all or nothing. "
            "Sending the same orders again changes nothing. Errors name the item's position in "
            "the list and the field, e.g. `lines[0].unit_price`."
        ),
    )
    def post(self, request: Request) -> Response:
        try:
            orders = _validated_batch(request, serializers.IngestOrderSerializer, INGEST_MAX_ORDERS, "orders")
            result = orders_ingest(orders=orders)
        except IngestConflictError as conflict:
            return Response({"detail": str(conflict)}, status=status.HTTP_409_CONFLICT)
        except _BadBatch as bad:
            return Response({"errors": bad.errors}, status=status.HTTP_400_BAD_REQUEST)
        except IngestValidationError as invalid:
            return Response(
                {"errors": [error.as_dict() for error in invalid.errors]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(result)


class EventIngestView(_IngestView):
    @extend_schema(
        request=serializers.IngestEventSerializer(many=True, allow_empty=False, max_length=INGEST_MAX_EVENTS),
        responses={
            201: serializers.IngestEventsResultSerializer,
            400: serializers.IngestErrorListSerializer,
        },
        description=(
            f"Record up to {INGEST_MAX_EVENTS} behaviour events, all or nothing. Customers and "
            "products are named by the retailer's ids; unknown ids are reported per item."
        ),
    )
    def post(self, request: Request) -> Response:
        try:
            events = _validated_batch(request, serializers.IngestEventSerializer, INGEST_MAX_EVENTS, "events")
            written = events_ingest(events=events)
        except _BadBatch as bad:
            return Response({"errors": bad.errors}, status=status.HTTP_400_BAD_REQUEST)
        except IngestValidationError as invalid:
            return Response(
                {"errors": [error.as_dict() for error in invalid.errors]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response({"events": written}, status=status.HTTP_201_CREATED)


# --- A shopper's own data -------------------------------------------------------------------------


class MeView(APIView):
    """The customer record linked to this login."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: serializers.CustomerSerializer, 404: NO_LINKED_CUSTOMER})
    def get(self, request: Request) -> Response:
        customer = customer_for_request(request=request)
        return Response(serializers.CustomerSerializer(customer).data)


class MyOrderListView(generics.ListAPIView):
    """This login's own orders, newest first."""

    permission_classes = [IsAuthenticated]
    pagination_class = StandardPagination
    serializer_class = serializers.OrderSerializer
    filterset_class = filters.MyOrderFilter
    search_fields = ["external_id"]
    ordering_fields = ["placed_at"]
    ordering = ["-placed_at", "external_id"]

    @extend_schema(responses={200: serializers.OrderSerializer(many=True), 404: NO_LINKED_CUSTOMER})
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        customer = customer_for_request(request=self.request)
        return orders_with_lines(Order.objects.filter(customer=customer))
