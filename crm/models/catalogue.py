from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Category(models.Model):
    """A node of the category tree; ``path`` is the full ``a/b/c`` name and is unique."""

    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    path = models.CharField(max_length=255, unique=True)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.path


# The largest number of units a stock figure or buying rule holds: a 32-bit column's, on every
# database (SQLite would take any 64-bit number).
LARGEST_QUANTITY = 2**31 - 1

# The largest id of a row (a 64-bit primary key): forms and serializers that take one refuse a larger
# number, which the database would refuse (SQLite with an error, not a "no such row").
LARGEST_ID = 2**63 - 1


def available_product_q(prefix: str = "") -> Q:
    """Products that may be shown or recommended: active, with a price, and not known to be out of stock.

    ``prefix`` reaches the product through a relation, e.g. ``"product__"`` from a recommendation.
    """
    return (
        Q(**{f"{prefix}active": True})
        & Q(**{f"{prefix}price__gt": 0})
        & (Q(**{f"{prefix}stock__isnull": True}) | Q(**{f"{prefix}stock__gt": 0}))
    )


def category_subtree_q(path: str, prefix: str = "") -> Q:
    """A category and every category below it in the tree, by its ``a/b/c`` path.

    ``prefix`` reaches the category through a relation, e.g. ``"category__"`` from a product.
    """
    return Q(**{f"{prefix}path": path}) | Q(**{f"{prefix}path__startswith": f"{path}/"})


class ProductQuerySet(models.QuerySet):
    def available(self) -> "ProductQuerySet":
        return self.filter(available_product_q())

    def in_category(self, path: str) -> "ProductQuerySet":
        """Products of a category and of its sub-categories."""
        return self.filter(category_subtree_q(path, prefix="category__"))


class Product(models.Model):
    external_id = models.CharField(max_length=64, unique=True, help_text="SKU in the retailer's systems.")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    active = models.BooleanField(default=True)
    stock = models.IntegerField(
        null=True,
        blank=True,
        # the API's and import_stock's bounds (``inventory.services.stock.LIMITS``), for a form too
        validators=[MinValueValidator(0), MaxValueValidator(LARGEST_QUANTITY)],
        help_text="Units in stock; empty when not tracked.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["external_id"]
        indexes = [models.Index(fields=["category", "active"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0

    @property
    def priced(self) -> bool:
        """Whether the product has a price to sell at (an import stores 0.00 where it found none)."""
        return self.price > 0
