"""Sign-in: staff land in the staff portal, shoppers in the shop (``?next=`` still wins)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import resolve_url
from django.urls import reverse


class SignInView(auth_views.LoginView):
    def get_default_redirect_url(self) -> str:
        if self.request.user.is_staff:
            return reverse("staff:dashboard")
        return resolve_url(settings.LOGIN_REDIRECT_URL)
