from django.conf import settings
from django.db import models

# The Customer field holding the current consent of each marketing channel (crm.models.ConsentChannel).
CONSENT_FIELDS = {"email": "email_opt_in", "sms": "sms_opt_in", "push": "push_opt_in", "post": "post_opt_in"}


class CustomerQuerySet(models.QuerySet):
    def consenting(self, channel: str = "email") -> "CustomerQuerySet":
        """Customers who consent, now, to marketing on ``channel`` (email, sms, push, post)."""
        return self.filter(**{CONSENT_FIELDS[channel]: True})

    def identified(self) -> "CustomerQuerySet":
        """Real customers: without the one anonymous record that keeps erased customers' orders."""
        return self.filter(anonymous=False)


class Customer(models.Model):
    """A shopper as the retailer's own systems know them (``external_id``)."""

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    country = models.CharField(max_length=64, blank=True, db_index=True)
    signed_up_at = models.DateTimeField(null=True, blank=True)
    email_opt_in = models.BooleanField(default=False, help_text="Consented to marketing e-mail.")
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    sms_opt_in = models.BooleanField(default=False, db_default=False, help_text="Consented to marketing SMS.")
    push_opt_in = models.BooleanField(
        default=False, db_default=False, help_text="Consented to marketing app pushes."
    )
    post_opt_in = models.BooleanField(
        default=False, db_default=False, help_text="Consented to marketing by post."
    )
    # db_default: bulk loaders that name their columns (COPY) leave these to the database.
    anonymous = models.BooleanField(
        default=False,
        db_default=False,
        editable=False,
        help_text="The single record that keeps the orders of erased customers for the books.",
    )
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
        constraints = [
            models.UniqueConstraint(
                fields=["anonymous"], condition=models.Q(anonymous=True), name="one_anonymous_customer"
            )
        ]

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
