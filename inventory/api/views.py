"""Inventory endpoints (staff): stock and buying rules, a product's forecast and reorder advice, the
reorder list and the latest forecast run."""

import math

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.pagination import StandardPagination
from crm.api.permissions import HasStaffPermission
from crm.api.query import query_validated
from crm.api.schema import error_response
from crm.models import Product
from inventory import selectors
from inventory.api import serializers
from inventory.services.stock import stock_update

EXTERNAL_ID_PATTERN = r"[^/]+"
NOT_FOUND = error_response("No such product, or no forecast for it.")
PRODUCT_ID = OpenApiParameter(
    "external_id", str, OpenApiParameter.PATH, description="The retailer's product id (SKU)."
)


@extend_schema_view(
    list=extend_schema(
        description="Every product's units on hand and buying rules, by product id.",
        responses={200: serializers.StockSerializer(many=True)},
    ),
    retrieve=extend_schema(
        parameters=[PRODUCT_ID],
        responses={200: serializers.StockSerializer, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        parameters=[PRODUCT_ID],
        description="Change any of on_hand, lead_time_days, min_order_qty, pack_size, on_order (null "
        "clears one; on_order null is 0).",
        responses={
            200: serializers.StockSerializer,
            404: NOT_FOUND,
        },
    ),
)
class StockViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    # The buyer's inventory room: reading stock, and changing it.
    permission_classes = [HasStaffPermission("view_inventory", write="manage_inventory")]
    pagination_class = StandardPagination
    serializer_class = serializers.StockSerializer
    lookup_field = "external_id"
    lookup_value_regex = EXTERNAL_ID_PATTERN
    http_method_names = ["get", "patch", "head", "options"]
    # JSON only: in a form body an empty on_hand reads as null and turns stock tracking off silently.
    parser_classes = [JSONParser]
    search_fields = ["external_id", "name"]
    ordering_fields = ["external_id", "stock"]
    ordering = ["external_id"]

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.select_related("stock_policy")

    def get_object(self) -> Product:
        try:
            return super().get_object()
        except Http404:
            raise Http404(f"No product with id {self.kwargs['external_id']!r}.") from None

    def perform_update(self, serializer) -> None:
        data = serializer.validated_data
        policy = data.get("stock_policy", {})
        fields = ({"on_hand"} if "stock" in data else set()) | set(policy)
        stock_update(
            product=serializer.instance,
            on_hand=data.get("stock"),
            lead_time_days=policy.get("lead_time_days"),
            min_order_qty=policy.get("min_order_qty"),
            pack_size=policy.get("pack_size"),
            on_order=policy.get("on_order"),
            fields=fields,
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


stock_list = StockViewSet.as_view({"get": "list"})
stock_detail = StockViewSet.as_view({"get": "retrieve", "patch": "partial_update"})


def _product(external_id: str) -> Product:
    product = Product.objects.filter(external_id=external_id).first()
    if product is None:
        raise Http404(f"No product with id {external_id!r}.")
    return product


class ProductForecastView(APIView):
    permission_classes = [HasStaffPermission("view_inventory")]

    @extend_schema(
        parameters=[PRODUCT_ID, serializers.ForecastQuerySerializer],
        description="The product's forecast in the latest run: units per day (or 7-day bucket) with the "
        "prediction interval.",
        responses={
            200: serializers.ProductForecastSerializer,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, external_id: str) -> Response:
        query = query_validated(request.query_params, serializers.ForecastQuerySerializer)
        product = _product(external_id)
        forecast = selectors.product_forecast_for_product(product=product)
        if forecast is None:
            raise Http404(f"No forecast for product {external_id!r}.")
        freq = query["freq"]
        rows = selectors.forecast_rows(run=forecast.run, freq=freq, product=product)
        data = {
            "product_id": product.external_id,
            "run_id": forecast.run_id,
            "as_of": forecast.run.as_of,
            "level": forecast.run.level,
            "freq": freq,
            "model": forecast.model,
            "demand_class": forecast.demand_class,
            "points": [{"date": d, "forecast": m, "lower": lo, "upper": up} for _, d, m, lo, up in rows],
        }
        return Response(serializers.ProductForecastSerializer(data).data)


def _replenishment_rows(frame) -> list[dict]:
    rows = frame.drop(columns=["product_pk", "stockout_days"]).to_dict("records")
    for row in rows:
        cover = row["weeks_of_cover"]
        row["weeks_of_cover"] = None if cover is None or math.isinf(cover) else cover
    return rows


class ProductReplenishmentView(APIView):
    permission_classes = [HasStaffPermission("view_inventory")]

    @extend_schema(
        parameters=[PRODUCT_ID],
        description="Reorder advice for the product from the latest forecast and its stock on hand.",
        responses={200: serializers.ReplenishmentSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, external_id: str) -> Response:
        product = _product(external_id)
        frame = selectors.replenishment_frame(product_ids=[product.pk])
        if frame.empty:
            raise Http404(f"No forecast for product {external_id!r}, or its stock is not tracked.")
        return Response(serializers.ReplenishmentSerializer(_replenishment_rows(frame)[0]).data)


class ReplenishmentListView(generics.ListAPIView):
    permission_classes = [HasStaffPermission("view_inventory")]
    pagination_class = StandardPagination
    serializer_class = serializers.ReplenishmentSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[serializers.ReplenishmentQuerySerializer],
        description="The reorder list of the latest forecast: every product whose stock is tracked "
        "(at risk: soonest stock-out first; overstock: most weeks of cover first).",
        responses={
            200: serializers.ReplenishmentSerializer(many=True),
        },
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args, **kwargs) -> Response:
        query = query_validated(request.query_params, serializers.ReplenishmentQuerySerializer)
        frame = selectors.replenishment_frame()
        status = query["status"]
        if status == "at_risk":
            frame = selectors.replenishment_at_risk(frame=frame)
        elif status == "overstock":
            frame = selectors.replenishment_overstock(frame=frame)
        elif status == "reorder":
            frame = frame[frame["order_quantity"] > 0]
        paginator = StandardPagination()
        page = paginator.paginate_queryset(_replenishment_rows(frame), request, view=self)
        return paginator.get_paginated_response(serializers.ReplenishmentSerializer(page, many=True).data)


class ForecastRunLatestView(APIView):
    permission_classes = [HasStaffPermission("view_inventory")]

    @extend_schema(
        description="The latest forecast run: its parameters, the models chosen and the backtest.",
        responses={
            200: serializers.ForecastRunSerializer,
            404: error_response("No forecast run yet."),
        },
    )
    def get(self, request: Request) -> Response:
        run = selectors.forecast_run_latest()
        if run is None:
            raise Http404("No forecast has been run yet.")
        return Response(
            serializers.ForecastRunSerializer(
                {
                    "id": run.pk,
                    "as_of": run.as_of,
                    "horizon_days": run.horizon_days,
                    "level": run.level,
                    "product_count": run.product_count,
                    "model_counts": run.model_counts,
                    "backtest": run.backtest,
                    "parameters": run.parameters,
                    "seconds": run.seconds,
                    "created_at": run.created_at,
                }
            ).data
        )
