"""Which products promotion targeting leaves out because they would not be there to sell.

``crm`` knows nothing of demand forecasts (apps depend one way: ``inventory`` uses ``crm``). An app that
forecasts stock registers a provider here when Django starts (the inventory app does, in its
``AppConfig.ready``): it answers the ids of products forecast to run out before they could be restocked.
Without one, nothing is left out beyond what the promotion itself says.
"""

from collections.abc import Callable

ShortProducts = Callable[[], set[int]]

_provider: ShortProducts | None = None


def short_product_provider_register(provider: ShortProducts) -> None:
    global _provider
    _provider = provider


def short_product_ids() -> set[int]:
    return _provider() if _provider is not None else set()
