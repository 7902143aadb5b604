"""API tokens: every staff member's own tokens, which they may revoke one by one or all at once, and,
for a role holding ``manage_api_tokens``, every login's tokens, revoked from here into the audit trail.

A token is shown by its ``token_key`` (its first characters: the rest is never stored), when it was
issued and when it expires. A revoked token stops working at the API's next request.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from crm.selectors import api_tokens as token_selectors
from crm.services.api_tokens import api_token_revoke, api_tokens_revoke
from portal.api_tokens.forms import ApiTokenFilterForm, ApiTokenForm, ApiTokenLoginForm
from portal.guards import staff_login_required, staff_required
from portal.responses import bad_request

TOKENS_PER_PAGE = 50
MANAGE_PERMISSION = "manage_api_tokens"


@staff_login_required
@require_GET
def api_tokens_own(request: HttpRequest) -> HttpResponse:
    tokens = token_selectors.api_token_list(user=request.user)
    return render(request, "staff/api_tokens.html", {"tokens": tokens, "token_lifetime": _lifetime()})


@staff_login_required
@require_POST
def api_token_revoke_own(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return bad_request("Say which token to revoke: the form's token field is missing or too long.")
    token = token_selectors.api_token_get(digest=form.cleaned_data["token"], user=request.user)
    if token is None:
        raise Http404("You hold no API token with that id; it may have been revoked already.")
    api_token_revoke(token=token, revoked_by=request.user, via="portal")
    messages.success(request, f"Token {token.token_key}… revoked: whatever used it must log in again.")
    return redirect("staff:api_tokens")


@staff_login_required
@require_POST
def api_tokens_revoke_own(request: HttpRequest) -> HttpResponse:
    revoked = api_tokens_revoke(user=request.user, revoked_by=request.user, via="portal")
    if revoked:
        messages.success(
            request, f"{_tokens(revoked)} of yours revoked: whatever used them must log in again."
        )
    else:
        messages.info(request, "You held no API tokens to revoke.")
    return redirect("staff:api_tokens")


# --- Every login's tokens ---------------------------------------------------------------------


@staff_required(MANAGE_PERMISSION)
@require_GET
def api_tokens_all(request: HttpRequest) -> HttpResponse:
    form = ApiTokenFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        # the form's errors beside it, and no list: a filter not understood never lists every login's
        # tokens with their Revoke buttons
        return render(
            request,
            "staff/api_tokens_all.html",
            {"form": form, "page": None, "tokens": [], "username": "", "query": ""},
            status=400,
        )
    username = form.cleaned_data["username"] if form.is_bound else ""
    page = Paginator(token_selectors.api_token_list(username=username), TOKENS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/api_tokens_all.html",
        {
            "form": form,
            "page": page,
            "tokens": page.object_list,
            "username": username,
            "query": query.urlencode(),
        },
    )


@staff_required(MANAGE_PERMISSION)
@require_POST
def api_token_revoke_any(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return bad_request("Say which token to revoke: the form's token field is missing or too long.")
    token = token_selectors.api_token_get(digest=form.cleaned_data["token"])
    if token is None:
        raise Http404("No API token has that id; it may have been revoked already.")
    api_token_revoke(token=token, revoked_by=request.user, via="portal")
    owner = token.user.get_username()
    messages.success(
        request, f"Token {token.token_key}… of {owner} revoked: whatever used it must log in again."
    )
    return _back_to_all(form.cleaned_data["username"])


@staff_required(MANAGE_PERMISSION)
@require_POST
def api_tokens_revoke_login(request: HttpRequest) -> HttpResponse:
    form = ApiTokenLoginForm(request.POST)
    if not form.is_valid():
        return bad_request("Say whose tokens to revoke: the form's user field must be a login's id.")
    login = token_selectors.api_token_login_get(user_id=form.cleaned_data["user"])
    if login is None:
        raise Http404("No login has that id.")
    revoked = api_tokens_revoke(user=login, revoked_by=request.user, via="portal")
    name = login.get_username()
    if revoked:
        messages.success(
            request, f"{_tokens(revoked)} of {name} revoked: whatever used them must log in again."
        )
    else:
        messages.info(request, f"{name} held no API tokens to revoke.")
    return _back_to_all(form.cleaned_data["username"])


def _lifetime() -> str:
    """How long a new token lasts (``API_TOKEN_TTL_HOURS``), in words; empty when tokens never expire."""
    hours = settings.API_TOKEN_TTL_HOURS
    if not hours:
        return ""
    if hours % 24:
        return f"{hours} hour{pluralize(hours)}"
    return f"{hours // 24} day{pluralize(hours // 24)}"


def _tokens(count: int) -> str:
    return f"{count} API token" if count == 1 else f"{count} API tokens"


def _back_to_all(username: str) -> HttpResponse:
    url = reverse("staff:api_tokens_all")
    return redirect(f"{url}?{urlencode({'username': username})}" if username else url)
