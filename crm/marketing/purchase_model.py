"""Where promotion targeting gets its purchase probabilities.

``crm`` knows nothing of the recommender (apps depend one way: ``recommender`` uses ``crm``). An app that
can estimate P(customer buys product) registers a provider here when Django starts (the recommender does
in its ``AppConfig.ready``); without one, or when it has nothing served yet, targeting falls back to
category purchase rates.
"""

from collections.abc import Callable

import numpy as np

# (customer_ids, product_ids) -> (customers x products matrix, id of what produced it). Raises LookupError
# when it cannot answer (e.g. no model served yet).
PurchaseProbabilities = Callable[..., tuple[np.ndarray, int | None]]

_provider: PurchaseProbabilities | None = None


def purchase_probability_provider_register(provider: PurchaseProbabilities) -> None:
    global _provider
    _provider = provider


def purchase_probabilities(
    *, customer_ids: list[int], product_ids: list[int]
) -> tuple[np.ndarray, int | None]:
    if _provider is None:
        raise LookupError("No purchase-probability provider is installed.")
    return _provider(customer_ids=customer_ids, product_ids=product_ids)
