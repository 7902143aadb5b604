import numpy as np
import pytest

from recommender.ml import baselines
from recommender.ml.evaluate import prepare_frames
from recommender.ml.features import build_history
from tests.recommender.ml.shop import make_shop


@pytest.fixture(scope="module")
def history():
    # a shop with more products than a customer buys
    shop = make_shop(seed=0, customers=300, products=200)
    lines, products, customers, events = prepare_frames(
        shop["order_lines"], shop["products"], shop["customers"], None
    )
    return build_history(
        order_lines=lines,
        products=products,
        customers=customers,
        events=events,
        cutoff=np.datetime64(lines["ordered_at"].max(), "ns"),
        neighbours=20,
    )


@pytest.mark.parametrize(
    "ranker", [baselines.PopularRanker, baselines.PersonalTopRanker, baselines.ItemKnnRanker]
)
@pytest.mark.parametrize("exclude_bought", [False, True])
def test_sparse_rankings_equal_the_full_score_matrix_ranking(history, ranker, exclude_bought):
    # given some products not allowed
    allowed = history.product_seen & (np.arange(history.n_products) % 5 != 1)
    everyone = np.arange(history.n_customers)
    model = ranker(history)

    # when ranked without the customer x product matrix
    fast = model.top_k(everyone, k=10, allowed=allowed, exclude_bought=exclude_bought)

    # then the lists are those of ranking every product by its score
    full = baselines.ScoreRanker.top_k(model, everyone, k=10, allowed=allowed, exclude_bought=exclude_bought)
    np.testing.assert_array_equal(fast, full)
