"""Sign-in: staff land in the staff portal, shoppers in the shop (``?next=`` still wins). A password
change checks the old password as a login would, so that guesses at it count towards the lockout."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
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
