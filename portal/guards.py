"""Who may open a portal page: staff accounts holding the page's permission (``core.roles``)."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from core.roles import staff_permission

View = Callable[..., HttpResponse]


def staff_required(codename: str) -> Callable[[View], View]:
    """Anonymous visitors go to the login page; signed-in accounts that are not active staff, or lack
    ``core.<codename>``, get 403."""
    permission = staff_permission(codename)

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (user.is_active and user.is_staff):
                raise PermissionDenied("The staff portal is for staff accounts only.")
            if not user.has_perm(permission):
                raise PermissionDenied("Your role does not include this page.")
            return view(request, *args, **kwargs)

        guarded.staff_permission = codename
        return guarded

    return decorate
