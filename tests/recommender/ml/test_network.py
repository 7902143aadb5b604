"""The network's training loop: batches of whole customers, the ranking loss and the calibrated output."""

import numpy as np
import pytest

from recommender.ml.config import TrainConfig
from recommender.ml.model import (
    Samples,
    calibrate_output,
    customer_batches,
    fit_network,
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


def test_a_negative_listwise_weight_is_refused_by_name():
    with pytest.raises(ValueError, match="listwise_weight must be 0 or more, got -1"):
        TrainConfig(listwise_weight=-1)
