from rest_framework import serializers

from crm.api.serializers import JSONInputSerializer
from inventory.selectors import FREQUENCIES
from inventory.services.stock import LIMITS


def _stock_number(column: str, *, source: str, help_text: str) -> serializers.IntegerField:
    """An optional whole number of the stock file, within the import's limits for that column."""
    low, high = LIMITS[column]
    return serializers.IntegerField(
        source=source, allow_null=True, required=False, min_value=low, max_value=high, help_text=help_text
    )


class StockSerializer(JSONInputSerializer):
    """A product's units on hand and buying rules; empty values use the settings' defaults. A change
    takes each number as a JSON number ("5" is refused, as in every JSON body of the API)."""

    product_id = serializers.CharField(source="external_id", read_only=True)
    name = serializers.CharField(read_only=True)
    on_hand = _stock_number(
        "on_hand",
        source="stock",
        help_text="Units in stock; null when stock is not tracked (never counted as out of stock).",
    )
    lead_time_days = _stock_number(
        "lead_time_days",
        source="stock_policy.lead_time_days",
        help_text="Days from order to delivery; null: INVENTORY_DEFAULT_LEAD_TIME_DAYS.",
    )
    min_order_qty = _stock_number(
        "min_order_qty",
        source="stock_policy.min_order_qty",
        help_text="Smallest order the supplier accepts; null: none.",
    )
    pack_size = _stock_number(
        "pack_size",
        source="stock_policy.pack_size",
        help_text="Orders are whole packs of this many units; null: 1.",
    )
    on_order = _stock_number(
        "on_order",
        source="stock_policy.on_order",
        help_text="Units ordered from the supplier and not yet received (null: 0). The suggested order "
        "subtracts them; the stock-out date does not count them.",
    )

    def to_representation(self, instance) -> dict:
        data = super().to_representation(instance)
        # A product without buying rules has nothing on order.
        if data.get("on_order") is None:
            data["on_order"] = 0
        return data


class ForecastQuerySerializer(serializers.Serializer):
    freq = serializers.ChoiceField(
        choices=sorted(FREQUENCIES),
        default="day",
        help_text="`day`: one point per day of the horizon; `week`: 7-day buckets from the as-of date.",
    )


class ForecastPointSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The day, or the first day of the 7-day bucket.")
    forecast = serializers.FloatField(help_text="Expected units sold.")
    lower = serializers.FloatField(help_text="Lower end of the prediction interval.")
    upper = serializers.FloatField(help_text="Upper end of the prediction interval.")


class ProductForecastSerializer(serializers.Serializer):
    product_id = serializers.CharField()
    run_id = serializers.IntegerField()
    as_of = serializers.DateField(help_text="First forecast day; only sales before it were used.")
    level = serializers.IntegerField(help_text="Prediction interval, percent.")
    freq = serializers.ChoiceField(choices=sorted(FREQUENCIES))
    model = serializers.CharField(help_text="The forecasting model this product got.")
    demand_class = serializers.ChoiceField(choices=["smooth", "erratic", "intermittent", "lumpy"])
    points = ForecastPointSerializer(many=True)


class ReplenishmentSerializer(serializers.Serializer):
    product_id = serializers.CharField()
    name = serializers.CharField()
    on_hand = serializers.IntegerField()
    on_order = serializers.IntegerField(help_text="Units ordered and not yet received.")
    lead_time_days = serializers.IntegerField()
    min_order_qty = serializers.IntegerField()
    pack_size = serializers.IntegerField()
    weekly_demand = serializers.FloatField(help_text="Mean forecast units per week.")
    reorder_point = serializers.IntegerField(
        help_text="Demand over the lead time and one review period + safety stock (the order-up-to "
        "level): order when on hand + on order is below it."
    )
    safety_stock = serializers.IntegerField(
        help_text="For INVENTORY_SERVICE_LEVEL as INVENTORY_SERVICE_MEASURE means it; negative where a "
        "fill-rate target needs less than the mean demand."
    )
    stockout_date = serializers.DateField(
        allow_null=True,
        help_text="When forecast demand uses up the stock on hand; the forecast's as-of date when none is on "
        "hand; null: not within a year.",
    )
    order_quantity = serializers.IntegerField(
        help_text="Suggested order now, in whole packs, after what is on order; 0: none."
    )
    weeks_of_cover = serializers.FloatField(
        allow_null=True, help_text="On hand / weekly demand; null: no demand."
    )


class ReplenishmentQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["all", "reorder", "at_risk", "overstock"],
        default="all",
        help_text="`reorder`: an order is suggested; `at_risk`: runs out before an order could arrive; "
        "`overstock`: more than INVENTORY_OVERSTOCK_WEEKS weeks of demand on hand.",
    )


class ForecastRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    as_of = serializers.DateField()
    horizon_days = serializers.IntegerField()
    level = serializers.IntegerField()
    product_count = serializers.IntegerField()
    model_counts = serializers.DictField(child=serializers.IntegerField(), help_text="Products per model.")
    backtest = serializers.DictField(
        help_text="Per demand class and for all products: WRMSSE of every candidate and baseline on the "
        "weeks before the as-of date, the model chosen, the interval coverage."
    )
    parameters = serializers.DictField()
    seconds = serializers.FloatField()
    created_at = serializers.DateTimeField()
