"""Explanations of the ranker's scores: integrated gradients over its named inputs, on real (small,
seeded) TensorFlow networks."""

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from recommender.ml import explain
from recommender.ml.config import TrainConfig
from recommender.ml.data import check_customers, check_events, check_products, clean_order_lines
from recommender.ml.explain import (
    FEATURE_GROUPS,
    GROUP_KEYS,
    co_purchase_sources,
    explain_features,
    explanation_documents,
    group_contributions,
    group_membership,
    integrated_gradients,
    network_blocks,
    network_layers,
    riemann_integrated_gradients,
)
from recommender.ml.features import FEATURE_NAMES, build_history, generate_candidates, pair_features
from recommender.ml.model import FittedNetwork, MlpRanker, build_network, merge_networks, seed_everything
from recommender.ml.score import recommend
from recommender.ml.train import TrainedRecommender

WIDTH = len(FEATURE_NAMES)
CUTOFF = np.datetime64("2024-03-01T00:00:00", "ns")


def seeded_network(*, seed: int = 3, hidden_layers=(32, 16, 8)):
    """A small ranker network as training builds it, fitted a little to random labels (so its biases
    and weights are those of a fitted network, with units switching along any path)."""
    seed_everything(seed)
    network = build_network(WIDTH, TrainConfig(hidden_layers=hidden_layers, dropout=0.1))
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(512, WIDTH)).astype(np.float32)
    labels = (inputs[:, 0] + inputs[:, 1] * inputs[:, 2] > 0).astype(np.float32)
    network.compile(optimizer="adam", loss="binary_crossentropy")
    network.fit(inputs, labels, epochs=3, batch_size=64, verbose=0)
    return network


@pytest.fixture(scope="module")
def network():
    return seeded_network()


@pytest.fixture(scope="module")
def pairs():
    return np.random.default_rng(11).normal(scale=2.0, size=(400, WIDTH))


def test_base_and_contributions_add_up_to_the_networks_output(network, pairs):
    baseline = np.zeros(WIDTH)

    attributions = integrated_gradients(network, pairs, baseline)

    # the outputs are the network's own (TensorFlow), for the pairs and for the baseline
    assert np.allclose(attributions.output, network(pairs.astype(np.float32)).numpy().ravel(), atol=1e-7)
    assert attributions.base == pytest.approx(float(network(baseline[None, :].astype(np.float32))[0, 0]))
    assert np.abs(attributions.residual).max() < 1e-5  # float32 rounding of the network only
    assert np.allclose(
        attributions.base + attributions.contributions.sum(axis=1), attributions.output, atol=1e-3
    )
    # paths do cross units switching: the sum is not one straight line
    assert attributions.pieces.max() > 3


def test_the_walk_computes_integrated_gradients(network, pairs):
    """The Riemann sum of the gradient along the path tends to the same numbers as its steps grow."""
    some = pairs[:60]
    exact = integrated_gradients(network, some, np.zeros(WIDTH)).contributions

    coarse = riemann_integrated_gradients(network, some, np.zeros(WIDTH), steps=16).contributions
    fine = riemann_integrated_gradients(network, some, np.zeros(WIDTH), steps=1024).contributions

    assert np.abs(fine - exact).max() < 2e-3
    assert np.abs(fine - exact).max() < np.abs(coarse - exact).max()


def test_a_feature_at_the_baseline_contributes_nothing(network, pairs):
    baseline = np.random.default_rng(5).normal(size=WIDTH)
    inputs = pairs[:50].copy()
    inputs[:, 7] = baseline[7]
    inputs[:, 30] = baseline[30]

    attributions = integrated_gradients(network, inputs, baseline)

    assert np.abs(attributions.contributions[:, [7, 30]]).max() < 1e-12
    assert np.abs(attributions.residual).max() < 1e-5


def test_raw_features_at_the_training_mean_contribute_nothing_and_the_rest_add_up(network):
    # given a ranker whose network sees features standardized outside it
    rng = np.random.default_rng(2)
    mean = rng.normal(size=WIDTH).astype(np.float32)
    std = rng.uniform(0.5, 3.0, size=WIDTH).astype(np.float32)
    ranker = MlpRanker(history=None, network=network, mean=mean, std=std, config=TrainConfig())
    features = mean + std * rng.normal(size=(100, WIDTH)).astype(np.float32)
    features[:, FEATURE_NAMES.index("price")] = mean[FEATURE_NAMES.index("price")]

    attributions = explain_features(ranker, features)

    assert np.abs(attributions.contributions[:, FEATURE_NAMES.index("price")]).max() < 1e-12
    scores = network(((features - mean) / std).astype(np.float32)).numpy().ravel()
    assert np.abs(attributions.base + attributions.contributions.sum(axis=1) - scores).max() < 1e-5


def test_every_feature_is_in_exactly_one_group_and_groups_keep_the_sum(network, pairs):
    membership = group_membership()
    assert membership.sum(axis=1).tolist() == [1.0] * WIDTH
    assert sorted(name for group in FEATURE_GROUPS for name in group.features) == sorted(FEATURE_NAMES)
    assert len(set(GROUP_KEYS)) == len(GROUP_KEYS)

    attributions = integrated_gradients(network, pairs[:100], np.zeros(WIDTH))
    grouped = group_contributions(attributions.contributions)

    assert grouped.shape == (100, len(FEATURE_GROUPS))
    assert np.allclose(grouped.sum(axis=1), attributions.contributions.sum(axis=1), atol=1e-12)


def test_stored_documents_add_up_to_the_stored_score_after_rounding(network, pairs):
    attributions = integrated_gradients(network, pairs[:30], np.zeros(WIDTH))
    scores = attributions.output  # what recommend stores as the score

    documents = explanation_documents(attributions, scores=scores, co_purchase=[[] for _ in range(30)])

    for document, score in zip(documents, scores, strict=True):
        assert set(document["groups"]) == set(GROUP_KEYS)
        assert document["output"] == score
        total = document["base"] + sum(document["groups"].values()) + document["residual"]
        assert total == pytest.approx(score, abs=1e-9)
        assert abs(document["residual"]) < 1e-4


def test_only_a_network_of_dense_relu_layers_is_walked():
    import tensorflow as tf

    inputs = tf.keras.Input(shape=(WIDTH,))
    hidden = tf.keras.layers.Dense(4, activation="tanh")(inputs)
    odd = tf.keras.Model(inputs, tf.keras.layers.Dense(1, activation="sigmoid")(hidden))

    with pytest.raises(ValueError, match="ReLU"):
        network_layers(odd)


def merged_network(seeds=(3, 4, 5)):
    """Seeded networks merged into one as training merges an ensemble (``model.merge_networks``)."""
    rng = np.random.default_rng(7)
    inputs = rng.normal(size=(2000, WIDTH)).astype(np.float32)
    labels = (inputs[:, 0] + inputs[:, 1] * inputs[:, 2] > 0).astype(np.float32)
    parts = [
        FittedNetwork(
            network=seeded_network(seed=seed),
            mean=np.zeros(WIDTH, dtype=np.float32),
            std=np.ones(WIDTH, dtype=np.float32),
            epochs=3,
            validation_ndcg=[],
            rows=len(inputs),
            positives=int(labels.sum()),
            calibration=(inputs, labels),
        )
        for seed in seeds
    ]
    return merge_networks(parts, TrainConfig(hidden_layers=(32, 16, 8), dropout=0.1)).network


def dense_chain(kernels, biases, output: str):
    """A Keras chain of Dense layers (ReLU, then ``output``) holding these weights."""
    import tensorflow as tf

    layers = [tf.keras.Input(shape=(kernels[0].shape[0],))]
    layers += [tf.keras.layers.Dense(kernel.shape[1], activation="relu") for kernel in kernels[:-1]]
    layers.append(tf.keras.layers.Dense(1, activation=output))
    network = tf.keras.Sequential(layers)
    dense = [layer for layer in network.layers if type(layer).__name__ == "Dense"]
    for layer, kernel, bias in zip(dense, kernels, biases, strict=True):
        layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return network


def test_a_network_is_one_block_unless_made_of_networks_side_by_side(network):
    kernels, biases, _ = network_layers(network)
    assert len(network_blocks(kernels, biases)) == 1
    # one hidden layer: its units are not split into blocks of one
    one_layer = dense_chain(kernels[:1] + [kernels[1][:, :1]], biases[:1] + [biases[-1]], "sigmoid")
    assert len(network_blocks(*network_layers(one_layer)[:2])) == 1

    merged_kernels, merged_biases, _ = network_layers(merged_network())
    blocks = network_blocks(merged_kernels, merged_biases)

    assert len(blocks) == 3
    for block_kernels, _ in blocks:
        assert [kernel.shape for kernel in block_kernels] == [(WIDTH, 32), (32, 16), (16, 8), (8, 1)]
    # the output's bias is counted once, so the blocks' logits add up to the network's
    assert [float(block_biases[-1][0]) for _, block_biases in blocks][1:] == [0.0, 0.0]
    assert float(blocks[0][1][-1][0]) == pytest.approx(float(merged_biases[-1][0]))


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
def test_a_merged_network_is_walked_block_by_block_to_the_same_contributions(pairs, output):
    kernels, biases, _ = network_layers(merged_network())
    merged = dense_chain(kernels, biases, output)
    # the same network with weights of 1e-12 joining its blocks: two joined leave two blocks, all
    # three joined one, walked whole
    joined_kernels = [kernel.copy() for kernel in kernels]
    joined_kernels[1][0, 16] = 1e-12
    assert len(network_blocks(joined_kernels, biases)) == 2
    joined_kernels[1][16, 32] = 1e-12
    joined = dense_chain(joined_kernels, biases, output)
    assert len(network_blocks(*network_layers(joined)[:2])) == 1
    some = pairs[:150]

    by_block = integrated_gradients(merged, some, np.zeros(WIDTH), pairs_per_batch=64)
    whole = integrated_gradients(joined, some, np.zeros(WIDTH))

    assert np.abs(by_block.residual).max() < 1e-5
    assert np.abs(by_block.contributions - whole.contributions).max() < 1e-8
    # the path bends where any block's unit switches
    assert np.array_equal(by_block.pieces, whole.pieces)
    assert by_block.pieces.max() > 10


def _blas_threads() -> int:
    return max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")


@pytest.mark.parametrize("merged", [False, True], ids=["one block", "blocks"])
def test_the_walk_runs_on_one_blas_thread_and_leaves_the_callers_threads(network, pairs, monkeypatch, merged):
    # its products are small: a second BLAS thread only spins, and a worker's processes share the cores
    walked = merged_network() if merged else network
    step = "_follow" if merged else "_walk"
    original = getattr(explain, step)
    threads_seen = []

    def watched(*args, **kwargs):
        threads_seen.append(_blas_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(explain, step, watched)
    with threadpool_limits(2, user_api="blas"):
        integrated_gradients(walked, pairs[:50], np.zeros(WIDTH))
        after = _blas_threads()

    assert threads_seen and set(threads_seen) == {1}
    assert after == 2


# --- against a shop's History ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_shop():
    rows = [
        # customer 1 buys 10 again and again, and 11 once
        (1, 10, 1, "2024-01-01"),
        (1, 10, 2, "2024-01-31"),
        (1, 10, 3, "2024-02-20"),
        (1, 11, 3, "2024-02-20"),
        # customers 2 and 3 buy 10 with 12, customer 3 also 11 with 13
        (2, 10, 4, "2024-02-01"),
        (2, 12, 4, "2024-02-01"),
        (3, 10, 5, "2024-02-02"),
        (3, 12, 5, "2024-02-02"),
        (3, 11, 6, "2024-02-10"),
        (3, 13, 6, "2024-02-10"),
        (4, 13, 7, "2024-02-03"),
        (4, 14, 7, "2024-02-03"),
    ]
    lines = pd.DataFrame(rows, columns=["customer_id", "product_id", "order_id", "ordered_at"])
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"])
    lines["quantity"] = 2
    lines["unit_price"] = 1.5
    lines = clean_order_lines(lines)
    products = pd.DataFrame(
        {
            "product_id": [10, 11, 12, 13, 14],
            "category_id": pd.array([1, 1, 2, 2, 2], dtype="Int64"),
            "price": 1.5,
            "active": True,
            "in_stock": True,
        }
    )
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "country": ["UK", "UK", "FR", "FR"]})
    products = check_products(products, lines)
    history = build_history(
        order_lines=lines,
        products=products,
        customers=check_customers(customers, lines),
        events=check_events(None),
        cutoff=CUTOFF,
        neighbours=3,
    )
    return history, products


def test_co_purchase_sources_are_the_customers_own_products_bought_with_the_item(small_shop):
    history, _ = small_shop
    customer = history.customer_index(np.array([1]))[0]
    product = history.product_index(np.array([12, 13, 14]))[0]

    sources = co_purchase_sources(history, np.repeat(customer, 3), product)

    # co-purchase is the cosine of the products' buyers: 12 (bought by 2, 3) goes with 10 (1, 2, 3) more
    # than with 11 (1, 3); 13 (3, 4) with 11 more than with 10; 14 (4) with nothing customer 1 bought
    assert sources == [[10, 11], [11, 10], []]


def test_recommend_explains_each_row_the_network_scored(small_shop, network):
    # given a ranker over the shop's History (a seeded network of the served shape)
    history, products = small_shop
    config = TrainConfig(hidden_layers=(32, 16, 8))
    candidates = generate_candidates(
        history, np.arange(history.n_customers), allowed=history.product_seen, **config.candidate_sources
    )
    features = pair_features(history, candidates)
    std = features.std(axis=0)
    std[std < 1e-6] = 1.0
    ranker = MlpRanker(history=history, network=network, mean=features.mean(axis=0), std=std, config=config)
    model = TrainedRecommender(ranker=ranker, products=products)

    # when it recommends with explanations (customer 99 is unknown: a cold start)
    plain = recommend(model, customer_ids=np.array([1, 2, 3, 4, 99]), top_n=3)
    explained = recommend(model, customer_ids=np.array([1, 2, 3, 4, 99]), top_n=3, explanations=True)

    # then the lists are the same, and every scored row's explanation adds up to its score
    assert list(plain.columns) == ["customer_id", "product_id", "rank", "score", "reason"]
    pd.testing.assert_frame_equal(plain, explained.drop(columns="explanation"))
    scored = explained[explained["customer_id"] != 99]
    assert len(scored) and explained[explained["customer_id"] == 99]["explanation"].isna().all()
    for score, document in zip(scored["score"], scored["explanation"], strict=True):
        total = document["base"] + sum(document["groups"].values()) + document["residual"]
        assert total == pytest.approx(score, abs=1e-9)
        assert abs(document["residual"]) < 1e-3
        assert set(document["co_purchase_product_ids"]) <= set(history.product_ids.tolist())
