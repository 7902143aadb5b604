from django.contrib import admin

from inventory.models import ForecastRun, ProductForecast, StockPolicy


@admin.register(StockPolicy)
class StockPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "product",
        "on_hand",
        "on_order",
        "lead_time_days",
        "min_order_qty",
        "pack_size",
        "updated_at",
    ]
    list_select_related = ["product"]
    search_fields = ["product__external_id", "product__name"]
    raw_id_fields = ["product"]

    @admin.display(description="on hand", ordering="product__stock")
    def on_hand(self, policy: StockPolicy) -> int | None:
        return policy.product.stock


@admin.register(ForecastRun)
class ForecastRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "as_of", "horizon_days", "level", "product_count", "seconds", "created_at"]
    readonly_fields = ["job", "parameters", "backtest", "model_counts", "product_count", "seconds"]
    date_hierarchy = "created_at"


@admin.register(ProductForecast)
class ProductForecastAdmin(admin.ModelAdmin):
    list_display = ["product", "run", "model", "demand_class", "total"]
    list_filter = ["model", "demand_class"]
    list_select_related = ["product", "run"]
    search_fields = ["product__external_id", "product__name"]
    raw_id_fields = ["product", "run"]
