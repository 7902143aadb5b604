from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from retail_site import health, metrics

metrics.collector_register()

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("retail_site.api_urls")),
    path("staff/", include("portal.urls")),
    path("", include("shop.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "crm.api.errors.not_found"
handler500 = "crm.api.errors.server_error"
