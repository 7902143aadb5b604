from django import template

from crm.selectors.baskets import basket_item_count
from shop.sessions import session_basket_id

register = template.Library()


@register.simple_tag(takes_context=True)
def basket_count(context) -> int:
    """How many items the shopper's basket holds, for the header (one query, none for a visitor
    without a basket)."""
    request = context.get("request")
    if request is None:
        return 0
    return basket_item_count(user=request.user, basket_id=session_basket_id(request))
