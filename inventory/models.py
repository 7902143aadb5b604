"""Stock rules per product and stored demand-forecast runs.

Units on hand stay where the catalogue keeps them (``crm.Product.stock``: the "available product"
rule reads it); this app adds what replenishment needs beside it and the forecasts.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from crm.models.catalogue import LARGEST_QUANTITY


class StockPolicy(models.Model):
    """How a product is bought in, and what is already on its way. The buying rules are optional (the
    settings' defaults fill the gaps); ``on_order`` is 0 when nothing is on order."""

    product = models.OneToOneField("crm.Product", on_delete=models.CASCADE, related_name="stock_policy")
    lead_time_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(3650)], help_text="Days from order to delivery."
    )
    # The same bounds as the API and ``import_stock`` (``inventory.services.stock.LIMITS``), so that a
    # form (the admin's) refuses what they refuse: the reorder advice overflowed with a 64-bit number.
    min_order_qty = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(LARGEST_QUANTITY)],
        help_text="Smallest quantity the supplier accepts.",
    )
    pack_size = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(LARGEST_QUANTITY)],
        help_text="Orders are whole packs of this.",
    )
    on_order = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(LARGEST_QUANTITY)],
        help_text="Units ordered from the supplier and not yet received.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "stock policies"

    def __str__(self) -> str:
        return f"Stock policy of product {self.product_id}"


class ForecastRunQuerySet(models.QuerySet):
    def latest_first(self) -> "ForecastRunQuerySet":
        return self.order_by("-created_at", "-pk")


class ForecastRun(models.Model):
    """One forecast of every product sold in the year before ``as_of``, for ``horizon_days`` days."""

    as_of = models.DateField(db_index=True, help_text="First forecast day; only sales before it are used.")
    horizon_days = models.PositiveIntegerField()
    level = models.PositiveSmallIntegerField(default=80, help_text="Prediction interval, percent.")
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    parameters = models.JSONField(default=dict, blank=True)
    backtest = models.JSONField(
        default=dict, blank=True, help_text="Per demand class: WRMSSE of every candidate and the chosen one."
    )
    model_counts = models.JSONField(default=dict, blank=True)
    product_count = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ForecastRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Forecast as of {self.as_of} ({self.horizon_days} days)"


class ProductForecast(models.Model):
    """A product's daily forecast of one run: lists of ``horizon_days`` values from ``run.as_of``."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="product_forecasts")
    product = models.ForeignKey("crm.Product", on_delete=models.CASCADE, related_name="forecasts")
    model = models.CharField(max_length=32)
    demand_class = models.CharField(max_length=16)
    dispersion = models.FloatField(help_text="Variance over mean of units sold; 1 = Poisson.")
    total = models.FloatField(help_text="Units forecast over the horizon.")
    daily = models.JSONField(default=list)
    lower = models.JSONField(default=list)
    upper = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "product"], name="product_forecast_run_product_unique")
        ]
        indexes = [models.Index(fields=["product", "run"])]

    def __str__(self) -> str:
        return f"Forecast of product {self.product_id} in run {self.run_id}"
