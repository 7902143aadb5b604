from django.conf import settings
from django.db import models


class CustomerQuerySet(models.QuerySet):
    def consenting(self) -> "CustomerQuerySet":
        return self.filter(email_opt_in=True)


class Customer(models.Model):
    """A shopper as the retailer's own systems know them (``external_id``)."""

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    country = models.CharField(max_length=64, blank=True, db_index=True)
    signed_up_at = models.DateTimeField(null=True, blank=True)
    email_opt_in = models.BooleanField(default=False, help_text="Consented to marketing e-mail.")
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer",
        help_text="The shop login of this customer, if they have one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["external_id"]
        indexes = [models.Index(fields=["email_opt_in", "country"])]

    def __str__(self) -> str:
        return self.name or f"Customer {self.external_id}"


class CustomerNote(models.Model):
    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        CALL = "call", "Call"
        EMAIL = "email", "E-mail"
        MEETING = "meeting", "Meeting"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NOTE)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.customer}"
