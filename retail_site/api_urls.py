"""The REST API under ``/api/``: staff resources, bulk ingest, recommendations, a shopper's own data,
token login and the OpenAPI schema with its browsable documentation."""

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from crm.api import auth_views, basket_views, privacy_views
from crm.api import views as crm_views
from inventory.api import views as inventory_views
from recommender.api import views as recommender_views

register_converter(crm_views.ExternalIdConverter, "external_id")

router = SimpleRouter()
router.register("customers", crm_views.CustomerViewSet, basename="customer")
router.register("products", crm_views.ProductViewSet, basename="product")
router.register("orders", crm_views.OrderViewSet, basename="order")
router.register("promotions", crm_views.PromotionViewSet, basename="promotion")
router.register("model-versions", recommender_views.ModelVersionViewSet, basename="model-version")
router.register("jobs", crm_views.JobViewSet, basename="job")


def _docs_page(view):
    """A documentation page sends a signed-out visitor to the login page (and back), unless the docs
    are public; the permission check itself is the schema's (``ApiDocsPermission``)."""

    # Swagger UI and Redoc write <style> elements; Redoc renders the schema in a worker.
    @csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})
    def page(request, *args, **kwargs):
        if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return page


app_name = "api"
urlpatterns = [
    path("auth/token/", auth_views.TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page needs no inline script.
    path("docs/", _docs_page(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path(
        "redoc/",
        _docs_page(SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")),
        name="redoc",
    ),
    path("me/", crm_views.MeView.as_view(), name="me"),
    path("me/orders/", crm_views.MyOrderListView.as_view(), name="my-orders"),
    path(
        "me/recommendations/", recommender_views.MyRecommendationListView.as_view(), name="my-recommendations"
    ),
    path(
        "baskets/current/recommendations/",
        recommender_views.BasketRecommendationListView.as_view(),
        name="basket-recommendations",
    ),
    path(
        "recommendations/for-items/",
        recommender_views.ItemsRecommendationListView.as_view(),
        name="recommendations-for-items",
    ),
    path(
        "customers/<external_id:external_id>/recommendations/",
        recommender_views.CustomerRecommendationListView.as_view(),
        name="customer-recommendations",
    ),
    path(
        "products/<external_id:external_id>/similar/",
        recommender_views.SimilarProductListView.as_view(),
        name="product-similar",
    ),
    path(
        "customers/<str:external_id>/erase/", privacy_views.CustomerEraseView.as_view(), name="customer-erase"
    ),
    path(
        "customers/<str:external_id>/data-export/",
        privacy_views.CustomerDataExportView.as_view(),
        name="customer-data-export",
    ),
    path(
        "customers/<str:external_id>/consent/",
        privacy_views.CustomerConsentView.as_view(),
        name="customer-consent",
    ),
    # The signed-in shopper's own basket.
    path("baskets/current/", basket_views.BasketCurrentView.as_view(), name="basket-current"),
    path("baskets/current/lines/", basket_views.BasketLineListView.as_view(), name="basket-lines"),
    path(
        "baskets/current/lines/<external_id:product_id>/",
        basket_views.BasketLineDetailView.as_view(),
        name="basket-line",
    ),
    path("baskets/current/order/", basket_views.BasketOrderView.as_view(), name="basket-order"),
    path("segments/", crm_views.SegmentRunLatestView.as_view(), name="segments"),
    path("segments/customers/", crm_views.CustomerSegmentListView.as_view(), name="segment-customers"),
    path(
        "promotions/<int:pk>/targets/", crm_views.PromotionTargetListView.as_view(), name="promotion-targets"
    ),
    path("ingest/orders/", crm_views.OrderIngestView.as_view(), name="ingest-orders"),
    path("ingest/events/", crm_views.EventIngestView.as_view(), name="ingest-events"),
    # Inventory: stock and buying rules, forecasts and reorder advice per product, the reorder list.
    path("inventory/stock/", inventory_views.stock_list, name="inventory-stock-list"),
    path("inventory/stock/<str:external_id>/", inventory_views.stock_detail, name="inventory-stock-detail"),
    path(
        "inventory/products/<str:external_id>/forecast/",
        inventory_views.ProductForecastView.as_view(),
        name="inventory-product-forecast",
    ),
    path(
        "inventory/products/<str:external_id>/replenishment/",
        inventory_views.ProductReplenishmentView.as_view(),
        name="inventory-product-replenishment",
    ),
    path(
        "inventory/replenishment/",
        inventory_views.ReplenishmentListView.as_view(),
        name="inventory-replenishment",
    ),
    path(
        "inventory/forecast-runs/latest/",
        inventory_views.ForecastRunLatestView.as_view(),
        name="inventory-run",
    ),
    path("", include(router.urls)),
]
