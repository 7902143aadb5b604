"""The signed-in shopper's own basket: read it, put products in, change or remove them, place the order.

Only the login's own customer has a basket here; a login without a customer record (a staff login) gets
404 saying so. Products are named by the retailer's ids, as everywhere in the API.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api import serializers
from crm.api.permissions import NO_LINKED_CUSTOMER, customer_for_request
from crm.api.schema import error_response
from crm.api.views import orders_with_lines
from crm.models import Customer, Order
from crm.selectors.baskets import (
    basket_line_get,
    basket_of_customer,
    basket_open_for_customer,
    basket_summary,
)
from crm.selectors.catalogue import product_get_for_shop
from crm.services.baskets import (
    BasketError,
    BasketStockError,
    basket_create,
    basket_line_add,
    basket_line_remove,
    basket_line_set_quantity,
    basket_order_place,
)

STOCK_CONFLICT = error_response(
    "A product is not sold any more or has too few units in stock; the answer names it."
)
NOT_IN_BASKET = error_response(
    "No such product in your basket, or no customer record is linked to this login."
)


def _basket_response(customer: Customer, *, code: int = status.HTTP_200_OK) -> Response:
    summary = basket_summary(basket=basket_open_for_customer(customer=customer))
    return Response(serializers.BasketSerializer(summary).data, status=code)


def _refused(refusal: BasketError) -> Response:
    code = status.HTTP_409_CONFLICT if isinstance(refusal, BasketStockError) else status.HTTP_400_BAD_REQUEST
    return Response({"detail": str(refusal)}, status=code)


class _ShopperBasketView(APIView):
    permission_classes = [IsAuthenticated]
    # JSON only, as the schema says: a form body would read the quantity as text.
    parser_classes = [JSONParser]


class BasketCurrentView(_ShopperBasketView):
    """This login's open basket: its lines with the products' current prices, and the total."""

    @extend_schema(responses={200: serializers.BasketSerializer, 404: NO_LINKED_CUSTOMER})
    def get(self, request: Request) -> Response:
        customer = customer_for_request(request=request)
        return _basket_response(customer)


class BasketLineListView(_ShopperBasketView):
    """Put a product in the basket; a product already in it gets the quantity added."""

    @extend_schema(
        request=serializers.BasketLineAddSerializer,
        responses={201: serializers.BasketSerializer, 404: NO_LINKED_CUSTOMER, 409: STOCK_CONFLICT},
    )
    def post(self, request: Request) -> Response:
        customer = customer_for_request(request=request)
        given = serializers.BasketLineAddSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        product_id = given.validated_data["product_id"]
        product = product_get_for_shop(external_id=product_id)
        if product is None:
            return Response(
                {"product_id": [f"No product with id {product_id!r} in the shop."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            basket_line_add(
                basket=basket_create(customer=customer),
                product=product,
                quantity=given.validated_data["quantity"],
            )
        except BasketError as refusal:
            return _refused(refusal)
        return _basket_response(customer, code=status.HTTP_201_CREATED)


class BasketLineDetailView(_ShopperBasketView):
    """One product's line in the basket: change its quantity (0 removes it) or remove it."""

    def _line(self, request: Request, product_id: str):
        customer = customer_for_request(request=request)
        line = basket_line_get(basket=basket_open_for_customer(customer=customer), external_id=product_id)
        if line is None:
            raise Http404(f"No product with id {product_id!r} in your basket.")
        return customer, line

    @extend_schema(
        request=serializers.BasketLineQuantitySerializer,
        responses={200: serializers.BasketSerializer, 404: NOT_IN_BASKET, 409: STOCK_CONFLICT},
    )
    def patch(self, request: Request, product_id: str) -> Response:
        customer, line = self._line(request, product_id)
        given = serializers.BasketLineQuantitySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        if "quantity" not in given.validated_data:
            return _basket_response(customer)
        try:
            basket_line_set_quantity(
                basket=line.basket, product=line.product, quantity=given.validated_data["quantity"]
            )
        except BasketError as refusal:
            return _refused(refusal)
        return _basket_response(customer)

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Removed."), 404: NOT_IN_BASKET},
    )
    def delete(self, request: Request, product_id: str) -> Response:
        _, line = self._line(request, product_id)
        try:
            basket_line_remove(basket=line.basket, product=line.product)
        except BasketError as refusal:
            return _refused(refusal)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BasketOrderView(_ShopperBasketView):
    """Place the order of the basket (no payment is taken): the order is recorded as placed, stock is
    lowered, and the next product put in starts a new basket. The basket is empty: 400."""

    @extend_schema(
        request=serializers.BasketOrderSerializer,
        responses={
            201: OpenApiResponse(serializers.OrderSerializer, description="The order, placed now."),
            200: OpenApiResponse(
                serializers.OrderSerializer, description="This basket's order, placed before (a retry)."
            ),
            404: error_response("No such basket of yours, or no customer record is linked to this login."),
            409: STOCK_CONFLICT,
        },
    )
    def post(self, request: Request) -> Response:
        customer = customer_for_request(request=request)
        given = serializers.BasketOrderSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        basket_id = given.validated_data.get("basket_id")
        if basket_id is not None:
            basket = basket_of_customer(customer=customer, basket_id=basket_id)
            if basket is None:
                raise Http404(f"No basket {basket_id} of yours.")
        else:
            basket = basket_open_for_customer(customer=customer)
            if basket is None:
                return Response({"detail": "Your basket is empty."}, status=status.HTTP_400_BAD_REQUEST)
        try:
            placement = basket_order_place(basket=basket)
        except BasketError as refusal:
            return _refused(refusal)
        # As the orders endpoints give it: with its lines and their products.
        order = orders_with_lines(Order.objects.filter(pk=placement.order.pk)).get()
        code = status.HTTP_201_CREATED if placement.created else status.HTTP_200_OK
        return Response(serializers.OrderSerializer(order).data, status=code)
