"""What the shop reads: categories, the catalogue, product pages and a shopper's orders."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Concat

from crm.models import Category, Customer, Order, OrderLine, Product


def category_list() -> list[Category]:
    """The categories the shop lists: those holding, themselves or below them, a product it shows (one
    query). An import may name categories that no product the shop sells ends up in."""
    shown_in = Product.objects.available().filter(
        Q(category__path=OuterRef("path"))
        | Q(category__path__startswith=Concat(OuterRef("path"), Value("/")))
    )
    return list(Category.objects.filter(Exists(shown_in)).order_by("path"))


def category_get(*, path: str) -> Category | None:
    """Any category by its ``a/b/c`` path, listed or not (one emptied since a shopper's link still opens)."""
    return Category.objects.filter(path=path).first()


def product_list_for_shop(*, category: Category | None = None, search: str = "") -> QuerySet[Product]:
    """Products a shopper may see, in a category (and its sub-categories) and matching a search."""
    products = Product.objects.available().select_related("category")
    if category is not None:
        products = products.in_category(category.path)
    term = search.strip()
    if term:
        products = products.filter(
            Q(name__icontains=term) | Q(external_id__iexact=term) | Q(description__icontains=term)
        )
    return products.order_by("name", "pk")


def product_get_for_shop(*, product_id: int | None = None, external_id: str | None = None) -> Product | None:
    """A product the shop sells (active), by its database id or by the retailer's id."""
    products = Product.objects.filter(active=True).select_related("category")
    if product_id is not None:
        return products.filter(pk=product_id).first()
    if external_id is not None:
        return products.filter(external_id=external_id).first()
    return None


def shopper_order_list(*, customer: Customer) -> QuerySet[Order]:
    """A shopper's own orders, newest first (then the latest id), with lines and products: a page of
    them costs three queries."""
    return (
        Order.objects.filter(customer=customer)
        .order_by("-placed_at", "-pk")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("line_number"))
        )
    )
