"""The MLP ranker: training samples from earlier label windows, the Keras network, and ranking with it."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg
from sklearn.linear_model import LogisticRegression

from recommender.ml.config import TrainConfig
from recommender.ml.discovery import new_item_order, position_in_row, served_order
from recommender.ml.explain import network_blocks, network_layers
from recommender.ml.features import (
    DAY,
    FEATURE_NAMES,
    Candidates,
    History,
    _lookup,
    build_history,
    generate_candidates,
    pair_features,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

Progress = Callable[[float, str], None]
# pairs of every label window (positives and negatives as they come) the output is calibrated on
CALIBRATION_ROWS = 200_000
# rows per slice when the logits are computed in numpy (``network_logits``): 8,192 rows through a
# 128-unit layer hold 8 MB
LOGIT_ROWS = 8_192
# the seed of the ensemble's k-th network is the configured seed + k times this
ENSEMBLE_SEED_STEP = 1000


def _tf():
    import tensorflow as tf

    return tf


def seed_everything(seed: int) -> None:
    tf = _tf()
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


@dataclass
class Samples:
    features: np.ndarray
    labels: np.ndarray
    customer: np.ndarray  # customer index (of the window's History)
    relevant_per_customer: dict[int, int]


def label_pairs(
    order_lines: pd.DataFrame, history: History, start: np.datetime64, stop: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    """(customer, product) indices bought in [start, stop) by customers with a history, of products seen."""
    at = order_lines["ordered_at"].to_numpy()
    window = order_lines[(at >= start) & (at < stop)]
    c, c_found = history.customer_index(window["customer_id"].to_numpy())
    p, p_found = history.product_index(window["product_id"].to_numpy())
    keep = c_found & p_found
    c, p = c[keep], p[keep]
    keep = history.product_seen[p] & history.has_history(c)
    keys = np.unique(c[keep] * history.n_products + p[keep])
    return np.divmod(keys, history.n_products)


def candidates_in_chunks(
    history: History,
    customers: np.ndarray,
    config: TrainConfig,
    *,
    allowed: np.ndarray,
    exclude_bought: bool = False,
):
    """(offset of the chunk in ``customers``, the chunk, its candidates), a chunk at a time."""
    for start in range(0, len(customers), config.chunk_customers):
        chunk = customers[start : start + config.chunk_customers]
        candidates = generate_candidates(
            history, chunk, allowed=allowed, exclude_bought=exclude_bought, **config.candidate_sources
        )
        yield start, chunk, candidates


def window_samples(
    order_lines: pd.DataFrame,
    history: History,
    stop: np.datetime64,
    config: TrainConfig,
    rng: np.random.Generator,
    *,
    sample_negatives: bool,
) -> Samples:
    c, p = label_pairs(order_lines, history, history.cutoff, stop)
    positive_keys = c * history.n_products + p
    customers = np.unique(c)
    relevant = dict(zip(*np.unique(c, return_counts=True), strict=True))
    features, labels, owners = [], [], []
    for _, _, candidates in candidates_in_chunks(history, customers, config, allowed=history.product_seen):
        keys = candidates.customer * history.n_products + candidates.product
        label = np.isin(keys, positive_keys)
        keep = np.ones(len(keys), dtype=bool)
        if sample_negatives and config.negative_share < 1:
            keep = label | (rng.random(len(keys)) < config.negative_share)
        features.append(pair_features(history, _subset(candidates, keep)))
        labels.append(label[keep])
        owners.append(candidates.customer[keep])
    return Samples(
        features=np.concatenate(features) if features else np.zeros((0, len(FEATURE_NAMES)), np.float32),
        labels=np.concatenate(labels).astype(np.float32) if labels else np.zeros(0, np.float32),
        customer=np.concatenate(owners) if owners else np.zeros(0, np.int64),
        relevant_per_customer={int(k): int(v) for k, v in relevant.items()},
    )


def _keep_share_of_negatives(samples: Samples, share: float, rng: np.random.Generator) -> Samples:
    if share >= 1:
        return samples
    keep = (samples.labels > 0) | (rng.random(len(samples.labels)) < share)
    return Samples(
        features=samples.features[keep],
        labels=samples.labels[keep],
        customer=samples.customer[keep],
        relevant_per_customer=samples.relevant_per_customer,
    )


def within_row_budget(labels: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    """Which rows to train on: every positive and a uniform sample of the negatives, ``max_rows`` in all
    (0 = everything)."""
    if max_rows <= 0 or len(labels) <= max_rows:
        return np.ones(len(labels), dtype=bool)
    positive = labels > 0
    negatives = int((~positive).sum())
    share = max(max_rows - int(positive.sum()), 0) / max(negatives, 1)
    return positive | (rng.random(len(labels)) < share)


def _subset(candidates: Candidates, keep: np.ndarray) -> Candidates:
    return Candidates(**{name: getattr(candidates, name)[keep] for name in Candidates.__dataclass_fields__})


def build_network(n_features: int, config: TrainConfig):
    tf = _tf()
    inputs = tf.keras.Input(shape=(n_features,), name="pair_features")
    x = inputs
    for size in config.hidden_layers:
        x = tf.keras.layers.Dense(size, activation="relu")(x)
        if config.dropout:
            x = tf.keras.layers.Dropout(config.dropout)(x)
    output = tf.keras.layers.Dense(1, activation="sigmoid", name="purchase_probability")(x)
    return tf.keras.Model(inputs, output)


def ranking_loss(logits, labels, customers, listwise_weight: float):
    """Mean cross-entropy of the pairs plus ``listwise_weight`` times the mean over customers (with a
    purchase) of the softmax cross-entropy of their bought candidates among all their candidates.

    ``customers`` numbers each pair's customer 0, 1, ... in sorted runs (``customer_batches``).
    """
    tf = _tf()
    pointwise = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
    if not listwise_weight:
        return pointwise
    # log of the sum of exp(logits) over each customer's candidates, computed stably
    top = tf.math.segment_max(logits, customers)
    spread = tf.math.segment_sum(tf.exp(logits - tf.gather(top, customers)), customers)
    log_total = tf.gather(top + tf.math.log(spread), customers)
    bought = tf.math.segment_sum(labels, customers)
    lost = tf.math.segment_sum(labels * (log_total - logits), customers)
    listwise = tf.reduce_mean(tf.boolean_mask(lost / tf.maximum(bought, 1.0), bought > 0))
    return pointwise + listwise_weight * listwise


def _train_step(network, config: TrainConfig):
    """One compiled optimiser step on a batch of whole customers' candidates (a plain loop over batches
    is much lighter than ``fit``).

    The loss is the cross-entropy of each pair plus ``config.listwise_weight`` times a softmax
    cross-entropy over each customer's candidates in the window: the metric ranks a customer's products
    against each other, and only the second term compares them. The first keeps the output on the
    scale of a purchase probability, which promotion targeting reads; ``calibrate_output`` then makes it
    one.
    """
    tf = _tf()
    optimizer = tf.keras.optimizers.Adam(config.learning_rate)
    body = tf.keras.Model(network.inputs, network.layers[-2].output)
    output = network.layers[-1]
    weight = float(config.listwise_weight)

    @tf.function(reduce_retracing=True)
    def step(features, labels, customers):
        with tf.GradientTape() as tape:
            logits = tf.squeeze(tf.matmul(body(features, training=True), output.kernel) + output.bias, 1)
            loss = ranking_loss(logits, labels, customers, weight)
        gradients = tape.gradient(loss, network.trainable_variables)
        optimizer.apply_gradients(zip(gradients, network.trainable_variables, strict=True))
        return loss

    return step


def customer_batches(groups: np.ndarray, batch_size: int, shuffle: np.random.Generator):
    """Row indices in batches of whole groups (about ``batch_size`` rows each; a group is a customer in
    one label window), the groups in a new order each call, and each row's group numbered 0, 1, ...
    within its batch."""
    _, group, counts = np.unique(groups, return_inverse=True, return_counts=True)
    order = shuffle.permutation(len(counts))  # the groups in their new order
    place = np.empty_like(order)
    place[order] = np.arange(len(order))
    rows = np.argsort(place[group], kind="stable")  # rows by their group's new place
    sizes = counts[order]
    starts = np.cumsum(sizes) - sizes
    # a group goes to the batch its first row falls in; a batch's groups are numbered from 0
    _, first, batch = np.unique(starts // batch_size, return_index=True, return_inverse=True)
    local = np.repeat(np.arange(len(sizes)) - first[batch], sizes)
    edges = np.r_[starts[first], len(rows)]
    for begin, end in zip(edges[:-1], edges[1:], strict=True):
        yield rows[begin:end], local[begin:end]


def network_logits(network, features: np.ndarray) -> np.ndarray:
    """The output layer's input to its sigmoid, for scaled ``features`` (float64, in numpy).

    In slices of ``LOGIT_ROWS`` rows, each hidden layer's bias and ReLU applied in place: all at once,
    the 200,000 calibration pairs made fresh 200 MB arrays at every layer, which cost about a second a
    call in training (BENCHMARKS, "Recommender at catalogue scale"). Networks merged into one
    (``merge_networks``) go block by block (``explain.network_blocks``), so the zeros of their
    block-diagonal layers are not multiplied.
    """
    weights, biases, _ = network_layers(network)
    blocks = network_blocks(weights, biases)
    logits = np.zeros(len(features), dtype=np.float64)
    for start in range(0, len(features), LOGIT_ROWS):
        rows = features[start : start + LOGIT_ROWS].astype(np.float64)
        for block_weights, block_biases in blocks:
            hidden = rows
            for kernel, bias in zip(block_weights[:-1], block_biases[:-1], strict=True):
                hidden = hidden @ kernel
                hidden += bias
                np.maximum(hidden, 0.0, out=hidden)
            logits[start : start + LOGIT_ROWS] += (hidden @ block_weights[-1] + block_biases[-1]).ravel()
    return logits


def calibrate_output(network, features: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Rescale the output so that it is the purchase probability of pairs drawn as ``features`` are.

    Training sees every positive and only a sample of the negatives, and the listwise term moves each
    customer's logits together, so the raw output overstates the chance of a purchase. A logistic fit
    of the labels on the logit (Platt scaling, ``a * logit + b``) is folded into the output layer:
    with ``a > 0`` every customer's order of products is unchanged. Returns (a, b); a fit that would
    not keep the order leaves the network as it was.
    """
    if len(labels) == 0 or labels.min() == labels.max():
        return 1.0, 0.0
    logits = network_logits(network, features)
    fit = LogisticRegression(C=1e6, max_iter=200).fit(logits[:, None], labels > 0)
    scale, shift = float(fit.coef_[0, 0]), float(fit.intercept_[0])
    if not np.isfinite(scale) or not np.isfinite(shift) or scale <= 0:
        return 1.0, 0.0
    output = network.layers[-1]
    kernel, bias = output.get_weights()
    output.set_weights([kernel * scale, bias * scale + shift])
    return scale, shift


def grouped_ndcg(
    scores: np.ndarray,
    labels: np.ndarray,
    customer: np.ndarray,
    relevant_per_customer: dict[int, int],
    k: int,
) -> float:
    """Mean NDCG@k over customers, ranking only their candidates (relevant ones outside count as missed)."""
    if len(scores) == 0:
        return 0.0
    order = np.lexsort((-scores, customer))
    customer, labels = customer[order], labels[order]
    starts = np.r_[0, np.flatnonzero(np.diff(customer)) + 1]
    position = np.arange(len(customer)) - np.repeat(starts, np.diff(np.r_[starts, len(customer)]))
    in_top = position < k
    gain = np.where(in_top & (labels > 0), 1.0 / np.log2(position + 2.0), 0.0)
    dcg = np.add.reduceat(gain, starts)
    owners = customer[starts]
    discounts = np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))
    relevant = np.array([relevant_per_customer.get(int(owner), 0) for owner in owners])
    ideal = np.where(relevant > 0, discounts[np.minimum(relevant, k) - 1], 1.0)
    total = sum(1 for value in relevant_per_customer.values() if value > 0)
    return float((dcg / ideal).sum() / max(total, 1))


@dataclass
class FittedNetwork:
    network: object
    mean: np.ndarray
    std: np.ndarray
    epochs: int
    validation_ndcg: list[float]
    rows: int
    positives: int
    seconds: float = 0.0
    # the uniform sample of raw pairs (features, labels) the output was calibrated on
    calibration: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)


def fit_network(
    train: list[Samples],
    validation: Samples | None,
    config: TrainConfig,
    *,
    epochs: int | None = None,
    progress: Progress | None = None,
) -> FittedNetwork:
    """Train on ``train``; with ``validation``, stop when its NDCG stops improving and keep the best epoch.

    The output is calibrated at the end (``calibrate_output``), so it reads as a purchase probability.
    """
    tf = _tf()
    seed_everything(config.seed)
    x = np.concatenate([samples.features for samples in train])
    y = np.concatenate([samples.labels for samples in train])
    if len(x) == 0 or y.sum() == 0:
        raise ValueError("not enough purchases to learn from: no customer bought again in the label windows")
    # a group is one customer in one window: the windows' customer indices, made distinct
    offsets = np.cumsum([0] + [int(samples.customer.max(initial=-1)) + 1 for samples in train])
    groups = np.concatenate(
        [samples.customer + offset for samples, offset in zip(train, offsets[:-1], strict=True)]
    )
    budget_rng = np.random.default_rng([config.seed, 1])
    keep = within_row_budget(y, config.max_training_rows, budget_rng)
    # a uniform sample of every pair, negatives not sampled down, to calibrate the output on
    calibration = np.sort(budget_rng.choice(len(y), min(len(y), CALIBRATION_ROWS), replace=False))
    x_calibration, y_calibration = x[calibration], y[calibration]
    x, y, groups = x[keep], y[keep], groups[keep]
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std < 1e-6] = 1.0
    x = (x - mean) / std
    network = build_network(x.shape[1], config)
    train_step = _train_step(network, config)
    x_tensor = tf.constant(x, dtype=tf.float32)
    y_tensor = tf.constant(y, dtype=tf.float32)
    shuffle = np.random.default_rng(config.seed)
    total = epochs or config.epochs
    scores_by_epoch: list[float] = []
    best_weights, best_epoch, best = None, 0, -1.0
    began = time.monotonic()
    for epoch in range(1, total + 1):
        for rows, customers in customer_batches(groups, config.batch_size, shuffle):
            batch = tf.constant(rows)
            train_step(tf.gather(x_tensor, batch), tf.gather(y_tensor, batch), tf.constant(customers))
        if validation is not None:
            predicted = predict(network, (validation.features - mean) / std, config.batch_size * 4)
            ndcg = grouped_ndcg(
                predicted,
                validation.labels,
                validation.customer,
                validation.relevant_per_customer,
                config.top_k,
            )
            scores_by_epoch.append(round(ndcg, 5))
            if ndcg > best:
                best, best_epoch, best_weights = ndcg, epoch, network.get_weights()
            message = f"epoch {epoch}/{total}: validation NDCG@{config.top_k} {ndcg:.4f}"
        else:
            best_epoch = epoch
            message = f"epoch {epoch}/{total}"
        if progress:
            progress(epoch / total, message)
        if validation is not None and epoch - best_epoch >= config.patience:
            break
    if best_weights is not None:
        network.set_weights(best_weights)
    calibrate_output(network, (x_calibration - mean) / std, y_calibration)
    return FittedNetwork(
        network=network,
        mean=mean.astype(np.float32),
        std=std.astype(np.float32),
        epochs=best_epoch,
        validation_ndcg=scores_by_epoch,
        rows=len(x),
        positives=int(y.sum()),
        seconds=time.monotonic() - began,
        calibration=(x_calibration, y_calibration),
    )


def fit_networks(
    train: list[Samples],
    config: TrainConfig,
    *,
    epochs: int,
    first: FittedNetwork | None = None,
    progress: Progress | None = None,
) -> FittedNetwork:
    """``config.networks`` networks trained on ``train`` for ``epochs``, merged into one (one network
    needs no merge). The k-th takes the seed ``config.seed + k * ENSEMBLE_SEED_STEP``, so its weights,
    negative sample and batches are its own; ``first``, already trained, stands in for the 0th."""
    count = config.networks
    parts = [] if first is None else [first]
    for index in range(len(parts), count):

        def report(fraction: float, message: str, done: int = index) -> None:
            if progress:
                progress(
                    (done + fraction) / count,
                    f"network {done + 1}/{count}: {message}" if count > 1 else message,
                )

        seeded = dataclasses.replace(config, seed=config.seed + index * ENSEMBLE_SEED_STEP)
        parts.append(fit_network(train, None, seeded, epochs=epochs, progress=report))
    return parts[0] if count == 1 else merge_networks(parts, config)


def merge_networks(parts: list[FittedNetwork], config: TrainConfig) -> FittedNetwork:
    """One network whose logit is the mean of the parts' logits, then calibrated.

    The parts have the same hidden sizes and inputs. The first layer's kernels sit side by side, each
    part's own input scaling folded into its columns so that all read the first part's scaling; the
    later layers are block-diagonal, and the output layer takes the mean. The result is again one
    chain of Dense layers, so scoring, the saved artifact and the explanations' exact walk read it
    as they read one network.
    """
    first = parts[0]
    mean, std = first.mean.astype(np.float64), first.std.astype(np.float64)
    kernels, biases = [], []
    for part in parts:
        weights, bias, _ = network_layers(part.network)
        # the part's input, (x - its mean) / its std, written in the first part's scaled input
        ratio = std / part.std.astype(np.float64)
        shift = (mean - part.mean.astype(np.float64)) / part.std.astype(np.float64)
        kernels.append([weights[0] * ratio[:, None], *weights[1:]])
        biases.append([bias[0] + shift @ weights[0], *bias[1:]])
    depth = len(kernels[0])
    merged_kernels = [np.hstack([kernel[0] for kernel in kernels])]
    for layer in range(1, depth - 1):
        merged_kernels.append(scipy.linalg.block_diag(*[kernel[layer] for kernel in kernels]))
    merged_kernels.append(np.vstack([kernel[-1] for kernel in kernels]) / len(parts))
    merged_biases = [np.concatenate([bias[layer] for bias in biases]) for layer in range(depth - 1)]
    merged_biases.append(np.mean([bias[-1] for bias in biases], axis=0))
    sizes = [kernel.shape[1] for kernel in merged_kernels[:-1]]
    network = build_network(len(mean), dataclasses.replace(config, hidden_layers=tuple(sizes)))
    dense = [layer for layer in network.layers if type(layer).__name__ == "Dense"]
    for layer, kernel, bias in zip(dense, merged_kernels, merged_biases, strict=True):
        layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    x_calibration, y_calibration = first.calibration
    calibrate_output(network, (x_calibration - mean) / std, y_calibration)
    return dataclasses.replace(first, network=network, seconds=sum(part.seconds for part in parts))


def predict(network, features: np.ndarray, batch_size: int = 8192) -> np.ndarray:
    if len(features) == 0:
        return np.zeros(0, dtype=np.float32)
    tf = _tf()
    outputs = []
    for start in range(0, len(features), batch_size * 16):
        block = tf.convert_to_tensor(features[start : start + batch_size * 16], dtype=tf.float32)
        outputs.append(network(block, training=False).numpy().ravel())
    return np.concatenate(outputs)


def training_cutoffs(cutoff: np.datetime64, period: np.timedelta64, windows: int) -> list[np.datetime64]:
    """Cutoffs of the label windows before ``cutoff``, most recent first: [c - P, c - 2P, ...]."""
    return [cutoff - period * (index + 1) for index in range(windows)]


def choose_period(order_lines: pd.DataFrame, cutoff: np.datetime64, config: TrainConfig) -> np.timedelta64:
    """The configured period, shortened when the data before ``cutoff`` cannot hold enough windows."""
    first = order_lines["ordered_at"].min()
    span_days = float((cutoff - np.datetime64(first, "ns")) / DAY) if len(order_lines) else 0.0
    # the windows plus at least two periods of history before the earliest one
    fits = span_days / (config.training_windows + 1 + 2)
    days = max(min(float(config.period_days), fits), float(config.min_period_days))
    return np.timedelta64(int(round(days * 86400)), "s").astype("timedelta64[ns]")


@dataclass
class WindowCache:
    """Histories and label-window samples one training run has built, by their cutoffs.

    Valid for one set of cleaned frames only. A History at cutoff c reads the lines before c and a
    window's labels the lines inside it, so the held-out run (lines before its cutoff) and the
    served run (all lines) share every window that ends by the held-out cutoff, and the History
    at that cutoff: building them once halves the feature work of ``train_recommender``.
    """

    histories: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict)


def cached_history(
    cache: WindowCache | None,
    *,
    order_lines: pd.DataFrame,
    products: pd.DataFrame,
    customers: pd.DataFrame,
    events: pd.DataFrame,
    cutoff: np.datetime64,
    config: TrainConfig,
    keep: bool = True,
) -> History:
    """The History at ``cutoff`` from ``cache`` or built (and kept there when ``keep``)."""
    cutoff = np.datetime64(cutoff, "ns")
    if cache is not None and cutoff in cache.histories:
        return cache.histories[cutoff]
    history = build_history(
        order_lines=order_lines,
        products=products,
        customers=customers,
        events=events,
        cutoff=cutoff,
        neighbours=config.neighbours,
        popular_days=config.popular_days,
    )
    if cache is not None and keep:
        cache.histories[cutoff] = history
    return history


@dataclass
class MlpRanker:
    """The trained network over a History: scores candidate pairs and ranks them."""

    history: History
    network: object
    mean: np.ndarray
    std: np.ndarray
    config: TrainConfig

    name = "mlp"

    def score(self, candidates: Candidates) -> np.ndarray:
        features = (pair_features(self.history, candidates) - self.mean) / self.std
        return predict(self.network, features, self.config.batch_size * 4)

    def top_k(
        self,
        customers: np.ndarray,
        *,
        k: int,
        allowed: np.ndarray,
        exclude_bought: bool,
        min_new_items: int = 0,
        new_item_weight: float = 1.0,
    ) -> np.ndarray:
        """Each customer's ``k`` best candidates; ``min_new_items`` and ``new_item_weight`` as in
        ``recommend`` (served lists)."""
        if exclude_bought:
            result = np.full((len(customers), k), -1, dtype=np.int64)
            for start, row, candidates, scores in self._scored_chunks(
                customers, allowed, exclude_bought=True
            ):
                self._place(result, start, row, candidates.product, scores, k=k)
            return result
        return self.served_tops(
            customers, k=k, allowed=allowed, min_new_items=min_new_items, weights=(new_item_weight,)
        )[new_item_weight]

    def served_tops(
        self,
        customers: np.ndarray,
        *,
        k: int,
        allowed: np.ndarray,
        min_new_items: int,
        weights: tuple[float, ...],
    ) -> dict[float, np.ndarray]:
        """The served lists (bought products allowed) of ``customers`` at each ``new_item_weight`` of
        ``weights``, the network scoring each candidate once: ``{weight: top}`` as ``top_k`` gives it."""
        results = {weight: np.full((len(customers), k), -1, dtype=np.int64) for weight in weights}
        for start, row, candidates, scores in self._scored_chunks(customers, allowed, exclude_bought=False):
            keys = candidates.customer * self.history.n_products + candidates.product
            is_new = ~_lookup(self.history.pair_keys, keys)[1]
            for weight in weights:
                self._place(
                    results[weight],
                    start,
                    row,
                    candidates.product,
                    new_item_order(scores, is_new, weight),
                    k=k,
                    is_new=is_new if min_new_items > 0 else None,
                    min_new_items=min_new_items,
                )
        return results

    def _scored_chunks(self, customers: np.ndarray, allowed: np.ndarray, *, exclude_bought: bool):
        """(first customer's place, each candidate's row among ``customers``, candidates, scores)."""
        chunks = candidates_in_chunks(
            self.history, customers, self.config, allowed=allowed, exclude_bought=exclude_bought
        )
        for start, chunk, candidates in chunks:
            row = (
                np.searchsorted(chunk, candidates.customer)
                if _is_sorted(chunk)
                else pd.Index(chunk).get_indexer(candidates.customer)
            )
            yield start, row, candidates, self.score(candidates)

    def _place(
        self,
        result: np.ndarray,
        start: int,
        row: np.ndarray,
        product: np.ndarray,
        scores: np.ndarray,
        *,
        k: int,
        is_new: np.ndarray | None = None,
        min_new_items: int = 0,
    ) -> None:
        """Write each row's ``k`` best products by ``scores`` (ties by popularity) into ``result``,
        keeping ``min_new_items`` never-bought ones (``is_new``) in a served list's first places."""
        order = np.lexsort((-self.history.popularity[product], -scores, row))
        row, product = row[order], product[order]
        if is_new is not None and min_new_items > 0:
            kept = served_order(row, is_new[order], top_n=k, min_new=min_new_items)
            row, product = row[kept], product[kept]
        position = position_in_row(row)
        top = position < k
        result[start + row[top], position[top]] = product[top]


def _is_sorted(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] > values[:-1]))


def fit_mlp(
    *,
    order_lines: pd.DataFrame,
    products: pd.DataFrame,
    customers: pd.DataFrame,
    events: pd.DataFrame,
    cutoff: np.datetime64,
    config: TrainConfig,
    epochs: int | None = None,
    progress: Progress | None = None,
    cache: WindowCache | None = None,
) -> tuple[MlpRanker, FittedNetwork, dict]:
    """Learn the ranker from label windows before ``cutoff`` and return it over the History at ``cutoff``.

    Without ``epochs`` the most recent window before the cutoff is the validation window (early
    stopping) and the ones before it train; the networks after it train ``config.refit_epochs_factor``
    times the epoch it chose. With ``epochs`` every window trains for that many epochs.
    ``cache`` shares Histories and windows with another run on the same frames (see ``WindowCache``).
    """

    def report(fraction: float, message: str) -> None:
        if progress:
            progress(min(max(fraction, 0.0), 1.0), message)

    cutoff = np.datetime64(cutoff, "ns")
    rng = np.random.default_rng(config.seed)
    period = choose_period(order_lines, cutoff, config)
    validate = epochs is None
    window_count = config.training_windows + (1 if validate else 0)
    cutoffs = training_cutoffs(cutoff, period, window_count)
    samples: list[Samples] = []
    features_began = time.monotonic()
    for index, window_cutoff in enumerate(cutoffs):
        report(0.4 * index / len(cutoffs), f"building features for window {index + 1}/{len(cutoffs)}")
        is_validation = validate and index == 0
        sampled = not is_validation and config.negative_share < 1
        key = (window_cutoff, window_cutoff + period, sampled)
        window = cache.samples.get(key) if cache is not None else None
        if window is None:
            history = cached_history(
                cache,
                order_lines=order_lines,
                products=products,
                customers=customers,
                events=events,
                cutoff=window_cutoff,
                config=config,
                keep=False,
            )
            window = window_samples(
                order_lines, history, window_cutoff + period, config, rng, sample_negatives=not is_validation
            )
            if cache is not None:
                cache.samples[key] = window
        samples.append(window)
    features_seconds = time.monotonic() - features_began
    validation = samples[0] if validate else None
    train = [window for window in (samples[1:] if validate else samples) if len(window.labels)]
    if not train:
        days = int(period / np.timedelta64(1, "D"))
        raise ValueError(
            f"not enough order history before the cutoff {str(cutoff)[:10]} to build a training window: "
            f"none of the {len(cutoffs) - int(validate)} windows of {days} days before it holds a "
            "purchase (orders placed long after the rest of the history move the cutoff to them)"
        )
    chosen, kept = None, None
    if validate:
        # the early stopping's share of the progress: half, when no network is trained after it
        share = 0.25 if config.refit_on_validation_window or config.networks > 1 else 0.5
        chosen = fit_network(
            train,
            validation,
            config,
            progress=lambda fraction, message: report(0.4 + share * fraction, message),
        )
        epochs = max(1, round(chosen.epochs * config.refit_epochs_factor))
        if config.refit_on_validation_window:
            # those epochs again from scratch, now also on the most recent window
            report(0.65, "training again with the most recent window")
            train = [_keep_share_of_negatives(validation, config.negative_share, rng), *train]
        else:
            kept = chosen  # the early-stopped network is the first of the ensemble
    begin = 0.4 + share if validate else 0.4
    fitted = fit_networks(
        train,
        config,
        epochs=epochs,
        first=kept,
        progress=lambda fraction, message: report(begin + (0.9 - begin) * fraction, message),
    )
    if chosen is not None:
        fitted.validation_ndcg = chosen.validation_ndcg
    report(0.95, "building features at the cutoff")
    history = cached_history(
        cache,
        order_lines=order_lines,
        products=products,
        customers=customers,
        events=events,
        cutoff=cutoff,
        config=config,
    )
    info = {
        "period_days": round(float(period / DAY), 3),
        "window_cutoffs": [str(np.datetime_as_string(value, unit="s")) for value in cutoffs],
        "training_rows": fitted.rows,
        "training_positives": fitted.positives,
        "epochs": epochs,  # what the networks trained
        "early_stopping_epoch": chosen.epochs if chosen is not None else None,
        "validation_ndcg_by_epoch": fitted.validation_ndcg,
        "networks": config.networks,
        # the early-stopped network's time, unless it is part of ``fitted`` (and counted there)
        "network_seconds": round(fitted.seconds + (chosen.seconds if chosen and not kept else 0.0), 2),
        "features_seconds": round(features_seconds, 2),
    }
    ranker = MlpRanker(
        history=history, network=fitted.network, mean=fitted.mean, std=fitted.std, config=config
    )
    return ranker, fitted, info
