"""What the shop keeps in a visitor's session, and what becomes of it when they sign in.

- ``anonymous_key``: the key an anonymous visitor's behaviour events carry (``BehaviourEvent.session_key``).
  It is made, with the session, the first time something of theirs is recorded. It is not the session's
  own key: that one is a credential, and Django replaces it at sign-in.
- ``basket_id``: the id of the anonymous visitor's basket.

At sign-in (``user_logged_in``) both join the shopper's customer record: the basket merges into their
basket and the events become theirs (``crm.services.baskets.anonymous_session_join``).
"""

import datetime as dt
import secrets
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest

from crm.models import Basket, Customer
from crm.selectors.baskets import basket_open_anonymous, basket_open_for_customer
from crm.services.baskets import anonymous_session_join, basket_create

ANONYMOUS_KEY = "anonymous_key"
BASKET_ID = "basket_id"


def anonymous_key(request: HttpRequest) -> str:
    """The anonymous visitor's key for their behaviour events; makes it (and so the session) if need be."""
    key = request.session.get(ANONYMOUS_KEY)
    if not isinstance(key, str) or not key:
        key = secrets.token_hex(16)
        request.session[ANONYMOUS_KEY] = key
    return key


def session_basket_id(request: HttpRequest) -> int | None:
    basket_id = request.session.get(BASKET_ID)
    return basket_id if isinstance(basket_id, int) else None


def shopper_basket(request: HttpRequest, customer: Customer | None) -> Basket | None:
    """The shopper's open basket: their customer's, or the anonymous one of this session."""
    if customer is not None:
        return basket_open_for_customer(customer=customer)
    basket_id = session_basket_id(request)
    return basket_open_anonymous(basket_id=basket_id) if basket_id is not None else None


def shopper_basket_or_new(request: HttpRequest, customer: Customer | None) -> Basket:
    basket = shopper_basket(request, customer)
    if basket is None:
        basket = basket_create(customer=customer)
        if customer is None:
            request.session[BASKET_ID] = basket.pk
    return basket


def shopper_event_key(request: HttpRequest, customer: Customer | None) -> str:
    """The ``session_key`` an event of this shopper carries: none for a customer, who is named."""
    return "" if customer is not None else anonymous_key(request)


def shopper_signed_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """``user_logged_in``: the anonymous basket and events of this session join the account. A login
    with no customer record (staff) keeps them in the session as they are."""
    session = getattr(request, "session", None)
    if session is None:
        return
    basket_id = session_basket_id(request)
    key = session.get(ANONYMOUS_KEY) or ""
    if basket_id is None and not key:
        return
    if anonymous_session_join(user=user, basket_id=basket_id, session_key=key):
        session.pop(BASKET_ID, None)
        session.pop(ANONYMOUS_KEY, None)


def sessions_expired_delete(now: dt.datetime) -> dict[str, int]:
    """The nightly retention's part for sessions: every visitor gets one at their first product view, so
    the expired ones are deleted (Django's ``clearsessions``)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return {}
