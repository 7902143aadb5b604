"""The REST API under ``/api/``: staff resources, bulk ingest, recommendations, a shopper's own data,
token login and the OpenAPI schema with its browsable documentation."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import SimpleRouter

from crm.api import privacy_views
from crm.api import views as crm_views
from recommender.api import views as recommender_views

router = SimpleRouter()
router.register("customers", crm_views.CustomerViewSet, basename="customer")
router.register("products", crm_views.ProductViewSet, basename="product")
router.register("orders", crm_views.OrderViewSet, basename="order")
router.register("promotions", crm_views.PromotionViewSet, basename="promotion")
router.register("model-versions", recommender_views.ModelVersionViewSet, basename="model-version")
router.register("jobs", crm_views.JobViewSet, basename="job")

app_name = "api"
urlpatterns = [
    path("auth/token/", obtain_auth_token, name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("me/", crm_views.MeView.as_view(), name="me"),
    path("me/orders/", crm_views.MyOrderListView.as_view(), name="my-orders"),
    path(
        "me/recommendations/", recommender_views.MyRecommendationListView.as_view(), name="my-recommendations"
    ),
    path(
        "customers/<str:external_id>/recommendations/",
        recommender_views.CustomerRecommendationListView.as_view(),
        name="customer-recommendations",
    ),
    path(
        "products/<str:external_id>/similar/",
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
    path("segments/", crm_views.SegmentRunLatestView.as_view(), name="segments"),
    path("segments/customers/", crm_views.CustomerSegmentListView.as_view(), name="segment-customers"),
    path(
        "promotions/<int:pk>/targets/", crm_views.PromotionTargetListView.as_view(), name="promotion-targets"
    ),
    path("ingest/orders/", crm_views.OrderIngestView.as_view(), name="ingest-orders"),
    path("ingest/events/", crm_views.EventIngestView.as_view(), name="ingest-events"),
    path("", include(router.urls)),
]
