from rest_framework import serializers

from crm.api.serializers import ProductBriefSerializer
from recommender.models import ModelVersion


class RecommendationSerializer(serializers.Serializer):
    product = ProductBriefSerializer()
    rank = serializers.IntegerField()
    score = serializers.FloatField()
    reason = serializers.CharField(help_text="Why this product, in words a person can read.")
    model_version_id = serializers.IntegerField()


class RecommendationListSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    model_version_id = serializers.IntegerField(
        allow_null=True, help_text="The served version; null when no version is active."
    )
    results = RecommendationSerializer(many=True)


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
