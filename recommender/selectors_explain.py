"""Staff-only reads of why each served recommendation scored as it did.

Apart from ``recommender.selectors``: the explanations are read in a query of their own, after the
served rows, and only where staff ask (the customer 360 page, ``?explain=true`` on the staff API), so
the rows every face reads stay as small and fast as they are.
"""

from crm.models import Customer
from recommender.ml.explain import GROUP_LABELS
from recommender.models import Recommendation


def explanation_expanded(stored: dict | None) -> dict | None:
    """A stored explanation as pages and the API show it: the groups' contributions with their labels,
    largest first, and their ``total``; ``base + total + residual = output`` (the stored score)."""
    if not stored:
        return None
    contributions = sorted(
        (
            {"key": key, "label": GROUP_LABELS.get(key, key.replace("_", " ").capitalize()), "value": value}
            for key, value in stored.get("groups", {}).items()
        ),
        key=lambda contribution: (-abs(contribution["value"]), contribution["key"]),
    )
    return {
        "base": stored["base"],
        "output": stored["output"],
        "residual": stored.get("residual", 0.0),
        "total": sum(contribution["value"] for contribution in contributions),
        "contributions": contributions,
        "co_purchase_products": stored.get("co_purchase_products", []),
    }


def recommendation_explanations(*, customer: Customer, rows: list[dict]) -> list[dict | None]:
    """The explanations of a customer's served ``rows`` (as ``recommendation_rows_for_customer`` gives
    them), in the rows' order, in one query; None for a row with none (a cold-start list, a version
    scored without explanations)."""
    versions = {row["model_version_id"] for row in rows if row.get("model_version_id") is not None}
    if not rows or not versions:
        return [None] * len(rows)
    stored = {
        (version_id, product_id): explanation
        for version_id, product_id, explanation in Recommendation.objects.filter(
            customer=customer,
            model_version_id__in=versions,
            product_id__in=[row["product_id"] for row in rows],
            explanation__isnull=False,
        ).values_list("model_version_id", "product_id", "explanation")
    }
    return [
        explanation_expanded(stored.get((row.get("model_version_id"), row["product_id"]))) for row in rows
    ]
