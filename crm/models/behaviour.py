import datetime as dt

from django.db import models

# How far ahead of this server's clock an event's time may be, as a sender's clock may be off: the ingest
# refuses later ones, and real-time recommendations, which read the latest events, leave them out.
EVENT_CLOCK_SKEW = dt.timedelta(minutes=5)


class BehaviourEvent(models.Model):
    """Something a shopper did: viewed, carted, wished for, searched, clicked a recommendation, took
    something out of the basket, looked at the basket, bought."""

    class Kind(models.TextChoices):
        VIEW = "view", "Product view"
        ADD_TO_CART = "add_to_cart", "Add to cart"
        WISHLIST = "wishlist", "Wishlist"
        SEARCH = "search", "Search"
        RECOMMENDATION_IMPRESSION = "recommendation_impression", "Recommendation shown"
        RECOMMENDATION_CLICK = "recommendation_click", "Recommendation click"
        REMOVE_FROM_CART = "remove_from_cart", "Remove from cart"
        BASKET_VIEW = "basket_view", "Basket view"
        PURCHASE = "purchase", "Purchase"

    customer = models.ForeignKey(
        "crm.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    session_key = models.CharField(max_length=64, blank=True, help_text="Anonymous session, if no customer.")
    product = models.ForeignKey(
        "crm.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    query = models.CharField(max_length=200, blank=True, help_text="Search text, for searches.")
    model_version_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="Recommender version that produced a shown or clicked item."
    )
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["customer", "at"]),
            models.Index(fields=["kind", "model_version_id"]),
            models.Index(fields=["product", "kind"]),
            # An anonymous visitor's events are found by their session's key when they sign in.
            models.Index(
                fields=["session_key"], name="behaviour_session_key", condition=~models.Q(session_key="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.product_id} at {self.at:%Y-%m-%d %H:%M}"
