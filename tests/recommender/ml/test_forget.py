"""Forgetting customers in a History and in a saved artifact (erasure), without Django."""

import pickle

import numpy as np
import pandas as pd
import pytest

from recommender.ml.data import check_customers, check_events, check_products, clean_order_lines
from recommender.ml.features import build_history
from recommender.ml.forget import artifact_customer_ids, artifact_forget_customers, history_without_customers
from tests.recommender.ml.shop import make_shop

CUTOFF = np.datetime64("2024-08-01T00:00:00", "ns")
FORGOTTEN = (7, 42)


def history_of(shop: dict, events: pd.DataFrame, *, without: tuple[int, ...] = ()):
    lines = clean_order_lines(shop["order_lines"][~shop["order_lines"]["customer_id"].isin(without)])
    customers = shop["customers"][~shop["customers"]["customer_id"].isin(without)]
    return build_history(
        order_lines=lines,
        products=check_products(shop["products"], lines),
        customers=check_customers(customers, lines),
        events=check_events(events[~events["customer_id"].isin(without)]),
        cutoff=CUTOFF,
        neighbours=5,
    )


@pytest.fixture(scope="module")
def shop_and_events():
    shop = make_shop(seed=3, customers=80, products=40, days=240)
    words = np.array(["red", "blue", "heart", "star", "lantern", "mug"])
    shop["products"]["name"] = [" ".join(words[[i % 6, (i // 6) % 6]]) for i in range(len(shop["products"]))]
    rng = np.random.default_rng(1)
    events = pd.DataFrame(
        {
            "customer_id": rng.choice(shop["customers"]["customer_id"].to_numpy(), 400),
            "product_id": rng.choice(shop["products"]["product_id"].to_numpy(), 400),
            "kind": rng.choice(["view", "add_to_cart", "wishlist"], 400),
            "at": CUTOFF - rng.integers(1, 20 * 24, 400).astype("timedelta64[h]"),
        }
    )
    events["at"] = events["at"].astype("datetime64[ns]")
    return shop, events


def test_forgetting_customers_leaves_every_other_customer_as_if_they_had_never_been_there(shop_and_events):
    shop, events = shop_and_events
    # given a history of everyone, and one built without two customers at all
    everyone = history_of(shop, events)
    assert set(FORGOTTEN) <= set(everyone.customer_ids.tolist())
    without = history_of(shop, events, without=FORGOTTEN)

    # when the two are forgotten in the first
    forgotten, removed = history_without_customers(everyone, np.array(FORGOTTEN))

    # then their rows are gone and every per-customer statistic of the others is exactly as if built
    # without them
    assert removed == 2
    assert not set(FORGOTTEN) & set(forgotten.customer_ids.tolist())
    np.testing.assert_array_equal(forgotten.customer_ids, without.customer_ids)
    np.testing.assert_array_equal(forgotten.pair_keys, without.pair_keys)
    np.testing.assert_allclose(forgotten.pair_stats, without.pair_stats)
    np.testing.assert_allclose(forgotten.customer_stats, without.customer_stats)
    np.testing.assert_array_equal(forgotten.customer_country, without.customer_country)
    np.testing.assert_array_equal(forgotten.category_keys, without.category_keys)
    np.testing.assert_allclose(forgotten.category_share, without.category_share)
    np.testing.assert_array_equal(forgotten.event_keys, without.event_keys)
    np.testing.assert_allclose(forgotten.event_counts, without.event_counts)
    assert (forgotten.bought != without.bought).nnz == 0
    assert abs(forgotten.recency - without.recency).max() < 1e-6
    assert forgotten.customer_words.shape[1] > 0
    assert abs(forgotten.customer_words - without.customer_words).max() < 1e-6
    assert abs(forgotten.customer_words_recent - without.customer_words_recent).max() < 1e-6
    assert forgotten.bought.shape == (everyone.n_customers - 2, everyone.n_products)


def test_forgetting_a_customer_the_history_never_had_changes_nothing(shop_and_events):
    shop, events = shop_and_events
    history = history_of(shop, events)
    same, removed = history_without_customers(history, np.array([999_999]))
    assert removed == 0 and same is history


def test_an_artifact_is_rewritten_without_the_customers_and_its_bytes_no_longer_hold_them(
    shop_and_events, tmp_path
):
    shop, events = shop_and_events
    history = history_of(shop, events)
    # a distinctive id, so that its bytes can be looked for in the file
    distinctive = 987_654_321
    history.customer_ids = np.where(history.customer_ids == 80, distinctive, history.customer_ids)
    (tmp_path / "history.pkl").write_bytes(pickle.dumps(history, protocol=pickle.HIGHEST_PROTOCOL))
    assert np.int64(distinctive).tobytes() in (tmp_path / "history.pkl").read_bytes()

    assert artifact_forget_customers(tmp_path, np.array([distinctive, 7])) == 2

    assert np.int64(distinctive).tobytes() not in (tmp_path / "history.pkl").read_bytes()
    held = artifact_customer_ids(tmp_path)
    assert distinctive not in held and 7 not in held and len(held) == history.n_customers - 2
    # a second run finds nothing to do and leaves the file alone
    before = (tmp_path / "history.pkl").stat().st_mtime_ns
    assert artifact_forget_customers(tmp_path, np.array([distinctive])) == 0
    assert (tmp_path / "history.pkl").stat().st_mtime_ns == before
