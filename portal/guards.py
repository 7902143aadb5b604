"""Who may open a portal page: staff accounts holding the page's permission (``core.roles``), or, for a
page about the login itself, any active staff account."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from core.roles import missing_permission_message, staff_permission

View = Callable[..., HttpResponse]

# ``?pseudonymize=1`` on a portal export: customers named by their keyed pseudonym (``crm.pseudonyms``).
PSEUDONYMIZE_PARAMETER = "pseudonymize"
_YES = {"1", "true", "on", "yes"}
_NO = {"", "0", "false", "off", "no"}


def staff_required(codename: str, *alternatives: str) -> Callable[[View], View]:
    """Anonymous visitors go to the login page; signed-in accounts that are not active staff, or hold
    neither ``core.<codename>`` nor any of ``alternatives``, get 403."""
    permissions = [staff_permission(name) for name in (codename, *alternatives)]

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            _refuse_non_staff(request)
            if not any(request.user.has_perm(permission) for permission in permissions):
                raise PermissionDenied(
                    f"Your role does not include this page. {missing_permission_message(codename)}"
                )
            return view(request, *args, **kwargs)

        guarded.staff_permission = codename
        guarded.staff_permissions = (codename, *alternatives)
        return guarded

    return decorate


def staff_login_required(view: View) -> View:
    """For a page about the signed-in login itself (its own API tokens): every active staff account,
    whatever its roles, may use it. Anonymous visitors go to the login page; other accounts get 403."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        _refuse_non_staff(request)
        return view(request, *args, **kwargs)

    guarded.staff_permission = None
    guarded.staff_permissions = ()
    return guarded


def _refuse_non_staff(request: HttpRequest) -> None:
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied("The staff portal is for staff accounts only.")


class BadExportParameter(ValueError):
    """``?pseudonymize=`` holds something other than yes or no."""


def export_pseudonymized(request: HttpRequest) -> bool:
    """Whether a customer-list export (a page guarded by ``export_personal_data`` or
    ``export_pseudonymized``) names customers by pseudonym: asked for with ``?pseudonymize=1``.

    A login that may export pseudonymized files only (the analyst role) gets 403 for the file with ids,
    rather than a file that silently differs from the one asked for.
    """
    value = request.GET.get(PSEUDONYMIZE_PARAMETER, "").strip().lower()
    if value not in _YES | _NO:
        raise BadExportParameter("pseudonymize must be 1 (customers by pseudonym) or 0 (by id).")
    pseudonymized = value in _YES
    if not pseudonymized and not request.user.has_perm(staff_permission("export_personal_data")):
        raise PermissionDenied(
            "Your role exports pseudonymized files only: add ?pseudonymize=1 to the address."
        )
    return pseudonymized
