"""Which inputs drove a recommendation's score: integrated gradients of the MLP over its named features.

What is explained. The network's output for a pair, the sigmoid purchase probability, which is the
number stored as ``Recommendation.score``. The contributions add up to it:
``base + sum(contributions) = output``; what is left (``residual``) is float rounding, reported per pair.

Over which inputs. The features that ``features.pair_features`` produces, one per name in
``FEATURE_NAMES``. The network sees them standardized outside it, ``z = (x - mean) / std`` with the
training mean and spread (``MlpRanker.score``). Integrated gradients do not change under such a
per-feature affine map (``(x - x') * df/dx = (z - z') * df/dz``), so the path is walked in the
standardized space the network sees and each contribution belongs to the raw feature of that name.

The baseline. The training mean of every feature, which is the all-zeros standardized input: the same
point twice over. A contribution then reads "compared with an average candidate pair the model learnt
from", which a person can follow, and a feature that sits at its mean contributes exactly nothing. The
all-zeros *raw* input would be no real pair (no buyers, sold for zero days, a price of 1). ``base`` is
the network's output at the baseline, the same for every pair of a model.

The integral, exactly. ``IG_i = (z_i - z'_i) * integral over a in [0, 1] of df/dz_i(z' + a (z - z'))``.
The network is Dense layers with ReLU under a sigmoid output, so along the straight path its logit is
piecewise linear: it bends only where a hidden unit switches on or off. ``integrated_gradients`` walks
the path from one switch to the next (each unit's pre-activation is linear in ``a`` until some unit
upstream switches), and on each piece the gradient of the logit ``g`` is constant, so the piece adds
``(z_i - z'_i) * g_i * (sigmoid(l_end) - sigmoid(l_start)) / (g . (z - z'))``: the pieces sum to the
integral with no quadrature error, and their total is ``f(z) - f(z')`` by construction. A Riemann sum
over evenly spaced steps converges to the same numbers only slowly here, because of the bends (64 steps
left residuals up to 5e-3 on a small trained shop, 1,024 steps 5e-4);
``riemann_integrated_gradients`` is kept as that cross-check and for networks of other shapes.

Networks side by side. Several networks merged into one (``model.merge_networks``: an ensemble whose
logit is their mean) are blocks of units that share nothing before the output. Walked as one network,
every path bends wherever any block's unit switches, and each bend updates every block: three blocks
took about three times the bends at three times the work each. ``network_blocks`` finds the blocks in
the weights, and each is followed on its own, then weighed by the whole logit (``_walk_blocks``): the
same numbers, at about the cost of walking the blocks as separate networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import expit
from threadpoolctl import threadpool_limits

from recommender.ml.features import FEATURE_NAMES, History, top_per_row

# Pairs walked together: the walk holds about 8 kB per pair (each hidden unit's rate, crossing point,
# state and gradient), so 4,096 pairs take about 35 MB whatever the number of pairs explained. A network
# of blocks walks this many divided by its blocks, each pair's path kept (about 60 bytes a bend).
PAIRS_PER_BATCH = 4096
WALK_BLAS_THREADS = 1
RIEMANN_STEPS = 64
# Path points per gradient call of the Riemann sum: 65,536 points of 43 inputs through a 128-64-32
# network hold about 120 MB of activations and gradients.
POINTS_PER_BATCH = 65_536
CO_PURCHASE_SOURCES = 3  # bought products named per recommendation


@dataclass(frozen=True)
class FeatureGroup:
    key: str
    label: str
    features: tuple[str, ...]


# Every feature in exactly one group, in words a marketer uses; a group's contribution is the sum of
# its features' contributions, so the groups add up as the features do.
FEATURE_GROUPS: tuple[FeatureGroup, ...] = (
    FeatureGroup(
        "repeat_buying",
        "Buys this product again and again",
        (
            "times_bought",
            "quantity_bought",
            "decayed_orders_30d",
            "decayed_orders_90d",
            "orders_last_30d",
            "orders_last_90d",
            "share_of_customer_orders",
            "usual_gap_days",
            "bought_before",
        ),
    ),
    FeatureGroup(
        "recency",
        "When they last bought it (and whether it is due again)",
        ("days_since_last_bought", "days_since_first_bought", "days_since_last_vs_usual_gap"),
    ),
    FeatureGroup(
        "co_purchase",
        "Bought with products they bought",
        ("co_purchase_score", "co_purchase_vs_best"),
    ),
    FeatureGroup(
        "behaviour",
        "Recent views, baskets, wishlist and clicks",
        ("views_last_30d", "carts_last_30d", "wishlisted", "recommendation_clicks_last_30d"),
    ),
    FeatureGroup(
        "popularity",
        "Product popularity and trend",
        (
            "buyers_all_time",
            "buyers_last_30d",
            "buyers_last_90d",
            "trend",
            "product_age_days",
            "product_repeat_rate",
            "product_new_buyer_share_90d",
        ),
    ),
    FeatureGroup("country", "Popular in their country", ("country_popularity", "country_lift")),
    FeatureGroup("price", "Price (and against what they usually pay)", ("price", "price_vs_customer_usual")),
    FeatureGroup("category", "Their spending in this category", ("category_share_of_spend",)),
    FeatureGroup(
        "name_words",
        "Like what they buy (words in its name)",
        ("name_affinity", "name_affinity_recent", "name_words_trend"),
    ),
    FeatureGroup(
        "customer",
        "The customer's profile (orders, tenure, last order, how often they buy something new)",
        (
            "customer_orders",
            "customer_days_since_last_order",
            "customer_distinct_products",
            "customer_orders_last_90d",
            "customer_tenure_days",
            "customer_novelty_90d",
            "customer_novelty_all",
        ),
    ),
    FeatureGroup(
        "candidate_source",
        "How it was found (co-purchase, country or popular list)",
        ("from_co_purchase", "from_country_popular", "from_popular"),
    ),
)
GROUP_KEYS = tuple(group.key for group in FEATURE_GROUPS)
GROUP_LABELS = {group.key: group.label for group in FEATURE_GROUPS}


def group_membership() -> np.ndarray:
    """features x groups, 1 where the feature belongs to the group."""
    membership = np.zeros((len(FEATURE_NAMES), len(FEATURE_GROUPS)), dtype=np.float64)
    for column, group in enumerate(FEATURE_GROUPS):
        for name in group.features:
            membership[FEATURE_NAMES.index(name), column] = 1.0
    return membership


def group_contributions(contributions: np.ndarray) -> np.ndarray:
    """Per-feature contributions (pairs x features) summed into groups (pairs x ``FEATURE_GROUPS``)."""
    return np.asarray(contributions, dtype=np.float64) @ group_membership()


@dataclass
class Attributions:
    """Integrated gradients of a batch of pairs: ``base + contributions.sum(1) + residual = output``."""

    base: float  # the network's output at the baseline
    output: np.ndarray  # the network's output per pair (as it scores it)
    contributions: np.ndarray  # pairs x inputs
    pieces: np.ndarray  # linear pieces of the path per pair (1 + the switches crossed); 0 for a Riemann sum

    @property
    def residual(self) -> np.ndarray:
        return self.output - self.base - self.contributions.sum(axis=1)


def _tf():
    import tensorflow as tf

    return tf


def network_layers(network) -> tuple[list[np.ndarray], list[np.ndarray], str]:
    """The weights and biases of a Keras network of Dense layers (ReLU hidden layers, one sigmoid or
    linear output; Dropout, inactive when scoring, between them), in float64, and the output's
    activation. Anything else is refused: the exact walk is only exact for this shape."""
    weights, biases, activations = [], [], []
    for layer in network.layers:
        kind = type(layer).__name__
        if kind in ("InputLayer", "Dropout"):
            continue
        if kind != "Dense":
            raise ValueError(f"cannot walk a network with a {kind} layer")
        kernel, bias = layer.get_weights()
        weights.append(kernel.astype(np.float64))
        biases.append(bias.astype(np.float64))
        activations.append(layer.activation.__name__)
    if len(weights) < 2 or weights[-1].shape[1] != 1:
        raise ValueError("the network needs hidden layers and a single output")
    if any(activation != "relu" for activation in activations[:-1]):
        raise ValueError(f"hidden activations must be ReLU, got {activations[:-1]}")
    if activations[-1] not in ("sigmoid", "linear"):
        raise ValueError(f"the output activation must be sigmoid or linear, got {activations[-1]}")
    return weights, biases, activations[-1]


def _network_outputs(network, inputs: np.ndarray, batch_size: int = 65_536) -> np.ndarray:
    tf = _tf()
    outputs = [
        network(tf.constant(inputs[start : start + batch_size], dtype=tf.float32), training=False)
        .numpy()
        .ravel()
        for start in range(0, len(inputs), batch_size)
    ]
    return np.concatenate(outputs).astype(np.float64) if outputs else np.zeros(0, dtype=np.float64)


def integrated_gradients(
    network, inputs: np.ndarray, baseline: np.ndarray, *, pairs_per_batch: int = PAIRS_PER_BATCH
) -> Attributions:
    """Exact integrated gradients of ``network``'s output at each row of ``inputs`` (what the network
    takes, pairs x inputs) from ``baseline`` (one input row), by walking the path's linear pieces.

    ``output`` and ``base`` are the network's own outputs (TensorFlow, float32); the walk runs in
    float64 from the network's weights, so the residual is the float32 rounding of the network. A
    network made of independent blocks (``network_blocks``) is walked one block at a time.
    """
    weights, biases, activation = network_layers(network)
    inputs = np.asarray(inputs, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64).reshape(-1)
    if inputs.ndim != 2 or baseline.shape != (inputs.shape[1],) or weights[0].shape[0] != len(baseline):
        raise ValueError(
            f"the network takes {weights[0].shape[0]} inputs; got pairs of shape {inputs.shape} "
            f"and a baseline of {baseline.shape[0]}"
        )
    blocks = network_blocks(weights, biases)
    contributions = np.zeros(inputs.shape, dtype=np.float64)
    pieces = np.zeros(len(inputs), dtype=np.int64)
    # a batch of a network of blocks walks each pair once per block
    batch = max(1, pairs_per_batch // len(blocks))
    weigh = _sigmoid_piece if activation == "sigmoid" else _linear_piece
    # One BLAS thread: the walk's products are small (a batch of pairs by a block's units), so a second
    # thread only spins. On 2 cores it took twice the CPU for no less wall time (BENCHMARKS,
    # "Recommender explanations"), and a worker's processes share the cores.
    with threadpool_limits(WALK_BLAS_THREADS, user_api="blas"):
        for start in range(0, len(inputs), batch):
            rows = slice(start, start + batch)
            if len(blocks) == 1:
                contributions[rows], pieces[rows] = _walk(weights, biases, inputs[rows], baseline, weigh)
            else:
                contributions[rows], pieces[rows] = _walk_blocks(blocks, activation, inputs[rows], baseline)
    return Attributions(
        base=float(_network_outputs(network, baseline[None, :])[0]),
        output=_network_outputs(network, inputs),
        contributions=contributions,
        pieces=pieces,
    )


def network_blocks(
    weights: list[np.ndarray], biases: list[np.ndarray]
) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:
    """The network split into blocks of hidden units that share no weight before the output (as
    ``model.merge_networks`` writes several networks as one), each a (weights, biases) network of its
    own that reads the same inputs; the output's bias goes with the first, so the blocks' logits add
    up to the network's. A network that is not so made is one block, itself.

    Walking the blocks apart is what makes the walk of such a network cheap: a unit switching in one
    block changes nothing in the others, so each block's path has only its own bends and each bend
    costs only its block's work.
    """
    whole = [(weights, biases)]
    hidden = len(weights) - 1
    if hidden < 2:  # one hidden layer: every unit would be a block of its own
        return whole
    sizes = [kernel.shape[1] for kernel in weights[:-1]]
    offsets = np.cumsum([0, *sizes])
    sources, targets = [], []
    for layer in range(1, hidden):
        source, target = np.nonzero(weights[layer])
        sources.append(source + offsets[layer - 1])
        targets.append(target + offsets[layer])
    source, target = np.concatenate(sources), np.concatenate(targets)
    links = coo_matrix((np.ones(len(source)), (source, target)), shape=(offsets[-1], offsets[-1]))
    count, label = connected_components(links, directed=False)
    if count < 2:
        return whole
    blocks = []
    for block in range(count):
        units = [np.flatnonzero(label[offsets[k] : offsets[k + 1]] == block) for k in range(hidden)]
        if any(not len(unit) for unit in units):  # a unit cut off from the layers around it
            return whole
        block_weights = [weights[0][:, units[0]]]
        block_weights += [weights[k][np.ix_(units[k - 1], units[k])] for k in range(1, hidden)]
        block_weights.append(weights[-1][units[-1]])
        block_biases = [biases[k][units[k]] for k in range(hidden)]
        block_biases.append(biases[-1] if not blocks else np.zeros_like(biases[-1]))
        blocks.append((block_weights, block_biases))
    return blocks


def _sigmoid_integral(start: np.ndarray, rate: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The integral of sigmoid'(logit) along a piece of length ``step`` over which the logit is the line
    ``start + a * rate``: (sigmoid(end) - sigmoid(start)) / rate, or its limit when the logit is flat."""
    rise = step * rate
    small = np.abs(rise) < 1e-7
    middle = start + rise / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            small,
            expit(middle) * expit(-middle) * step,
            (expit(start + rise) - expit(start)) / np.where(small, 1.0, rate),
        )


def _sigmoid_piece(owner, position, end, logit_start, logit_rate) -> np.ndarray:
    """A piece's weight for a network's sigmoid output, its own logit along the piece."""
    return _sigmoid_integral(logit_start, logit_rate, end - position)


def _linear_piece(owner, position, end, logit_start, logit_rate) -> np.ndarray:
    """A piece's weight for a linear output: its length."""
    return end - position


def _walk_blocks(
    blocks: list[tuple[list[np.ndarray], list[np.ndarray]]], activation: str, inputs: np.ndarray, baseline
) -> tuple[np.ndarray, np.ndarray]:
    """(contributions, pieces) of a batch through a network of independent blocks, one block at a time.

    The network's logit is the sum of the blocks' logits, so a contribution is the sum over the blocks
    of the integral of (the block's gradient) x sigmoid'(the whole logit): each block's path has only
    its own bends, but its pieces are weighed by the whole logit. So each block's path is first
    followed without gradients, recording its pieces and which unit switched where; the blocks' logits
    then give each path's whole logit as a broken line through all their bends, and the integral ``F``
    of sigmoid' along it; and each block's switches are replayed for the gradients alone, each piece
    weighed by ``F(end) - F(start)`` (with a linear output, by its length).
    """
    n = len(inputs)
    paths = [_follow(weights, biases, inputs, baseline) for weights, biases in blocks]
    pieces_of = [path.pieces() for path in paths]
    # every piece's start, and each path's end: a pair's path from a = 0 to 1 sits at 2 * pair + a
    located, logits = [], []
    for owner, start, end, logit_start, logit_rate in pieces_of:
        last = end == 1.0
        owner = np.concatenate([owner, owner[last]])
        at = np.concatenate([start, end[last]])
        logit = np.concatenate([logit_start, (logit_start + (end - start) * logit_rate)[last]])
        order = np.lexsort((at, owner))
        located.append(2.0 * owner[order] + at[order])
        logits.append(logit[order])
    points = np.unique(np.concatenate(located))
    whole = np.zeros(len(points))
    for place, logit in zip(located, logits, strict=True):
        whole += np.interp(points, place, logit)
    pair = np.floor(points / 2.0)
    same_path = pair[1:] == pair[:-1]
    length = np.where(same_path, np.diff(points), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(same_path, np.diff(whole) / np.where(length > 0, length, 1.0), 0.0)
    if activation == "sigmoid":
        integral = np.concatenate([[0.0], np.cumsum(_sigmoid_integral(whole[:-1], rate, length))])
    else:
        integral = np.concatenate([[0.0], np.cumsum(length)])

    def integral_at(owner: np.ndarray, position: np.ndarray) -> np.ndarray:
        """F at ``position`` along each ``owner``'s path: F at the point before, plus the rest."""
        place = 2.0 * owner + position
        before = np.clip(np.searchsorted(points, place, side="right") - 1, 0, len(points) - 2)
        ahead = place - points[before]
        if activation != "sigmoid":
            return integral[before] + ahead
        return integral[before] + _sigmoid_integral(whole[before], rate[before], ahead)

    contributions = np.zeros(inputs.shape, dtype=np.float64)
    for (weights, _), path, (owner, start, end, _, _) in zip(blocks, paths, pieces_of, strict=True):
        piece_weights = integral_at(owner, end) - integral_at(owner, start)
        contributions += _replay(weights, inputs, baseline, path, piece_weights)
    pieces = np.bincount(pair.astype(np.int64), minlength=n) - 1  # a path's points, less one
    return contributions, pieces


@dataclass
class _Path:
    """What following a batch's paths found: each hidden unit's state at the start (pairs x units per
    layer), then step by step the pieces walked (each row's pair, start, end, the logit's line along
    it) and, per hidden layer, the units that switched (pair, unit)."""

    on: list[np.ndarray] = field(default_factory=list)
    steps: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    switched: list[list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=list)

    def pieces(self) -> tuple[np.ndarray, ...]:
        """(pair, start, end, logit at the start, the logit's rate) of every piece, step after step."""
        return tuple(np.concatenate(column) for column in zip(*self.steps, strict=True))


def _path_start(weights, biases, baseline, direction):
    """Per hidden layer, every unit's line (level at a = 0 and rate), state and crossing ahead; and the
    logit's line, at the start of each path."""
    n, width = direction.shape
    level0, rate, on, crossing = [], [], [], []
    value, value_rate = np.broadcast_to(baseline, (n, width)), direction
    for k in range(len(weights) - 1):
        h = value @ weights[k] + biases[k]
        e = value_rate @ weights[k]
        unit_on = (h > 0) | ((h == 0) & (e > 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing.append(np.where(h * e < 0, -h / e, np.inf))
        level0.append(h)
        rate.append(e)
        on.append(unit_on)
        value, value_rate = h * unit_on, e * unit_on
    logit0 = value @ weights[-1][:, 0] + biases[-1][0]
    logit_rate = value_rate @ weights[-1][:, 0]
    return level0, rate, on, crossing, logit0, logit_rate


def _gradients_start(weights, on):
    """The logit's gradient with respect to each hidden layer's output (``upstream``) and pre-activation
    (``through``: upstream where the unit is on), for the states ``on``."""
    hidden = len(weights) - 1
    upstream, through = [None] * hidden, [None] * hidden
    gradient = np.tile(weights[-1][:, 0], (len(on[0]), 1))
    for k in range(hidden - 1, -1, -1):
        upstream[k] = gradient
        through[k] = gradient * on[k]
        if k:
            gradient = through[k] @ weights[k].T
    return upstream, through


def _switch_gradients(weights, upstream, through, on, k: int, r: np.ndarray, j: np.ndarray) -> None:
    """The gradients after unit ``j`` of layer ``k`` switched in rows ``r`` (``on`` already flipped):
    its own ``through``, then the layers before it."""
    through[k][r, j] = upstream[k][r, j] * on[k][r, j]
    if not k:
        return
    sign = np.where(on[k][r, j], 1.0, -1.0)
    gradient_change = (sign * upstream[k][r, j])[:, None] * weights[k][:, j].T
    for m in range(k - 1, -1, -1):
        upstream[m][r] += gradient_change
        masked = gradient_change * on[m][r]
        through[m][r] += masked
        if m:
            gradient_change = masked @ weights[m].T


def _follow(weights, biases, inputs: np.ndarray, baseline) -> _Path:
    """A batch's paths followed without gradients (``_walk``'s forward half), recorded for ``_replay``."""
    path = _Path()
    _walk(weights, biases, inputs, baseline, None, path=path)
    return path


def _replay(weights, inputs: np.ndarray, baseline, path: _Path, piece_weights: np.ndarray):
    """Contributions of a batch from a followed ``path``: its switches replayed for the gradients only,
    its pieces weighed by ``piece_weights`` (in ``path.pieces()``'s order)."""
    direction = inputs - baseline[None, :]
    on = [state.copy() for state in path.on]
    upstream, through = _gradients_start(weights, on)
    accumulated = np.zeros_like(through[0])
    done = 0
    for (owner, *_), switched in zip(path.steps, path.switched, strict=True):
        weight = piece_weights[done : done + len(owner)]
        done += len(owner)
        accumulated[owner] += weight[:, None] * through[0][owner]
        for k, (rows, units) in enumerate(switched):
            if len(rows):
                on[k][rows, units] = ~on[k][rows, units]
                _switch_gradients(weights, upstream, through, on, k, rows, units)
    return direction * (accumulated @ weights[0].T)


def _walk(
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    inputs: np.ndarray,
    baseline,
    weigh,
    *,
    path: _Path | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(contributions, pieces) of a batch: the path from ``baseline`` to each row, one piece at a time.

    Per pair and hidden unit the walk keeps the unit's pre-activation as a line in the path position
    ``a`` (``h = level0 + a * rate``), the ``a`` ahead where that line crosses zero (inf: none), and
    whether the unit is on; per pair the logit's line, and the gradient of the logit with respect to
    each hidden layer's output (``upstream``) and pre-activation (``through``: upstream where on). A
    step goes to the nearest crossing; the unit there switches, which changes the rates of the layers
    after it and the gradients of the layers before it, and only those are updated. Pairs that reached
    the end stay in the arrays, inert, until half of them have, and are then dropped.

    ``weigh(owner, start, end, logit_start, logit_rate)`` gives each piece's weight (the integral of
    the output's derivative along it; ``owner`` is each row's pair in the batch). Without it only the
    lines are followed (no gradients, contributions zero), and ``path`` records what was walked.
    """
    n, width = inputs.shape
    hidden = len(weights) - 1
    gradients = weigh is not None
    direction = inputs - baseline[None, :]
    level0, rate, on, crossing, logit0, logit_rate = _path_start(weights, biases, baseline, direction)
    if path is not None:
        path.on = [state.copy() for state in on]
    if gradients:
        upstream, through = _gradients_start(weights, on)
    else:
        upstream, through = [np.zeros((n, 0))] * hidden, [np.zeros((n, 0))] * hidden

    # sum over pieces of (the piece's weight) x (d logit / d first pre-activation), per row of the state
    accumulated = np.zeros_like(level0[0]) if gradients else np.zeros((n, 0))
    position = np.zeros(n)
    pieces = np.zeros(n, dtype=np.int64)
    owner = np.arange(n)  # the batch row of each state row
    contributions = np.zeros((n, width))
    counted = np.zeros(n, dtype=np.int64)
    guard = 50 * sum(kernel.shape[1] for kernel in weights[:-1]) + 10
    for _ in range(guard):
        walking = position < 1.0
        if not walking.any():
            break
        if walking.sum() < len(position) // 2:
            done = ~walking
            if gradients:
                contributions[owner[done]] = direction[owner[done]] * (accumulated[done] @ weights[0].T)
            counted[owner[done]] = pieces[done]
            for states in (level0, rate, on, crossing, upstream, through):
                states[:] = [state[walking] for state in states]
            accumulated, logit0, logit_rate = accumulated[walking], logit0[walking], logit_rate[walking]
            position, pieces, owner = position[walking], pieces[walking], owner[walking]
            walking = np.ones(len(position), dtype=bool)
        everyone = np.arange(len(position))
        # the nearest crossing ahead (every crossing kept is ahead): its layer and unit
        units = [layer_crossing.argmin(axis=1) for layer_crossing in crossing]
        nearest_by_layer = np.stack(
            [layer_crossing[everyone, unit] for layer_crossing, unit in zip(crossing, units, strict=True)],
            axis=1,
        )
        layer_of = nearest_by_layer.argmin(axis=1)
        nearest = nearest_by_layer[everyone, layer_of]
        switches = (nearest < 1.0) & walking
        end = np.where(switches, nearest, np.where(walking, 1.0, position))
        step = end - position

        # the piece [position, end]: the logit is a line along it, its gradient constant
        start = logit0 + position * logit_rate
        if gradients:
            accumulated += weigh(owner, position, end, start, logit_rate)[:, None] * through[0]
        if path is not None:
            ahead = step > 0
            path.steps.append((owner[ahead], position[ahead], end[ahead], start[ahead], logit_rate[ahead]))
            path.switched.append([])
        pieces += step > 0
        position = end

        # the unit at each crossing switches
        for k in range(hidden):
            mine = switches & (layer_of == k)
            if path is not None:
                path.switched[-1].append((owner[mine], units[k][mine]))
            if not mine.any():
                continue
            r = everyone[mine]
            j = units[k][mine]
            a = position[r]
            on[k][r, j] = ~on[k][r, j]
            level0[k][r, j] = -a * rate[k][r, j]
            crossing[k][r, j] = np.inf
            sign = np.where(on[k][r, j], 1.0, -1.0)
            # forward: the rates of the layers after it and of the logit
            change = (sign * rate[k][r, j])[:, None] * weights[k + 1][j, :]
            at = a[:, None]
            for m in range(k + 1, hidden):
                old_rate = rate[m][r]
                level_now = level0[m][r] + at * old_rate
                new_rate = old_rate + change
                level0[m][r] = level_now - at * new_rate
                rate[m][r] = new_rate
                unit_on = on[m][r]
                with np.errstate(divide="ignore", invalid="ignore"):
                    until = -level_now / new_rate
                ahead = np.where(until > 0, at + until, np.inf)
                # a unit on the wrong side of zero for its state (only ever by rounding, at zero) switches
                # at once
                wrong_way = np.where(unit_on, level_now < 0, level_now > 0)
                crossing[m][r] = np.where(wrong_way, at, ahead)
                change = (change * unit_on) @ weights[m + 1]
            logit_now = logit0[r] + a * logit_rate[r]
            logit_rate[r] += change[:, 0]
            logit0[r] = logit_now - a * logit_rate[r]
            # backward: the gradients of the layers before it
            if gradients:
                _switch_gradients(weights, upstream, through, on, k, r, j)
    if gradients:
        contributions[owner] = direction[owner] * (accumulated @ weights[0].T)
    counted[owner] = pieces
    return contributions, counted


def riemann_integrated_gradients(
    network,
    inputs: np.ndarray,
    baseline: np.ndarray,
    *,
    steps: int = RIEMANN_STEPS,
    points_per_batch: int = POINTS_PER_BATCH,
) -> Attributions:
    """Integrated gradients by the trapezoid rule over ``steps`` even steps of the path, gradients from
    TensorFlow: any differentiable network, at the price of a quadrature residual (see the module)."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    tf = _tf()
    inputs = np.asarray(inputs, dtype=np.float32)
    baseline = np.asarray(baseline, dtype=np.float32).reshape(-1)
    contributions = np.zeros(inputs.shape, dtype=np.float64)
    alphas = tf.linspace(0.0, 1.0, steps + 1)
    weights = tf.concat([[0.5], tf.ones(steps - 1), [0.5]], axis=0) / float(steps)
    rows_per_call = max(1, points_per_batch // (steps + 1))
    for start in range(0, len(inputs), rows_per_call):
        batch = tf.constant(inputs[start : start + rows_per_call])
        difference = batch - baseline[None, :]
        points = tf.reshape(
            baseline[None, None, :] + alphas[:, None, None] * difference[None, :, :], (-1, inputs.shape[1])
        )
        with tf.GradientTape() as tape:
            tape.watch(points)
            outputs = network(points, training=False)
        gradients = tf.reshape(tape.gradient(outputs, points), (steps + 1, -1, inputs.shape[1]))
        average = tf.tensordot(weights, gradients, axes=1)
        contributions[start : start + rows_per_call] = (difference * average).numpy()
    return Attributions(
        base=float(_network_outputs(network, baseline[None, :].astype(np.float64))[0]),
        output=_network_outputs(network, inputs),
        contributions=contributions,
        pieces=np.zeros(len(inputs), dtype=np.int64),
    )


def explain_features(ranker, features: np.ndarray) -> Attributions:
    """Integrated gradients of an ``MlpRanker`` over raw pair features (pairs x ``FEATURE_NAMES``), from
    the training mean; the contributions are those of the named raw features (see the module's text)."""
    standardized = (np.asarray(features, dtype=np.float32) - ranker.mean) / ranker.std
    return integrated_gradients(
        ranker.network, standardized, np.zeros(standardized.shape[1], dtype=np.float32)
    )


def co_purchase_sources(
    history: History, customers: np.ndarray, products: np.ndarray, *, top: int = CO_PURCHASE_SOURCES
) -> list[list[int]]:
    """For each (customer index, product index) pair, the ids of up to ``top`` products the customer
    bought that are the most co-purchased with the product, strongest first: the terms of the
    ``co_purchase_score`` feature (the customer's purchases times the product's co-purchase cosines)."""
    customers = np.asarray(customers, dtype=np.int64)
    products = np.asarray(products, dtype=np.int64)
    result: list[list[int]] = [[] for _ in range(len(customers))]
    if not len(customers) or top < 1:
        return result
    terms = history.bought[customers].multiply(history.similar.T.tocsr()[products]).tocsr()
    terms.eliminate_zeros()
    terms.sort_indices()
    row = np.repeat(np.arange(len(customers), dtype=np.int64), np.diff(terms.indptr))
    keep = np.flatnonzero(top_per_row(row, terms.data, top, len(customers)))
    # strongest first within each row (ties: the lower product index, as the entries are sorted)
    keep = keep[np.lexsort((terms.indices[keep], -terms.data[keep], row[keep]))]
    product_ids = history.product_ids[terms.indices[keep]].tolist()
    for position, owner in enumerate(row[keep].tolist()):
        result[owner].append(int(product_ids[position]))
    return result


def explanation_documents(
    attributions: Attributions, *, scores: np.ndarray, co_purchase: list[list[int]], digits: int = 6
) -> list[dict]:
    """One plain document per pair, as stored with a recommendation.

    ``{"base", "output", "residual", "groups": {key: value}, "co_purchase_product_ids": [...]}``, the
    groups by ``GROUP_KEYS`` (kept compact: labels and order are the reader's): ``output`` is the
    stored score itself, values are rounded to ``digits`` decimals, and ``residual`` is what is left
    after the rounded base and groups, so ``base + sum(groups) + residual = output``.
    """
    grouped = np.round(group_contributions(attributions.contributions), digits)
    base = round(attributions.base, digits)
    documents = []
    for row, score in enumerate(np.asarray(scores, dtype=np.float64)):
        values = grouped[row]
        documents.append(
            {
                "base": base,
                "output": float(score),
                "residual": float(score) - base - float(values.sum()),
                "groups": {key: float(value) for key, value in zip(GROUP_KEYS, values, strict=True)},
                "co_purchase_product_ids": co_purchase[row],
            }
        )
    return documents


__all__ = [
    "FEATURE_GROUPS",
    "GROUP_KEYS",
    "GROUP_LABELS",
    "Attributions",
    "co_purchase_sources",
    "explain_features",
    "explanation_documents",
    "group_contributions",
    "integrated_gradients",
    "network_blocks",
    "network_layers",
    "riemann_integrated_gradients",
]
