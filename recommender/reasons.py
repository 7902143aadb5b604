"""Reasons as stored with a recommendation: the ``ml`` package refers to products and categories
by id (``{product:123}``, ``{category:7}``); the stored text names them, so pages never look up names."""

from collections.abc import Iterable

from crm.models import Category, Product
from recommender.ml.reasons import PLACEHOLDER, render_reason


class ReasonRenderer:
    """Renders reasons, fetching each product and category name once."""

    def __init__(self) -> None:
        self.product_names: dict[int, str] = {}
        self.category_names: dict[int, str] = {}

    def prefetch(self, reasons: Iterable[str]) -> None:
        wanted: dict[str, set[int]] = {"product": set(), "category": set()}
        for reason in reasons:
            for kind, identifier in PLACEHOLDER.findall(reason or ""):
                wanted[kind].add(int(identifier))
        missing_products = wanted["product"] - self.product_names.keys()
        if missing_products:
            self.product_names.update(
                Product.objects.filter(pk__in=missing_products).values_list("id", "name")
            )
        missing_categories = wanted["category"] - self.category_names.keys()
        if missing_categories:
            self.category_names.update(
                Category.objects.filter(pk__in=missing_categories).values_list("id", "name")
            )

    def render(self, reason: str) -> str:
        return render_reason(
            reason or "", product_names=self.product_names, category_names=self.category_names
        )
