"""Django's own error pages, answered in the API's shape under ``/api/``: a URL that matches no API route
(e.g. ``/api/promotions/-1/targets/``) is a JSON 404 like any other, not an HTML page. And a viewset's
404 for an unknown id, naming it."""

import math

from axes.helpers import get_cool_off
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from rest_framework.exceptions import NotFound

API_PREFIX = "/api/"


class NamedNotFound:
    """A viewset mixin: a row that does not exist answers "No customer with id 'X'." where DRF says "No
    Customer matches the given query.", as the endpoints that look a customer up themselves do."""

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            wanted = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            name = self.get_queryset().model._meta.verbose_name
            raise NotFound(f"No {name} with id {wanted!r}.") from None


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)


def login_lockout(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes' answer to a locked-out login (``AXES_LOCKOUT_CALLABLE``): the API's token login has
    already answered in the API's shape; a login page gets a page of the site saying when to try again."""
    if request.path.startswith(API_PREFIX) and original_response is not None:
        return original_response
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    response = render(request, "429.html", {"minutes": minutes}, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
