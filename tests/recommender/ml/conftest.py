import pytest

from recommender.ml import TrainConfig, train_recommender
from tests.recommender.ml.shop import make_shop

FAST = dict(
    epochs=6,
    patience=2,
    training_windows=2,
    period_days=30,
    als_iterations=5,
    als_factors=16,
    own_history=40,
    co_purchase=20,
    country_popular=10,
    popular=15,
    batch_size=512,
    learning_rate=1e-3,  # the rate for steps of 512 pairs (the default 3e-3 goes with 8,192)
)


@pytest.fixture(scope="session")
def shop():
    return make_shop(seed=0)


@pytest.fixture(scope="session")
def fast_config():
    return TrainConfig(**FAST)


@pytest.fixture(scope="session")
def trained(shop, fast_config):
    return train_recommender(**shop, config=fast_config)
