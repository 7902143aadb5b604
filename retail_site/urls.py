from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("retail_site.api_urls")),
    path("staff/", include("crm.views.staff_urls")),
    path("", include("crm.views.shop_urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "crm.api.errors.not_found"
handler500 = "crm.api.errors.server_error"
