"""Data protection records: consent history per channel, erasures, and the audit trail of access to
personal data."""

from django.conf import settings
from django.db import models


class ConsentChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PUSH = "push", "App push"
    POST = "post", "Post"


class ConsentEvent(models.Model):
    """One change of a customer's marketing consent on one channel: the history behind the
    ``<channel>_opt_in`` flags on Customer (which hold the current state, for fast targeting)."""

    class Source(models.TextChoices):
        SHOP = "shop", "Shop (the customer)"
        STAFF = "staff", "Staff"
        API = "api", "API"
        IMPORT = "import", "Import file"
        MIGRATION = "migration", "Recorded before consent history"

    class LawfulBasis(models.TextChoices):
        CONSENT = "consent", "Consent"
        LEGITIMATE_INTERESTS = "legitimate_interests", "Legitimate interests"
        CONTRACT = "contract", "Contract"

    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="consent_events")
    channel = models.CharField(max_length=8, choices=ConsentChannel.choices)
    granted = models.BooleanField(help_text="True: consent given; False: withdrawn.")
    at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    lawful_basis = models.CharField(max_length=24, choices=LawfulBasis.choices, default=LawfulBasis.CONSENT)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["customer", "channel", "-at", "-pk"]
        indexes = [models.Index(fields=["customer", "channel", "at"])]

    def __str__(self) -> str:
        state = "granted" if self.granted else "withdrawn"
        return f"{self.get_channel_display()} consent {state} at {self.at:%Y-%m-%d %H:%M}"


class ErasureRecord(models.Model):
    """That a customer was erased, by whom and when. It names the customer only by the keyed hash of
    their retailer id (``crm.privacy.pseudonymize``), so it proves the erasure without keeping them."""

    subject_hash = models.CharField(max_length=64, unique=True)
    erased_at = models.DateTimeField(db_index=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_by_name = models.CharField(max_length=150, blank=True, help_text="Who, as named at the time.")
    counts = models.JSONField(default=dict, blank=True, help_text="What was deleted, kept and rewritten.")

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure {self.subject_hash[:12]} at {self.erased_at:%Y-%m-%d %H:%M}"

    def counts_summary(self) -> str:
        """What the erasure kept, deleted and rewrote, as the portal and ``erase_customer`` report it:
        "1 order kept anonymously, 3 events and 12 recommendations deleted, 1 model artifact rewritten"."""
        counts = self.counts or {}

        def counted(key: str, noun: str) -> str:
            number = int(counts.get(key, 0))
            return f"{number:,} {noun}{'' if number == 1 else 's'}"

        return (
            f"{counted('orders_kept', 'order')} kept anonymously, "
            f"{counted('behaviour_events', 'event')} and "
            f"{counted('recommender_recommendations', 'recommendation')} deleted, "
            f"{counted('recommender_artifacts_rewritten', 'model artifact')} rewritten"
        )


class AuditEvent(models.Model):
    """Who did what with personal data. Customers are named by their keyed hash, never in clear."""

    class Action(models.TextChoices):
        CUSTOMER_VIEWED = "customer_viewed", "Opened a customer's 360 page"
        DATA_EXPORT_OPENED = "data_export_opened", "Opened a customer's data export"
        PERSONAL_DATA_EXPORTED = "personal_data_exported", "Exported personal data"
        CUSTOMER_ERASED = "customer_erased", "Erased a customer"
        CONSENT_CHANGED = "consent_changed", "Changed a customer's consent"
        MODEL_VERSION_ACTIVATED = "model_version_activated", "Activated a model version"
        API_TOKEN_REVOKED = "api_token_revoked", "Revoked another login's API tokens"
        NEW_ITEM_WEIGHT_SET = "new_item_weight_set", "Set the weight of never-bought products"

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="Login or process, as at the time.")
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    subject = models.CharField(
        max_length=200, blank=True, db_index=True, help_text="What it concerned: a customer's hash, a file."
    )
    via = models.CharField(max_length=16, blank=True, help_text="api, command, shop, portal, worker.")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["action", "at"])]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.subject} at {self.at:%Y-%m-%d %H:%M}"
