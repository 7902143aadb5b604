from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from crm.models.privacy import ConsentChannel


class SegmentRunQuerySet(models.QuerySet):
    def newest_first(self) -> "SegmentRunQuerySet":
        """The latest run first: the latest as-of date, then the latest computed (the pk breaks ties)."""
        return self.order_by("-as_of", "-created_at", "-pk")


def consent_channel_for(promotion_channel: str) -> str:
    """The consent (crm.models.ConsentChannel) a customer needs to be sent a promotion on this channel."""
    return {"direct_mail": "post"}.get(promotion_channel, promotion_channel)


class SegmentRun(models.Model):
    """One computation of RFM and lifetime-value segments for every customer, as of a date."""

    as_of = models.DateField(db_index=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    parameters = models.JSONField(
        default=dict, blank=True, help_text="Fitted BG/NBD and Gamma-Gamma parameters."
    )
    group_counts = models.JSONField(default=dict, blank=True)
    customer_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SegmentRunQuerySet.as_manager()

    class Meta:
        ordering = ["-as_of", "-created_at"]

    def __str__(self) -> str:
        return f"Segments as of {self.as_of}"


class CustomerSegment(models.Model):
    class RfmGroup(models.TextChoices):
        CHAMPIONS = "champions", "Champions"
        LOYAL = "loyal", "Loyal"
        POTENTIAL_LOYALISTS = "potential_loyalists", "Potential loyalists"
        NEW = "new", "New"
        PROMISING = "promising", "Promising"
        NEED_ATTENTION = "need_attention", "Need attention"
        ABOUT_TO_SLEEP = "about_to_sleep", "About to sleep"
        AT_RISK = "at_risk", "At risk"
        CANT_LOSE = "cant_lose", "Can't lose them"
        HIBERNATING = "hibernating", "Hibernating"
        LOST = "lost", "Lost"

    run = models.ForeignKey(SegmentRun, on_delete=models.CASCADE, related_name="segments")
    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="segments")
    recency_days = models.IntegerField()
    frequency = models.IntegerField(help_text="Distinct purchase days.")
    monetary = models.FloatField(help_text="Net spend.")
    r_score = models.PositiveSmallIntegerField()
    f_score = models.PositiveSmallIntegerField()
    m_score = models.PositiveSmallIntegerField()
    rfm_group = models.CharField(max_length=32, choices=RfmGroup.choices)
    expected_purchases_90d = models.FloatField(default=0)
    expected_purchases_365d = models.FloatField(default=0)
    p_alive = models.FloatField(default=1)
    expected_order_value = models.FloatField(default=0)
    predicted_clv_12m = models.FloatField(default=0)
    high_value = models.BooleanField(default=False)
    churn_risk = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="segment_run_customer_unique")
        ]
        indexes = [
            models.Index(fields=["run", "rfm_group"]),
            models.Index(fields=["run", "high_value"]),
            models.Index(fields=["customer", "run"]),
        ]


class Promotion(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"
        PUSH = "push", "App push"
        DIRECT_MAIL = "direct_mail", "Direct mail"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        COMPUTING = "computing", "Computing targets"
        READY = "ready", "Targets ready"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200)
    # Notes for the team, not the offer's copy: a few paragraphs at most (forms and the admin check it;
    # a text column takes any length).
    description = models.TextField(blank=True, max_length=2000)
    products = models.ManyToManyField("crm.Product", blank=True, related_name="promotions")
    category = models.ForeignKey(
        "crm.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="promotions"
    )
    discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    audience_size = models.PositiveIntegerField()
    control_share = models.FloatField(
        default=0.1, validators=[MinValueValidator(0.0), MaxValueValidator(0.5)]
    )
    exclude_bought_within_days = models.PositiveIntegerField(default=30)
    exclude_contacted_within_days = models.PositiveIntegerField(default=14)
    seed = models.PositiveIntegerField(default=0, help_text="Makes the control group reproducible.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    targets_computed_at = models.DateTimeField(null=True, blank=True)
    model_version_id = models.PositiveIntegerField(null=True, blank=True)
    results = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="promotion_window_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(control_share__gte=0) & models.Q(control_share__lte=0.5),
                name="promotion_control_share_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def consent_channel(self) -> str:
        return consent_channel_for(self.channel)

    @property
    def consent_channel_label(self) -> str:
        """The consent its channel needs, as pages name it ("Post" for direct mail)."""
        return ConsentChannel(self.consent_channel).label


class PromotionTarget(models.Model):
    class Group(models.TextChoices):
        TARGET = "target", "Target"
        CONTROL = "control", "Control"

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="targets")
    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="promotion_targets")
    rank = models.PositiveIntegerField()
    score = models.FloatField(help_text="Purchase probability for the promoted products.")
    expected_value = models.FloatField(help_text="Probability times expected margin.")
    group = models.CharField(max_length=8, choices=Group.choices)

    class Meta:
        ordering = ["promotion", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["promotion", "customer"], name="promotion_target_unique"),
        ]
        indexes = [models.Index(fields=["customer", "group"]), models.Index(fields=["promotion", "group"])]
