"""The network's training loop: batches of whole customers, the ranking loss, the calibrated output
and the networks merged into one."""

import dataclasses

import numpy as np
import pytest

from recommender.ml.config import TrainConfig
from recommender.ml.explain import network_layers
from recommender.ml.model import (
    LOGIT_ROWS,
    Samples,
    calibrate_output,
    customer_batches,
    fit_network,
    fit_networks,
    merge_networks,
    network_logits,
    predict,
    ranking_loss,
)


def test_a_batch_holds_whole_customers_numbered_in_runs():
    rng = np.random.default_rng(0)
    groups = rng.permutation(np.repeat(np.arange(300), rng.integers(1, 40, 300)))
    seen = []
    for rows, customers in customer_batches(groups, 500, np.random.default_rng(1)):
        assert customers[0] == 0
        assert set(np.diff(customers)) <= {0, 1}  # sorted runs 0, 1, 2, ...
        for number in np.unique(customers):
            # one customer per run, and all of that customer's rows
            (owner,) = np.unique(groups[rows[customers == number]])
            assert (customers == number).sum() == (groups == owner).sum()
        assert len(rows) < 500 + 40
        seen.append(rows)
    everything = np.concatenate(seen)
    assert np.array_equal(np.sort(everything), np.arange(len(groups)))
    again = np.concatenate([rows for rows, _ in customer_batches(groups, 500, np.random.default_rng(2))])
    assert not np.array_equal(again, everything)  # another order of the customers


def test_the_loss_adds_a_softmax_over_each_customers_candidates():
    logits = np.array([2.0, 0.5, -1.0, 0.0, 3.0, 1.0, -2.0])
    labels = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    customers = np.array([0, 0, 0, 1, 1, 2, 2])  # customer 1 bought nothing: no listwise term
    probability = 1 / (1 + np.exp(-logits))
    pointwise = -np.mean(labels * np.log(probability) + (1 - labels) * np.log(1 - probability))

    def softmax_loss(scores, bought):
        log_total = np.log(np.exp(scores).sum())
        return np.mean([log_total - scores[index] for index in np.flatnonzero(bought)])

    listwise = np.mean([softmax_loss(logits[:3], labels[:3]), softmax_loss(logits[5:], labels[5:])])
    as_tensors = (logits.astype(np.float32), labels.astype(np.float32), customers.astype(np.int32))
    assert float(ranking_loss(*as_tensors, 0.0)) == pytest.approx(pointwise, rel=1e-5)
    assert float(ranking_loss(*as_tensors, 2.0)) == pytest.approx(pointwise + 2 * listwise, rel=1e-5)
    # the listwise term does not see a shift of all of one customer's scores
    shifted = logits + np.where(customers == 0, 5.0, 0.0)
    moved = ranking_loss(shifted.astype(np.float32), *as_tensors[1:], 1.0) - ranking_loss(
        shifted.astype(np.float32), *as_tensors[1:], 0.0
    )
    assert float(moved) == pytest.approx(listwise, rel=1e-5)


def _window(seed: int, customers: int = 200, candidates: int = 100) -> Samples:
    rng = np.random.default_rng(seed)
    n = customers * candidates
    features = rng.normal(size=(n, 4)).astype(np.float32)
    labels = (features[:, 0] + 0.5 * rng.normal(size=n) > 2.0).astype(np.float32)
    owner = np.repeat(np.arange(customers), candidates)
    return Samples(features=features, labels=labels, customer=owner, relevant_per_customer={})


def test_the_output_is_the_purchase_rate_when_negatives_were_sampled_down():
    window = _window(0)
    config = TrainConfig(hidden_layers=(16, 8), batch_size=1024, max_training_rows=4000)
    fitted = fit_network([window], None, config, epochs=4)
    assert fitted.rows < len(window.labels) / 3  # trained on a fifth of the pairs, most negatives left out
    unseen = _window(1)
    predicted = predict(fitted.network, (unseen.features - fitted.mean) / fitted.std)
    rate = unseen.labels.mean()
    assert rate < 0.05
    assert predicted.mean() == pytest.approx(rate, rel=0.2)
    likeliest = predicted >= np.quantile(predicted, 0.95)  # the pairs with most of the purchases
    assert predicted[likeliest].mean() == pytest.approx(unseen.labels[likeliest].mean(), rel=0.2)


def test_calibration_keeps_the_order_of_the_scores():
    window = _window(2)
    config = TrainConfig(hidden_layers=(16, 8), batch_size=1024, max_training_rows=0)
    fitted = fit_network([window], None, config, epochs=4)
    scaled = (window.features - fitted.mean) / fitted.std
    before = network_logits(fitted.network, scaled)
    # an output made four times too confident and shifted, then calibrated again
    output = fitted.network.layers[-1]
    kernel, bias = output.get_weights()
    output.set_weights([kernel * 4, bias + 3])
    scale, shift = calibrate_output(fitted.network, scaled, window.labels)
    after = network_logits(fitted.network, scaled)
    assert scale == pytest.approx(0.25, rel=0.05)
    # the same order (up to the float32 rounding of the rescaled weights)
    assert np.diff(after[np.argsort(before)]).min() > -1e-4
    assert np.allclose(after, before, atol=0.05)


def test_merged_networks_score_by_the_mean_of_their_logits():
    config = TrainConfig(hidden_layers=(16, 8), batch_size=1024, max_training_rows=4000)
    windows = [_window(10 + part) for part in range(3)]
    for part, window in enumerate(windows):  # each part scales its inputs its own way
        window.features = window.features * (1 + 0.2 * part) + 0.3 * part
    parts = [
        fit_network([window], None, dataclasses.replace(config, seed=part), epochs=2)
        for part, window in enumerate(windows)
    ]
    assert np.abs(parts[2].mean - parts[0].mean).min() > 0.5
    merged = merge_networks(parts, config)
    unseen = _window(20)
    mean_logit = np.mean(
        [network_logits(part.network, (unseen.features - part.mean) / part.std) for part in parts], axis=0
    )
    scaled = (unseen.features - merged.mean) / merged.std
    merged_logit = network_logits(merged.network, scaled)
    # the mean logit, calibrated: an increasing straight line of it
    scale, shift = np.polyfit(mean_logit, merged_logit, 1)
    assert scale > 0
    assert np.abs(merged_logit - (scale * mean_logit + shift)).max() < 1e-4
    # and the parts differ: their mean is not the first part's logit (which reads the same scaling)
    assert np.corrcoef(mean_logit, network_logits(parts[0].network, scaled))[0, 1] < 0.9999
    # one chain of Dense layers three times as wide, which the explanations' walk reads
    weights, _, activation = network_layers(merged.network)
    assert [kernel.shape for kernel in weights] == [(4, 48), (48, 24), (24, 1)]
    assert activation == "sigmoid"
    predicted = predict(merged.network, scaled)
    assert predicted.mean() == pytest.approx(unseen.labels.mean(), rel=0.2)


def _dense_logits(network, features: np.ndarray) -> np.ndarray:
    """The logit the long way: every row at once, every layer whole (block-diagonal zeros included)."""
    weights, biases, _ = network_layers(network)
    hidden = features.astype(np.float64)
    for kernel, bias in zip(weights[:-1], biases[:-1], strict=True):
        hidden = np.maximum(hidden @ kernel + bias, 0.0)
    return (hidden @ weights[-1] + biases[-1]).ravel()


def test_the_logits_in_slices_and_by_blocks_are_the_whole_networks():
    config = TrainConfig(hidden_layers=(16, 8), batch_size=1024, max_training_rows=4000)
    parts = [
        fit_network([_window(30 + part)], None, dataclasses.replace(config, seed=part), epochs=1)
        for part in range(3)
    ]
    merged = merge_networks(parts, config)
    unseen = _window(40, customers=250)  # 25,000 rows: slices of LOGIT_ROWS and a shorter last one
    assert len(unseen.features) > 3 * LOGIT_ROWS and len(unseen.features) % LOGIT_ROWS
    for fitted in (parts[0], merged):
        scaled = (unseen.features - fitted.mean) / fitted.std
        expected = _dense_logits(fitted.network, scaled)
        assert np.allclose(network_logits(fitted.network, scaled), expected, rtol=0, atol=1e-9)
    # and the network's own output is the sigmoid of that logit
    scaled = (unseen.features - merged.mean) / merged.std
    assert np.allclose(
        predict(merged.network, scaled), 1 / (1 + np.exp(-_dense_logits(merged.network, scaled))), atol=1e-5
    )


def test_an_ensemble_of_one_is_the_network_itself_and_of_three_another():
    window = _window(3)
    config = TrainConfig(hidden_layers=(16, 8), batch_size=1024, max_training_rows=4000, networks=1)
    single = fit_networks([window], config, epochs=2)
    alone = fit_network([window], None, config, epochs=2)
    assert len(single.network.layers) == len(alone.network.layers)
    scaled = (window.features - single.mean) / single.std
    assert np.array_equal(predict(single.network, scaled), predict(alone.network, scaled))
    three = fit_networks([window], dataclasses.replace(config, networks=3), epochs=2)
    assert network_layers(three.network)[0][0].shape == (4, 48)
    assert not np.allclose(predict(three.network, scaled), predict(single.network, scaled), atol=1e-3)


def test_networks_must_be_at_least_one():
    with pytest.raises(ValueError, match="networks must be at least 1, got 0"):
        TrainConfig(networks=0)


def test_a_negative_listwise_weight_is_refused_by_name():
    with pytest.raises(ValueError, match="listwise_weight must be 0 or more, got -1"):
        TrainConfig(listwise_weight=-1)


def test_a_refit_epochs_factor_of_zero_is_refused_by_name():
    with pytest.raises(ValueError, match="refit_epochs_factor must be above 0, got 0"):
        TrainConfig(refit_epochs_factor=0)
