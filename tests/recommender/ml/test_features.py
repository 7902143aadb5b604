import numpy as np
import pandas as pd
import pytest

from recommender.ml.data import check_customers, check_events, check_products, clean_order_lines
from recommender.ml.evaluate import prepare_frames
from recommender.ml.features import FEATURE_NAMES, build_history, generate_candidates, pair_features
from recommender.ml.model import within_row_budget

CUTOFF = np.datetime64("2024-03-01T00:00:00", "ns")


@pytest.fixture
def tiny_history():
    rows = [
        # customer 1 buys product 10 three times and product 11 once
        (1, 10, 1, "2024-01-01"),
        (1, 10, 2, "2024-01-31"),
        (1, 10, 3, "2024-02-20"),
        (1, 11, 3, "2024-02-20"),
        # customers 2 and 3 buy 10 with 12: 12 is a co-purchase neighbour of 10
        (2, 10, 4, "2024-02-01"),
        (2, 12, 4, "2024-02-01"),
        (3, 10, 5, "2024-02-02"),
        (3, 12, 5, "2024-02-02"),
        (4, 13, 6, "2024-02-03"),
        (1, 14, 7, "2024-03-05"),  # after the cutoff: unknown to the history
    ]
    products = pd.DataFrame(
        {
            "product_id": [10, 11, 12, 13, 14],
            "category_id": pd.array([1, 1, 2, 2, None], dtype="Int64"),
            "price": 1.5,
        }
    )
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "country": ["UK", "UK", "FR", "FR"]})
    return _history_of(rows, products, customers, quantity=2, unit_price=1.5)


def _history_of(rows, products, customers, *, quantity, unit_price):
    """The History at CUTOFF of (customer, product, order, date) rows, every line of one quantity and
    price; ``products`` are all active and in stock."""
    lines = pd.DataFrame(rows, columns=["customer_id", "product_id", "order_id", "ordered_at"])
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"])
    lines["quantity"] = quantity
    lines["unit_price"] = unit_price
    lines = clean_order_lines(lines)
    products = products.assign(active=True, in_stock=True)
    return build_history(
        order_lines=lines,
        products=check_products(products, lines),
        customers=check_customers(customers, lines),
        events=check_events(None),
        cutoff=CUTOFF,
        neighbours=3,
    )


def _feature(features, name):
    return features[:, FEATURE_NAMES.index(name)]


def test_candidates_hold_the_customers_history_and_its_co_purchase_neighbours(tiny_history):
    history = tiny_history
    customer, _ = history.customer_index(np.array([1]))

    candidates = generate_candidates(
        history,
        customer,
        allowed=history.product_seen,
        own_history=10,
        co_purchase=5,
        country_popular=0,
        popular=0,
    )

    offered = set(history.product_ids[candidates.product].tolist())
    assert {10, 11} <= offered  # own history
    assert 12 in offered  # bought with 10 by others
    assert 14 not in offered  # only sold after the cutoff


def test_pair_features_on_a_tiny_example(tiny_history):
    history = tiny_history
    customer, _ = history.customer_index(np.array([1]))
    products, _ = history.product_index(np.array([10, 11, 12]))
    candidates = generate_candidates(
        history,
        customer,
        allowed=history.product_seen,
        own_history=10,
        co_purchase=5,
        country_popular=0,
        popular=0,
        products=products,
    )

    features = pair_features(history, candidates)

    by_product = dict(
        zip(history.product_ids[candidates.product].tolist(), range(len(candidates.product)), strict=True)
    )
    row_10, row_11, row_12 = by_product[10], by_product[11], by_product[12]
    times = _feature(features, "times_bought")
    assert np.expm1(times[row_10]) == pytest.approx(3)
    assert np.expm1(times[row_11]) == pytest.approx(1)
    assert times[row_12] == 0
    since = np.expm1(_feature(features, "days_since_last_bought"))
    assert since[row_10] == pytest.approx(10)  # last bought 2024-02-20, cutoff 2024-03-01
    assert np.expm1(_feature(features, "days_since_first_bought")[row_10]) == pytest.approx(60)
    assert _feature(features, "bought_before")[[row_10, row_11, row_12]].tolist() == [1, 1, 0]
    assert _feature(features, "co_purchase_score")[row_12] > 0
    assert np.expm1(_feature(features, "buyers_all_time")[row_10]) == pytest.approx(3)
    # product 10 and 11 are category 1, all of customer 1's spend
    assert _feature(features, "category_share_of_spend")[row_10] == pytest.approx(1.0)
    assert _feature(features, "category_share_of_spend")[row_12] == 0
    assert np.expm1(_feature(features, "customer_orders")[row_10]) == pytest.approx(3)


def _named_history(names):
    """Customer 1 bought two red heart products, recently; customer 2 a blue star one, long ago."""
    rows = [
        (1, 1, 1, "2024-02-20"),
        (1, 2, 1, "2024-02-20"),
        (2, 3, 2, "2023-12-01"),
        (2, 4, 3, "2023-12-01"),
        (3, 5, 4, "2024-02-25"),
    ]
    products = pd.DataFrame(
        {
            "product_id": [1, 2, 3, 4, 5, 6, 7],
            "category_id": pd.array([None] * 7, dtype="Int64"),
            "price": 2.0,
        }
    )
    if names is not None:
        products["name"] = names
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "country": ["UK", "UK", "UK"]})
    history = _history_of(rows, products, customers, quantity=1, unit_price=2.0)
    features, row = _features_of_pairs(history, customer_ids=[1, 2], product_ids=[6, 7])
    return history, features, row


def _features_of_pairs(history, *, customer_ids, product_ids):
    """The features of every (customer, product) pair of the given ids, and each pair's row in them."""
    customer, _ = history.customer_index(np.array(customer_ids))
    product, _ = history.product_index(np.array(product_ids))
    candidates = generate_candidates(
        history,
        np.unique(customer),
        allowed=np.ones(history.n_products, dtype=bool),
        own_history=0,
        co_purchase=0,
        country_popular=0,
        popular=0,
        products=np.unique(product),
    )
    features = pair_features(history, candidates)
    row = {
        (int(history.customer_ids[c]), int(history.product_ids[p])): index
        for index, (c, p) in enumerate(zip(candidates.customer, candidates.product, strict=True))
    }
    return features, row


NAMES = [
    "RED HEART T-LIGHT",
    "RED HEART CUSHION",
    "BLUE STAR MUG",
    "BLUE STAR PLATE",
    "RED HEART BAG",
    "RED HEART LANTERN",  # never bought: shares "red heart" with customer 1's products
    "BLUE STAR LANTERN",  # never bought: shares "blue star" with customer 2's
]


def test_a_never_bought_product_named_like_what_the_customer_buys_has_the_higher_name_affinity():
    history, features, row = _named_history(NAMES)

    affinity = _feature(features, "name_affinity")
    recent = _feature(features, "name_affinity_recent")
    assert affinity[row[1, 6]] > affinity[row[1, 7]]
    assert affinity[row[2, 7]] > affinity[row[2, 6]]
    # a cosine of unit-length word vectors
    assert 0 < affinity[row[1, 6]] <= 1
    # customer 2 bought nothing in the last months: their decayed words are weak but point the same way
    assert recent[row[2, 7]] > recent[row[2, 6]]
    # "red heart" products sold in the last two weeks (customer 3 on 2024-02-25, customer 1 on 02-20),
    # "blue star" ones only three months ago
    trend = _feature(features, "name_words_trend")
    assert trend[row[1, 6]] > trend[row[1, 7]]


@pytest.mark.parametrize("names", [None, [""] * 7, ["A", "B", "C", "D", "E", "F", "G"]])
def test_without_product_names_the_name_features_are_zero(names):
    history, features, _ = _named_history(names)
    assert history.product_words.shape == (history.n_products, 0)
    for name in ("name_affinity", "name_affinity_recent", "name_words_trend"):
        assert not _feature(features, name).any()


def test_how_much_of_what_a_customer_buys_is_new_to_them():
    # given (cutoff 2024-03-01; "recent" is the 90 days from 2023-12-02):
    rows = [
        # customer 1 buys 10 again recently and 11 for the first time
        (1, 10, 1, "2023-10-01"),
        (1, 10, 2, "2024-02-20"),
        (1, 11, 2, "2024-02-20"),
        # customer 2 bought 11 long ago and buys 10 for the first time recently
        (2, 11, 3, "2023-11-01"),
        (2, 10, 4, "2024-02-01"),
        # customer 3 bought nothing recently
        (3, 12, 5, "2023-06-01"),
    ]
    products = pd.DataFrame(
        {"product_id": [10, 11, 12], "category_id": pd.array([None] * 3, dtype="Int64"), "price": 1.0}
    )
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "country": ["UK", "UK", "UK"]})
    history = _history_of(rows, products, customers, quantity=1, unit_price=1.0)

    # when the pairs' features are computed
    features, row = _features_of_pairs(history, customer_ids=[1, 2, 3], product_ids=[10, 11, 12])

    # then per customer: of the products bought in the last 90 days, the share first bought then, and
    # of all purchases the share that were a first one; per product, of its recent buyers, the share
    # buying it for the first time
    recent = _feature(features, "customer_novelty_90d")
    overall = _feature(features, "customer_novelty_all")
    assert [recent[row[(c, 10)]] for c in (1, 2, 3)] == pytest.approx([0.5, 1.0, 0.0])
    assert [overall[row[(c, 10)]] for c in (1, 2, 3)] == pytest.approx([2 / 3, 1.0, 1.0])
    first_time = _feature(features, "product_new_buyer_share_90d")
    assert [first_time[row[(1, p)]] for p in (10, 11, 12)] == pytest.approx([0.5, 1.0, 0.0])


def _reference_candidates(history, customer, *, allowed, exclude_bought, k_own, k_co, k_country, k_popular):
    """One customer's candidates the slow, obvious way: dense rows, sorted by (-score, product)."""
    bought = history.bought[customer].toarray().ravel() > 0
    blocked = ~allowed | (bought if exclude_bought else np.zeros_like(bought))
    co = (history.bought[customer] @ history.similar).toarray().ravel()

    def best(score, k):
        order = sorted(np.flatnonzero(score > 0), key=lambda product: (-score[product], product))
        return set(order[:k])

    own = set()
    if not exclude_bought:
        recency = history.recency[customer].toarray().ravel()
        own = best(np.where(allowed, recency + 1e-6 * history.popularity * (recency > 0), 0.0), k_own)
    from_co = best(np.where(blocked, 0.0, co), k_co)
    country = history.country_popularity[history.customer_country[customer]]
    from_country = best(np.where(blocked, 0.0, country + 1e-6 * history.popularity), k_country)
    popular = best(np.where(allowed, history.popularity + 1e-6, 0.0), k_popular)
    if exclude_bought:
        popular = {product for product in popular if not bought[product]}
    return own | from_co | from_country | popular, from_co, from_country, popular, co


@pytest.mark.parametrize("exclude_bought", [False, True])
def test_sparse_candidates_match_the_dense_definition(shop, exclude_bought):
    lines, products, customers, events = prepare_frames(
        shop["order_lines"], shop["products"], shop["customers"], None
    )
    history = build_history(
        order_lines=lines,
        products=products,
        customers=customers,
        events=events,
        cutoff=np.datetime64(lines["ordered_at"].max(), "ns"),
        neighbours=8,
    )
    allowed = history.product_seen & (np.arange(history.n_products) % 7 != 3)
    chunk = np.arange(0, history.n_customers, 3)
    sizes = dict(own_history=5, co_purchase=6, country_popular=4, popular=5)

    candidates = generate_candidates(history, chunk, allowed=allowed, exclude_bought=exclude_bought, **sizes)

    for customer in chunk:
        mine = candidates.customer == customer
        every, from_co, from_country, popular, co = _reference_candidates(
            history,
            customer,
            allowed=allowed,
            exclude_bought=exclude_bought,
            k_own=5,
            k_co=6,
            k_country=4,
            k_popular=5,
        )
        product = candidates.product[mine]
        assert set(product.tolist()) == every
        assert set(product[candidates.from_co_purchase[mine]].tolist()) == from_co
        assert set(product[candidates.from_country_popular[mine]].tolist()) == from_country
        assert set(product[candidates.from_popular[mine]].tolist()) == popular
        np.testing.assert_allclose(candidates.co_purchase[mine], co[product], rtol=1e-5)
    assert np.all(np.diff(candidates.customer * history.n_products + candidates.product) > 0)


def test_co_purchase_neighbours_are_the_highest_cosines(shop):
    lines, products, customers, events = prepare_frames(
        shop["order_lines"], shop["products"], shop["customers"], None
    )
    history = build_history(
        order_lines=lines,
        products=products,
        customers=customers,
        events=events,
        cutoff=np.datetime64(lines["ordered_at"].max(), "ns"),
        neighbours=5,
    )
    bought = history.bought.toarray()
    together = bought.T @ bought
    buyers = np.sqrt(np.maximum(bought.sum(axis=0), 1.0))
    cosine = together / buyers[:, None] / buyers[None, :]
    np.fill_diagonal(cosine, 0.0)
    similar = history.similar.toarray()
    for product in range(history.n_products):
        kept = np.flatnonzero(similar[product])
        assert len(kept) == min(5, np.count_nonzero(cosine[product]))
        np.testing.assert_allclose(similar[product, kept], cosine[product, kept], rtol=1e-5)
        if len(kept):
            # nothing left out scores above what was kept
            left_out = np.setdiff1d(np.arange(history.n_products), kept)
            assert cosine[product, left_out].max(initial=0.0) <= similar[product, kept].min() + 1e-6


def test_training_pairs_past_the_budget_keep_every_purchase_and_sample_the_rest():
    rng = np.random.default_rng(3)
    labels = (rng.random(10_000) < 0.1).astype(np.float32)
    features = np.arange(10_000, dtype=np.float32)[:, None]

    keep = within_row_budget(labels, 3_000, np.random.default_rng(0))
    kept_features, kept_labels = features[keep], labels[keep]

    assert kept_labels.sum() == labels.sum()
    assert abs(len(kept_labels) - 3_000) < 150
    assert set(kept_features[kept_labels > 0, 0]) == set(features[labels > 0, 0])
    assert within_row_budget(labels, 0, np.random.default_rng(0)).all()
