"""Sign-in: staff land in the staff portal, shoppers in the shop (``?next=`` still wins). A password
change checks the old password as a login would, so that guesses at it count towards the lockout, and
failed logins lock out an account, or an address that fails at many (``LoginLockoutHandler``)."""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.urls import reverse


class SignInView(auth_views.LoginView):
    def get_default_redirect_url(self) -> str:
        if self.request.user.is_staff:
            return reverse("staff:dashboard")
        return resolve_url(settings.LOGIN_REDIRECT_URL)


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form, with the old password checked by ``authenticate``: django-axes counts a wrong one
    as a failed login of the account, and refuses a locked-out account before checking it (429). With
    ``check_password`` a signed-in session could guess the password without limit."""

    def __init__(self, user, *args, request: HttpRequest, **kwargs) -> None:
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        login = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if login is None or login.pk != self.user.pk:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}


class LoginLockoutHandler(AxesDatabaseHandler):
    """django-axes' handler (``AXES_HANDLER``): an account is locked out after ``LOGIN_FAILURE_LIMIT``
    failed logins from any address (axes' own count, per account), and an address after
    ``LOGIN_ADDRESS_FAILURE_LIMIT`` failed logins at any accounts within ``LOGIN_LOCKOUT_MINUTES``.

    The second limit stops one address trying a few passwords at each of many accounts, which no
    account's count would notice. It is a count of its own, read from axes' records of each account's
    failures with their address, not a lockout parameter of axes: a successful login clears its own
    account's failures only, so signing in to one's own account between guesses clears neither count.
    It is higher than an account's so that an office behind one address is locked out by nothing short
    of an attack."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or self.address_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        """Record the failure (axes), and answer it as a lockout (429) once it is the address's last
        allowed one, as axes does for an account's."""
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.address_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials

    @classmethod
    def address_locked(cls, request) -> bool:
        limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT  # 0: no limit per address
        return bool(limit) and cls.address_failures(request) >= limit

    @staticmethod
    def address_failures(request) -> int:
        """Failed logins from the request's address, at whatever accounts, within the cool-off."""
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        attempts = AccessAttempt.objects.filter(
            ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
        )
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
