"""Token login and logout of the API.

A failed login counts towards django-axes' lockout of the account, the same as a failed login of the shop
or the admin; a locked-out login is refused with 429 before its password is checked.
"""

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.schema import error_response
from crm.api.serializers import JSONInputSerializer
from crm.services.api_tokens import api_token_create, api_token_revoke


class LoginSerializer(JSONInputSerializer):
    """A username and password, each a string: a JSON number is refused, not taken as text."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown this once.")
    expiry = serializers.DateTimeField(allow_null=True, help_text="When the token stops working.")


class TokenView(APIView):
    """POST: a new token for a username and password. DELETE: revoke the token the request is made with."""

    parser_classes = [JSONParser, FormParser]

    def get_authenticators(self):
        # Logging in needs no credentials (and must not fail on a stale token header).
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self):
        if self.request is not None and self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        request=LoginSerializer,
        responses={
            200: TokenSerializer,
            401: error_response("The username or password is wrong, or the login is inactive."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        login = LoginSerializer(data=request.data)
        login.is_valid(raise_exception=True)
        # The Django request: django-axes records the attempt (and any lockout) on it.
        http_request = request._request
        user = authenticate(http_request, **login.validated_data)
        if getattr(http_request, "axes_locked_out", False):
            cool_off = get_cool_off(http_request)
            return Response(
                {"detail": "Too many failed logins; try again later."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(int(cool_off.total_seconds()))} if cool_off else {},
            )
        if user is None:
            return Response(
                {"detail": "Unable to log in with the given username and password."},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        token, key = api_token_create(user=user)
        # A login like any other: last_login is set and django-axes clears the failures counted so far.
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        return Response(TokenSerializer({"token": key, "expiry": token.expiry}).data)

    @extend_schema(
        request=None,
        responses={
            204: None,
            400: error_response("The request was not made with a token (e.g. a browser session)."),
        },
    )
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, AuthToken):
            return Response(
                {"detail": "This request was not made with a token."}, status=status.HTTP_400_BAD_REQUEST
            )
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
