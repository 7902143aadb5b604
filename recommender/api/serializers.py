from rest_framework import serializers

from crm.api.serializers import JSONInputSerializer, ProductBriefSerializer
from recommender.models import ModelVersion


class RecommendationSerializer(serializers.Serializer):
    product = ProductBriefSerializer()
    rank = serializers.IntegerField(help_text="The order to show the list in, 1 first.")
    score = serializers.FloatField(
        help_text="The model's score of a purchase (0-1; blended with the neighbours of recent activity "
        "when that re-ranks the list). The rank also weighs up products the customer never bought "
        "(RECOMMENDER_NEW_ITEM_WEIGHT), so follow the rank, not the score."
    )
    reason = serializers.CharField(help_text="Why this product, in words a person can read.")
    model_version_id = serializers.IntegerField(
        allow_null=True,
        help_text="The version that scored it; null for the bestsellers shown before one is served.",
    )


class RecommendationListSerializer(serializers.Serializer):
    customer_id = serializers.CharField(allow_null=True, help_text="Null for a list that is no customer's.")
    model_version_id = serializers.IntegerField(
        allow_null=True, help_text="The served version; null when no version is active."
    )
    results = RecommendationSerializer(many=True)


# A cart from another system may name at most this many products.
MAX_CART_PRODUCTS = 50


class ProductIdListField(serializers.ListField):
    """A list of the retailer's product ids; a wrong item is named by its position in one message, so
    the error keeps the documented shape (a field, a list of messages)."""

    child = serializers.CharField(max_length=64, allow_blank=False)

    def to_internal_value(self, data):
        if isinstance(data, list):
            wrong = [
                str(position)
                for position, item in enumerate(data)
                if not isinstance(item, str) or not item or len(item) > 64
            ]
            if wrong:
                raise serializers.ValidationError(
                    "Each product id is a non-empty string of at most 64 characters; "
                    f"items {', '.join(wrong)} are not."
                )
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as invalid:
            if not isinstance(invalid.detail, dict):
                raise
            raise serializers.ValidationError(
                [
                    f"Item {position}: {message}"
                    for position, messages in invalid.detail.items()
                    for message in messages
                ]
            ) from invalid


class ItemsRecommendationInputSerializer(JSONInputSerializer):
    """A cart of another system: what goes with these products."""

    product_ids = ProductIdListField(
        min_length=1,
        max_length=MAX_CART_PRODUCTS,
        help_text="The retailer's ids of the products in the cart, the last added last. Ids the shop does "
        "not know are left out and listed in the answer's unknown_product_ids.",
    )
    customer_id = serializers.CharField(
        max_length=64,
        required=False,
        help_text="Blend with this customer's stored list (staff: any customer; a shopper: their own id). "
        "Without it the popular list is blended.",
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=100, required=False, help_text="How many to return."
    )


class ExplanationContributionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The group of inputs, e.g. repeat_buying, co_purchase, country.")
    label = serializers.CharField(help_text="The group in words.")
    value = serializers.FloatField(help_text="How much these inputs moved the score (negative: down).")


class CoPurchasedProductSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    """Integrated gradients of the ranking network over its inputs, summed per group of inputs:
    ``base + total + residual = output``. ``output`` is the network's score of the pair when the version
    was scored: the row's ``score``, unless the customer's activity of the last minutes re-ranked the
    list (then ``score`` is the blend with that activity, and the explanation still explains the
    network's part)."""

    base = serializers.FloatField(help_text="The network's output for an average pair (the baseline).")
    output = serializers.FloatField(
        help_text="The network's output for this pair when the version was scored: the row's score unless "
        "recent activity re-ranked the list."
    )
    total = serializers.FloatField(help_text="The sum of the contributions.")
    residual = serializers.FloatField(help_text="What rounding leaves: output - base - total.")
    contributions = ExplanationContributionSerializer(many=True, help_text="Largest (absolute) first.")
    co_purchase_products = CoPurchasedProductSerializer(
        many=True,
        help_text="Products this customer bought that are bought most with this one, strongest first.",
    )


class ExplainedRecommendationSerializer(RecommendationSerializer):
    explanation = ExplanationSerializer(
        required=False,
        allow_null=True,
        help_text="Only with explain=true, for staff: which inputs drove the score. Null for a row the "
        "network did not score (a popular list for a customer the version never saw, or a product the "
        "customer's recent activity brought into the list).",
    )


class ExplainedRecommendationListSerializer(RecommendationListSerializer):
    results = ExplainedRecommendationSerializer(many=True)


class ItemsRecommendationListSerializer(RecommendationListSerializer):
    unknown_product_ids = serializers.ListField(
        child=serializers.CharField(), help_text="Ids of the cart that the shop does not know (left out)."
    )


class SimilarProductSerializer(serializers.Serializer):
    product = ProductBriefSerializer(source="neighbour")
    rank = serializers.IntegerField()
    score = serializers.FloatField()


class SimilarProductListSerializer(serializers.Serializer):
    product_id = serializers.CharField()
    results = SimilarProductSerializer(many=True)


class ModelVersionSerializer(serializers.ModelSerializer):
    ndcg = serializers.FloatField(read_only=True, allow_null=True, help_text="The MLP's NDCG@10.")

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "status",
            "ndcg",
            "params",
            "data_start",
            "data_end",
            "validation_cutoff",
            "counts",
            "metrics",
            "artifact_path",
            "timings",
            "error",
            "job_id",
            "created_at",
            "trained_at",
            "scored_at",
            "activated_at",
        ]
        extra_kwargs = {
            "params": {
                "help_text": (
                    "The training settings (the fields of recommender.ml.config.TrainConfig) and what "
                    "training chose (epochs_chosen, early_stopping_epoch, period_days_used, "
                    "served_window_cutoffs, features, and new_item_weight_chosen: the weight of "
                    "never-bought products its lists are ordered by when RECOMMENDER_NEW_ITEM_WEIGHT is "
                    "'auto', the lowest whose lists beat Popular's served list and Popular's never-bought "
                    "ranking on never-bought purchases in the held-out period, or the served list alone "
                    "where no weight beats both, with new_item_weight_choice: each weight's NDCG@10 on "
                    "all and on never-bought purchases there, Popular's two, the margin, the bars and "
                    "the bar reached); new_item_weight_set (weight, by, at) where staff chose another of "
                    "those weights in the portal, which its lists follow instead, with rescore_of naming "
                    "the version it was scored again from; "
                    "then what the last scoring fixed as it began: stock_risk_product_ids (products left "
                    "out, forecast to run out before a delivery) and served_lists, the settings its "
                    "stored lists were cut and ordered by (top_n, allow_bought, max_per_category, "
                    "min_new_items, new_item_weight, explanations)."
                )
            }
        }
