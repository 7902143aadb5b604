"""Recommendations and "bought together" as stored by the served model version, and the versions.

Nothing here loads a model: a request reads precomputed rows (a couple of indexed queries).
"""

from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api import filters as api_filters
from crm.api.errors import NamedNotFound
from crm.api.pagination import StandardPagination
from crm.api.permissions import (
    NO_LINKED_CUSTOMER,
    CustomerOwnerOrStaff,
    HasStaffPermission,
    customer_for_request,
    holds_staff_permission,
)
from crm.api.query import query_validated
from crm.api.schema import error_response
from crm.models import AuditEvent, Customer, Product
from crm.selectors.baskets import basket_open_for_customer, basket_summary
from crm.services.privacy import audit_record, customer_subject
from recommender.api import serializers
from recommender.models import ModelVersion
from recommender.reasons import ReasonRenderer
from recommender.selectors import (
    basket_completion_rows,
    recommendation_rows_for_customer,
    similar_product_list,
)
from recommender.selectors_explain import recommendation_explanations

# The API serves at most this many recommendations or neighbours per request.
MAX_LIMIT = 100


class LimitQuerySerializer(drf_serializers.Serializer):
    """The query of the list endpoints below; the schema takes its bounds from here."""

    limit = drf_serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, required=False, help_text="How many to return."
    )


def _limit(request: Request, default: int | None) -> int | None:
    return query_validated(request.query_params, LimitQuerySerializer).get("limit", default)


class CustomerRecommendationQuerySerializer(LimitQuerySerializer):
    explain = drf_serializers.BooleanField(
        required=False,
        default=False,
        help_text="Staff only: add to each recommendation which inputs drove its score (a shopper asking "
        "gets 403).",
    )


EXPLANATIONS_ARE_FOR_STAFF = "Explanations (explain=true) are for staff only."


def _recommendations_response(
    customer: Customer | None, limit: int | None, *, external_id: str = "", rows: list[dict] | None = None
) -> Response:
    """Built from plain values rather than serializer instances: this is the API's hot path.
    The shape is the one ``RecommendationListSerializer`` documents."""
    if rows is None:
        rows = recommendation_rows_for_customer(customer=customer, limit=limit)
    reasons = ReasonRenderer()
    if any("{" in row["reason"] for row in rows):
        # Stored reasons normally name their products already; a placeholder left costs one query.
        reasons.prefetch(row["reason"] for row in rows)
    results = [
        {
            "product": {
                "external_id": row["product__external_id"],
                "name": row["product__name"],
                "category": row["product__category__path"],
                "price": None if row["product__price"] is None else f"{row['product__price']:.2f}",
            },
            "rank": row["rank"],
            "score": row["score"],
            "reason": reasons.render(row["reason"]) if "{" in row["reason"] else row["reason"],
            "model_version_id": row["model_version_id"],
        }
        for row in rows
    ]
    return Response(
        {
            "customer_id": customer.external_id if customer is not None else (external_id or None),
            "model_version_id": results[0]["model_version_id"] if results else None,
            "results": results,
        }
    )


class CustomerRecommendationListView(APIView):
    """A customer's recommendations from the served model version, best first, with reasons.

    Staff holding ``core.view_customers`` (as the portal's customer 360 page) may ask for any customer;
    a shopper only for their own id (any other id is 404). With ``explain=true`` (staff only; a shopper
    gets 403) each row also says which inputs drove its score.
    """

    permission_classes = [CustomerOwnerOrStaff("view_customers")]

    @extend_schema(
        parameters=[CustomerRecommendationQuerySerializer],
        responses={
            200: serializers.ExplainedRecommendationListSerializer,
            403: error_response(
                "A staff login lacks the staff permission `core.view_customers` (as for the customer 360 "
                "page; a superuser holds every permission); or a shopper asked for explain=true "
                "(explanations are for staff only); or a session request lacks its CSRF token."
            ),
            404: error_response("No customer with that id (or not yours)."),
        },
    )
    def get(self, request: Request, external_id: str) -> Response:
        query = query_validated(request.query_params, CustomerRecommendationQuerySerializer)
        limit = query.get("limit")
        if query["explain"]:
            return self._explained(request, external_id, limit)
        if holds_staff_permission(request.user, "view_customers"):
            # Staff may read any customer: the served rows are found by the retailer's id directly,
            # one query fewer; the customer row is read only for a cold start or an unknown id.
            rows = recommendation_rows_for_customer(customer_external_id=external_id, limit=limit)
            if rows:
                return _recommendations_response(None, limit, external_id=external_id, rows=rows)
        customer = customer_for_request(request=request, external_id=external_id)
        return _recommendations_response(customer, limit)

    def _explained(self, request: Request, external_id: str, limit: int | None) -> Response:
        """The same list with each row's explanation (staff only): one query more, and an audit entry."""
        if not holds_staff_permission(request.user, "view_customers"):
            raise PermissionDenied(EXPLANATIONS_ARE_FOR_STAFF)
        customer = customer_for_request(request=request, external_id=external_id)
        rows = recommendation_rows_for_customer(customer=customer, limit=limit)
        response = _recommendations_response(customer, limit, rows=rows)
        explanations = recommendation_explanations(customer=customer, rows=rows)
        for result, explanation in zip(response.data["results"], explanations, strict=True):
            result["explanation"] = explanation
        # they name products the customer bought: a read of personal data, like their orders
        audit_record(
            action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
            actor=request.user,
            subject=customer_subject(customer),
            via="api",
            detail={"read": "recommendation explanations"},
        )
        return response


class MyRecommendationListView(APIView):
    """This login's own recommendations."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[LimitQuerySerializer],
        responses={200: serializers.RecommendationListSerializer, 404: NO_LINKED_CUSTOMER},
    )
    def get(self, request: Request) -> Response:
        limit = _limit(request, default=None)
        customer = customer_for_request(request=request)
        return _recommendations_response(customer, limit)


class BasketRecommendationListView(APIView):
    """ "Complete your basket": products that go with what is in this login's open basket, blended with
    their own recommendations; never what is already in the basket."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[LimitQuerySerializer],
        responses={200: serializers.RecommendationListSerializer, 404: NO_LINKED_CUSTOMER},
    )
    def get(self, request: Request) -> Response:
        limit = _limit(request, default=None)
        customer = customer_for_request(request=request)
        summary = basket_summary(basket=basket_open_for_customer(customer=customer))
        rows = basket_completion_rows(
            basket=[(line.product_id, line.product.name) for line in summary.lines],
            customer=customer,
            limit=limit,
        )
        return _recommendations_response(customer, limit, rows=rows)


class ItemsRecommendationListView(APIView):
    """ "Complete the cart" for another system's cart: products that go with the given ones, never the
    given ones themselves, blended with a customer's stored list when a customer is named."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        request=serializers.ItemsRecommendationInputSerializer,
        responses={
            200: serializers.ItemsRecommendationListSerializer,
            404: error_response("No customer with that id (or not yours)."),
        },
    )
    def post(self, request: Request) -> Response:
        given = serializers.ItemsRecommendationInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        external_ids = given.validated_data["product_ids"]
        known = {
            external_id: (pk, name)
            for external_id, pk, name in Product.objects.filter(external_id__in=external_ids).values_list(
                "external_id", "pk", "name"
            )
        }
        # Another system's cart may hold products this shop does not know (yet): they are left out and
        # named in the answer, the rest is completed.
        unknown = list(dict.fromkeys(external_id for external_id in external_ids if external_id not in known))
        customer = None
        if "customer_id" in given.validated_data:
            customer = customer_for_request(request=request, external_id=given.validated_data["customer_id"])
        rows = basket_completion_rows(
            basket=[
                known[external_id] for external_id in dict.fromkeys(external_ids) if external_id in known
            ],
            customer=customer,
            limit=given.validated_data.get("limit"),
        )
        response = _recommendations_response(customer, None, rows=rows)
        response.data["unknown_product_ids"] = unknown
        return response


class SimilarProductListView(APIView):
    """Products often bought together with this one, from the served model version.

    Open to any signed-in user: the shop shows the same list on its product pages.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[LimitQuerySerializer], responses=serializers.SimilarProductListSerializer)
    def get(self, request: Request, external_id: str) -> Response:
        limit = _limit(request, default=10)
        product = Product.objects.filter(external_id=external_id).first()
        if product is None:
            raise Http404(f"No product with id {external_id!r}.")
        neighbours = similar_product_list(product=product, limit=limit)
        payload = {"product_id": product.external_id, "results": neighbours}
        return Response(serializers.SimilarProductListSerializer(payload).data)


class ModelVersionFilter(api_filters.FilterSet):
    status = filters.ChoiceFilter(choices=ModelVersion.Status.choices)

    class Meta:
        model = ModelVersion
        fields = ["status"]


class ModelVersionViewSet(NamedNotFound, viewsets.ReadOnlyModelViewSet):
    """Trained recommender versions with their metrics against the baselines; newest first."""

    # The portal's model page, open to every staff role (training and activating need manage_models).
    permission_classes = [HasStaffPermission("view_portal")]
    pagination_class = StandardPagination
    serializer_class = serializers.ModelVersionSerializer
    queryset = ModelVersion.objects.all()
    filterset_class = ModelVersionFilter
    search_fields: list[str] = []
    ordering_fields = ["created_at", "trained_at", "activated_at"]
    ordering = ["-created_at", "-id"]
