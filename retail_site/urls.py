from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core import admin as core_admin
from retail_site import accounts, health, metrics

metrics.collector_register()

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    # Ahead of the admin's own view-on-site redirect, which answered 500 for a model with no table.
    path(
        "admin/r/<int:content_type_id>/<path:object_id>/",
        admin.site.admin_view(core_admin.view_on_site),
    ),
    path("admin/", admin.site.urls),
    # Sign-in, sign-out and a signed-in user's password change. Not Django's password reset: the
    # product sends no e-mail, and those pages told a visitor that a reset mail was on its way.
    path("accounts/login/", accounts.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("api/", include("retail_site.api_urls")),
    path("staff/", include("portal.urls")),
    path("", include("shop.urls")),
]

# MEDIA_ROOT is never served, not even with DEBUG on: it holds uploaded order files, with customers' data,
# until a worker has read them.

handler404 = "crm.api.errors.not_found"
handler500 = "crm.api.errors.server_error"
