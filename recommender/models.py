from django.db import models
from django.db.models import Q


class ModelVersionQuerySet(models.QuerySet):
    def active(self) -> "ModelVersionQuerySet":
        return self.filter(status=ModelVersion.Status.ACTIVE)

    def in_progress(self) -> "ModelVersionQuerySet":
        """Versions on their way through the pipeline: queued, training or scoring."""
        return self.filter(
            status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING, ModelVersion.Status.SCORING]
        )


class ModelVersion(models.Model):
    """One trained recommender: its data window, parameters, metrics and artifact.

    At most one version is ``active`` (served). A version that never beat the baselines stays
    ``ready`` (or ``rejected``) and can still be activated by hand.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        SCORING = "scoring", "Scoring"
        REJECTED = "rejected", "Rejected by quality gate"
        FAILED = "failed", "Failed"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    # The keys of ``params`` under which a scoring keeps what it fixes as it starts, so that every chunk
    # follows the same: the products left out as at risk of running out before a delivery, and the
    # settings it cuts and orders the lists by (``recommender.services.scoring.list_settings``).
    STOCK_RISK_PARAM = "stock_risk_product_ids"
    SERVED_LISTS_PARAM = "served_lists"
    # The weight of never-bought products its training chose for its lists (``ml.train_recommender``),
    # which they are ordered by when RECOMMENDER_NEW_ITEM_WEIGHT is "auto".
    NEW_ITEM_WEIGHT_PARAM = "new_item_weight_chosen"
    # How it was chosen: each weight's measurements, Popular's bars and the one it reached
    # (``ml.evaluate``'s held-out choice).
    NEW_ITEM_WEIGHT_CHOICE_PARAM = "new_item_weight_choice"
    # The weight staff chose from the Models room instead, ``{"weight", "by", "at"}``
    # (``recommender.services.discovery.new_item_weight_version_create``): kept by the version's rescorings,
    # not by a new training, which measures and chooses its own.
    NEW_ITEM_WEIGHT_SET_PARAM = "new_item_weight_set"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    data_start = models.DateTimeField(null=True, blank=True)
    data_end = models.DateTimeField(null=True, blank=True)
    validation_cutoff = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Customers, products, order lines used.")
    metrics = models.JSONField(
        default=dict, blank=True, help_text="MLP and baselines on the held-out period."
    )
    artifact_path = models.CharField(max_length=500, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="one_active_model_version"
            ),
        ]

    def __str__(self) -> str:
        return f"Model v{self.pk} ({self.status})"

    @property
    def ndcg(self) -> float | None:
        return (self.metrics or {}).get("mlp", {}).get("ndcg@10")

    @property
    def served_lists(self) -> dict | None:
        """The settings the version's stored lists were cut and ordered by; None for a version scored
        before they were kept."""
        return (self.params or {}).get(self.SERVED_LISTS_PARAM) or None

    @property
    def chosen_new_item_weight(self) -> float | None:
        """The weight of never-bought products its training chose; None for a version trained before
        versions chose one."""
        return (self.params or {}).get(self.NEW_ITEM_WEIGHT_PARAM)

    @property
    def new_item_weight_choice(self) -> dict:
        """How its training chose that weight (each weight's measurements, Popular's bars and the one
        its lists reached); empty for a version trained before versions recorded it."""
        return (self.params or {}).get(self.NEW_ITEM_WEIGHT_CHOICE_PARAM) or {}

    @property
    def new_item_weight_set(self) -> dict:
        """The weight staff set for its lists, by whom and when; empty when none was set."""
        return (self.params or {}).get(self.NEW_ITEM_WEIGHT_SET_PARAM) or {}

    @property
    def own_new_item_weight(self) -> float | None:
        """The weight its lists are ordered by when RECOMMENDER_NEW_ITEM_WEIGHT is "auto": the one staff
        set, else the one its training chose; None for a version with neither."""
        return self.new_item_weight_set.get("weight", self.chosen_new_item_weight)


class Recommendation(models.Model):
    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="recommendations")
    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="recommendations")
    product = models.ForeignKey("crm.Product", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    reason = models.CharField(max_length=255)
    # Staff only: which inputs drove the score (``recommender.ml.explain``), written with the row and
    # read apart from it (``recommender.selectors_explain``): {"base", "output", "residual", "groups":
    # {group key: contribution}, "co_purchase_products": [{"external_id", "name"}]}. Null where the
    # network did not score the row (cold start) or explanations are off.
    explanation = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["model_version", "customer", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "customer", "rank"], name="recommendation_rank_unique"
            ),
        ]


class ProductNeighbour(models.Model):
    """ "Bought together": products often in the same orders, from a model version's data."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="neighbours")
    product = models.ForeignKey("crm.Product", on_delete=models.CASCADE, related_name="+")
    neighbour = models.ForeignKey("crm.Product", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()

    class Meta:
        ordering = ["model_version", "product", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "product", "rank"], name="product_neighbour_rank_unique"
            ),
        ]


class PopularProduct(models.Model):
    """Cold-start lists of a version: popular overall (country blank) and per country."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="popular")
    country = models.CharField(max_length=64, blank=True)
    product = models.ForeignKey("crm.Product", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()

    class Meta:
        ordering = ["model_version", "country", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "country", "rank"], name="popular_product_rank_unique"
            ),
        ]
