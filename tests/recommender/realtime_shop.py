"""A served version for the real-time tests: a stored list of candles, and a garden chair whose
"bought together" neighbours are not in it."""

from django.utils import timezone

from recommender.models import ModelVersion, PopularProduct, ProductNeighbour, Recommendation
from tests.factories import CustomerFactory, ProductFactory, UserFactory


def served_shop(customer=None) -> dict:
    """The customer's stored list of four candles, a popular list (a candle, the parasol), and a garden
    chair whose "bought together" neighbours are a parasol and a cushion that the stored list lacks."""
    customer = customer or CustomerFactory(external_id="C1", user=UserFactory(username="c1"))
    candles = ProductFactory.create_batch(4, name="Candle")
    chair = ProductFactory(name="Garden chair", external_id="CHAIR")
    parasol = ProductFactory(name="Parasol")
    cushion = ProductFactory(name="Cushion")
    version = ModelVersion.objects.create(status=ModelVersion.Status.ACTIVE, scored_at=timezone.now())
    for rank, product in enumerate(candles, start=1):
        Recommendation.objects.create(
            model_version=version,
            customer=customer,
            product=product,
            rank=rank,
            score=0.5 - rank / 100,
            reason="You buy this regularly",
        )
    for rank, product in enumerate([candles[0], parasol], start=1):
        PopularProduct.objects.create(model_version=version, product=product, rank=rank, score=1.0 / rank)
    for rank, (neighbour, score) in enumerate([(parasol, 0.9), (cushion, 0.7)], start=1):
        ProductNeighbour.objects.create(
            model_version=version, product=chair, neighbour=neighbour, rank=rank, score=score
        )
    return {"customer": customer, "candles": candles, "chair": chair, "parasol": parasol, "cushion": cushion}
