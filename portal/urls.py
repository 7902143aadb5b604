"""The staff portal under ``/staff/``: each area's urls, in one ``staff`` namespace."""

from django.urls import include, path

app_name = "staff"

urlpatterns = [
    path("", include("portal.dashboard.urls")),
    path("", include("portal.customers.urls")),
    path("", include("portal.segments.urls")),
    path("", include("portal.promotions.urls")),
    path("", include("portal.model_versions.urls")),
    path("", include("portal.imports.urls")),
    path("", include("portal.jobs.urls")),
    path("", include("portal.audit.urls")),
    path("", include("portal.api_tokens.urls")),
    path("inventory/", include("portal.inventory.urls")),
]
