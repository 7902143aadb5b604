"""What is known at a point in time: purchase statistics, and the features of customer x product pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

DAY = np.timedelta64(1, "D")
NEVER_DAYS = 730.0  # "days since" for something that never happened: past any real gap, still finite

FEATURE_NAMES = (
    "times_bought",
    "quantity_bought",
    "days_since_last_bought",
    "days_since_first_bought",
    "decayed_orders_30d",
    "decayed_orders_90d",
    "orders_last_30d",
    "orders_last_90d",
    "share_of_customer_orders",
    "days_since_last_vs_usual_gap",
    "usual_gap_days",
    "bought_before",
    "co_purchase_score",
    "co_purchase_vs_best",
    "buyers_all_time",
    "buyers_last_30d",
    "buyers_last_90d",
    "trend",
    "product_age_days",
    "product_repeat_rate",
    "price",
    "price_vs_customer_usual",
    "country_popularity",
    "country_lift",
    "category_share_of_spend",
    "customer_orders",
    "customer_days_since_last_order",
    "customer_distinct_products",
    "customer_orders_last_90d",
    "customer_tenure_days",
    "from_co_purchase",
    "from_country_popular",
    "from_popular",
    "views_last_30d",
    "carts_last_30d",
    "wishlisted",
    "recommendation_clicks_last_30d",
    "name_affinity",
    "name_affinity_recent",
    "name_words_trend",
    "customer_novelty_90d",
    "customer_novelty_all",
    "product_new_buyer_share_90d",
)
# Words of product names: letters only, three or more of them, in at least two products' names.
NAME_WORD_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"
NAME_WORD_MIN_PRODUCTS = 2
NAME_TREND_DAYS = 14


def _lookup(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``wanted`` in the sorted ``keys`` and whether each was found."""
    if len(keys) == 0:
        return np.zeros(len(wanted), dtype=np.int64), np.zeros(len(wanted), dtype=bool)
    position = np.searchsorted(keys, wanted)
    position = np.minimum(position, len(keys) - 1)
    return position, keys[position] == wanted


@dataclass
class History:
    """Everything the ranker needs to know about purchases before ``cutoff`` (indices, not ids)."""

    cutoff: np.datetime64
    product_ids: np.ndarray
    customer_ids: np.ndarray
    customer_country: np.ndarray  # index into ``countries``
    countries: np.ndarray
    product_category: np.ndarray  # index into ``categories``; -1 = none
    categories: np.ndarray
    product_seen: np.ndarray  # bought at least once before the cutoff
    # customer x product purchase statistics, sorted by key = customer * n_products + product
    pair_keys: np.ndarray
    pair_stats: np.ndarray
    bought: sp.csr_matrix  # customer x product, 1 where bought
    recency: sp.csr_matrix  # customer x product, decayed order count (ranks a customer's own items)
    similar: sp.csr_matrix  # product x product, cosine of co-purchase, top neighbours per product
    customer_stats: np.ndarray
    product_stats: np.ndarray
    popularity: np.ndarray  # recent buyers per product, the "popular" list
    country_popularity: np.ndarray  # country x product share of the country's recent buyers
    category_keys: np.ndarray
    category_share: np.ndarray
    event_keys: np.ndarray
    event_counts: np.ndarray
    # Words of product names (``name_words``): product x word TF-IDF rows of length 1, each customer's
    # words (all purchases; purchases decayed over 30 days), length 1, and per product how fast the
    # products sharing its words sell now against the last 90 days. Empty without product names.
    product_words: sp.csr_matrix
    customer_words: sp.csr_matrix
    customer_words_recent: sp.csr_matrix
    name_words_trend: np.ndarray

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    def customer_index(self, customer_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _index_of(self.customer_ids, customer_ids)

    def product_index(self, product_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _index_of(self.product_ids, product_ids)

    def has_history(self, customers: np.ndarray) -> np.ndarray:
        return np.diff(self.bought.indptr)[customers] > 0


def _index_of(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = np.asarray(ids, dtype=np.int64)
    position, found = _lookup(sorted_ids, ids)
    return position, found


def build_history(
    *,
    order_lines: pd.DataFrame,
    products: pd.DataFrame,
    customers: pd.DataFrame,
    events: pd.DataFrame,
    cutoff: np.datetime64,
    neighbours: int = 50,
    popular_days: int = 90,
) -> History:
    """Statistics of the (checked, cleaned) order lines before ``cutoff``."""
    cutoff = np.datetime64(cutoff, "ns")
    lines = order_lines[order_lines["ordered_at"].to_numpy() < cutoff]
    product_ids = products["product_id"].to_numpy(dtype=np.int64)
    customer_ids = customers["customer_id"].to_numpy(dtype=np.int64)
    n_products, n_customers = len(product_ids), len(customer_ids)
    countries, customer_country = np.unique(customers["country"].to_numpy(dtype=str), return_inverse=True)
    category = products["category_id"]
    categories = np.unique(category.dropna().to_numpy(dtype=np.int64))
    product_category = np.full(n_products, -1, dtype=np.int64)
    has_category = category.notna().to_numpy()
    product_category[has_category] = np.searchsorted(
        categories, category[has_category].to_numpy(dtype=np.int64)
    )

    c = np.searchsorted(customer_ids, lines["customer_id"].to_numpy())
    p = np.searchsorted(product_ids, lines["product_id"].to_numpy())
    age = ((cutoff - lines["ordered_at"].to_numpy()) / DAY).astype(np.float64)
    quantity = lines["quantity"].to_numpy(dtype=np.float64)
    spend = quantity * lines["unit_price"].to_numpy(dtype=np.float64)
    # one row per customer, product and order
    orders = (
        pd.DataFrame(
            {"c": c, "p": p, "o": lines["order_id"].to_numpy(), "age": age, "q": quantity, "s": spend}
        )
        .groupby(["c", "p", "o"], sort=False)
        .agg(age=("age", "min"), q=("q", "sum"), s=("s", "sum"))
        .reset_index()
    )
    orders["d30"] = np.exp(-orders["age"] / 30.0)
    orders["d90"] = np.exp(-orders["age"] / 90.0)
    orders["n30"] = (orders["age"] < 30).astype(np.float64)
    orders["n90"] = (orders["age"] < 90).astype(np.float64)
    pairs = (
        orders.groupby(["c", "p"], sort=True)
        .agg(
            n=("o", "size"),
            q=("q", "sum"),
            last=("age", "min"),
            first=("age", "max"),
            d30=("d30", "sum"),
            d90=("d90", "sum"),
            n30=("n30", "sum"),
            n90=("n90", "sum"),
            s=("s", "sum"),
        )
        .reset_index()
    )
    pair_c = pairs["c"].to_numpy(dtype=np.int64)
    pair_p = pairs["p"].to_numpy(dtype=np.int64)
    pair_keys = pair_c * n_products + pair_p
    pair_stats = pairs[["n", "q", "last", "first", "d30", "d90", "n30", "n90"]].to_numpy(dtype=np.float64)
    shape = (n_customers, n_products)
    bought = sp.csr_matrix((np.ones(len(pairs), dtype=np.float32), (pair_c, pair_p)), shape=shape)
    recency = sp.csr_matrix(
        (pairs["n"].to_numpy(dtype=np.float32) + pairs["d90"].to_numpy(dtype=np.float32), (pair_c, pair_p)),
        shape=shape,
    )

    # customers
    customer_orders = pd.DataFrame({"c": c, "o": lines["order_id"].to_numpy(), "age": age})
    per_order = customer_orders.groupby(["c", "o"], sort=False)["age"].min().reset_index()
    by_customer = per_order.groupby("c").agg(
        orders=("o", "size"),
        last=("age", "min"),
        first=("age", "max"),
        orders90=("age", lambda a: int((a < 90).sum())),
    )
    customer_stats = np.zeros((n_customers, 8), dtype=np.float64)
    customer_stats[:, 1] = NEVER_DAYS
    customer_stats[:, 4] = 0.0
    index = by_customer.index.to_numpy()
    customer_stats[index, 0] = by_customer["orders"].to_numpy()
    customer_stats[index, 1] = by_customer["last"].to_numpy()
    customer_stats[index, 2] = np.diff(bought.indptr)[index]
    customer_stats[index, 3] = by_customer["orders90"].to_numpy()
    customer_stats[index, 4] = by_customer["first"].to_numpy()
    log_price = np.log(np.maximum(lines["unit_price"].to_numpy(dtype=np.float64), 1e-6))
    mean_log_price = pd.Series(log_price).groupby(c).mean()
    customer_stats[:, 5] = np.nan
    customer_stats[mean_log_price.index.to_numpy(), 5] = mean_log_price.to_numpy()
    # How much of what a customer buys is new to them: a pointwise ranker cannot tell from the pair
    # alone whether this customer fills a month with repeats or with products they have not had yet.
    # Of the products they bought in the last 90 days, the share first bought then; of all their
    # purchases (orders x products), the share that were a first purchase.
    pair_first = pairs["first"].to_numpy()
    pair_last = pairs["last"].to_numpy()
    bought_90d = np.bincount(pair_c, weights=pair_last < 90, minlength=n_customers)
    new_90d = np.bincount(pair_c, weights=pair_first < 90, minlength=n_customers)
    customer_stats[:, 6] = new_90d / np.maximum(bought_90d, 1)
    purchases = np.bincount(pair_c, weights=pairs["n"].to_numpy(), minlength=n_customers)
    customer_stats[:, 7] = customer_stats[:, 2] / np.maximum(purchases, 1)

    # products
    product_stats = np.zeros((n_products, 8), dtype=np.float64)
    product_stats[:, 0] = np.bincount(pair_p, minlength=n_products)
    product_stats[:, 1] = np.bincount(pair_p, weights=(pair_last < 30), minlength=n_products)
    product_stats[:, 2] = np.bincount(pair_p, weights=(pair_last < popular_days), minlength=n_products)
    first_sale = pd.Series(age).groupby(p).max()
    product_stats[:, 3] = 0.0
    product_stats[first_sale.index.to_numpy(), 3] = first_sale.to_numpy()
    repeaters = np.bincount(pair_p, weights=(pairs["n"].to_numpy() >= 2), minlength=n_products)
    product_stats[:, 4] = repeaters / np.maximum(product_stats[:, 0], 1)
    line_price = pd.Series(lines["unit_price"].to_numpy(dtype=np.float64)).groupby(p).median()
    price = products["price"].to_numpy(dtype=np.float64).copy()
    price[line_price.index.to_numpy()] = line_price.to_numpy()
    known_price = price[np.isfinite(price) & (price > 0)]
    fallback_price = float(np.median(known_price)) if len(known_price) else 1.0
    price = np.where(np.isfinite(price) & (price > 0), price, fallback_price)
    product_stats[:, 5] = np.log(price)
    product_seen = product_stats[:, 0] > 0
    product_stats[:, 6] = product_seen
    # of the product's buyers in the last 90 days, the share buying it for the first time
    buyers_90d = np.bincount(pair_p, weights=pair_last < 90, minlength=n_products)
    first_time_90d = np.bincount(pair_p, weights=pair_first < 90, minlength=n_products)
    product_stats[:, 7] = first_time_90d / np.maximum(buyers_90d, 1)

    popularity = product_stats[:, 2] + 1e-3 * product_stats[:, 0]  # recent buyers, ties by all-time buyers

    # country: share of the country's recent buyers who bought the product
    recent = pair_last < popular_days
    country_of_pair = customer_country[pair_c[recent]]
    country_popularity = np.zeros((len(countries), n_products), dtype=np.float32)
    np.add.at(country_popularity, (country_of_pair, pair_p[recent]), 1.0)
    recent_buyers = np.unique(pair_c[recent])
    country_buyers = np.bincount(customer_country[recent_buyers], minlength=len(countries)).astype(np.float32)
    country_popularity /= (country_buyers + 5.0)[:, None]

    # category share of the customer's spend
    pair_category = product_category[pair_p]
    with_category = pair_category >= 0
    category_spend = (
        pd.DataFrame(
            {
                "c": pair_c[with_category],
                "k": pair_category[with_category],
                "s": pairs["s"].to_numpy()[with_category],
            }
        )
        .groupby(["c", "k"], sort=True)["s"]
        .sum()
    )
    total_spend = np.bincount(pair_c, weights=pairs["s"].to_numpy(), minlength=n_customers)
    category_c = category_spend.index.get_level_values(0).to_numpy(dtype=np.int64)
    category_k = category_spend.index.get_level_values(1).to_numpy(dtype=np.int64)
    category_keys = category_c * max(len(categories), 1) + category_k
    category_share = category_spend.to_numpy() / np.maximum(total_spend[category_c], 1e-9)

    product_words = name_words(products.get("name"), n_products)
    decayed_30d = sp.csr_matrix((pairs["d30"].to_numpy(dtype=np.float32), (pair_c, pair_p)), shape=shape)

    similar = item_similarity(bought, neighbours=neighbours)
    event_keys, event_counts = _event_counts(events, cutoff, customer_ids, product_ids)

    return History(
        cutoff=cutoff,
        product_ids=product_ids,
        customer_ids=customer_ids,
        customer_country=customer_country.astype(np.int64),
        countries=countries,
        product_category=product_category,
        categories=categories,
        product_seen=product_seen,
        pair_keys=pair_keys,
        pair_stats=pair_stats,
        bought=bought,
        recency=recency,
        similar=similar,
        customer_stats=customer_stats,
        product_stats=product_stats,
        popularity=popularity,
        country_popularity=country_popularity,
        category_keys=category_keys,
        category_share=category_share,
        event_keys=event_keys,
        event_counts=event_counts,
        product_words=product_words,
        customer_words=_word_profiles(bought, product_words),
        customer_words_recent=_word_profiles(decayed_30d, product_words),
        name_words_trend=_name_words_trend(product_words, pair_p, pair_last),
    )


def name_words(names: pd.Series | None, n_products: int) -> sp.csr_matrix:
    """Product x word TF-IDF matrix of the product names, rows of length 1 (no column without names)."""
    texts = names.fillna("").astype(str).to_numpy() if names is not None else np.full(n_products, "")
    vectorizer = TfidfVectorizer(
        token_pattern=NAME_WORD_PATTERN, lowercase=True, min_df=NAME_WORD_MIN_PRODUCTS, dtype=np.float32
    )
    try:
        return vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # no word in two names (or no names at all)
        return sp.csr_matrix((n_products, 0), dtype=np.float32)


def _word_profiles(purchases: sp.csr_matrix, product_words: sp.csr_matrix) -> sp.csr_matrix:
    """Each customer's name words, weighted by ``purchases`` (customer x product), rows of length 1."""
    profiles = sp.csr_matrix(purchases @ product_words, dtype=np.float32)
    return normalize(profiles) if profiles.shape[1] else profiles  # (normalize refuses zero columns)


def _name_words_trend(product_words: sp.csr_matrix, pair_p: np.ndarray, pair_last: np.ndarray) -> np.ndarray:
    """Per product, the mean over its name's words of log(buyers of products with the word in the last
    ``NAME_TREND_DAYS`` days over the same span's share of the last 90 days): above 0 when products named
    like it sell faster now (a season's words coming in), 0 for a product without words."""
    n_products = product_words.shape[0]
    has_word = (product_words > 0).astype(np.float64)
    recent = np.bincount(pair_p, weights=(pair_last < NAME_TREND_DAYS), minlength=n_products)
    base = np.bincount(pair_p, weights=(pair_last < 90), minlength=n_products)
    word_trend = np.log((has_word.T @ recent + 1.0) / (has_word.T @ base * NAME_TREND_DAYS / 90.0 + 1.0))
    words_per_product = np.asarray(has_word.sum(axis=1)).ravel()
    return (has_word @ word_trend) / np.maximum(words_per_product, 1.0)


EVENT_KINDS = ("view", "add_to_cart", "wishlist", "recommendation_click")


def _event_counts(
    events: pd.DataFrame, cutoff: np.datetime64, customer_ids: np.ndarray, product_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    at = events["at"].to_numpy()
    age = (cutoff - at) / DAY
    # views, carts and clicks count for 30 days; a wishlist entry stands until the cutoff
    kind = events["kind"].to_numpy(dtype=str)
    keep = (at < cutoff) & ((age < 30) | (kind == "wishlist"))
    c, c_found = _index_of(customer_ids, events["customer_id"].to_numpy()[keep])
    p, p_found = _index_of(product_ids, events["product_id"].to_numpy()[keep])
    kind = kind[keep]
    known = c_found & p_found & np.isin(kind, EVENT_KINDS)
    if not known.any():
        return np.zeros(0, dtype=np.int64), np.zeros((0, len(EVENT_KINDS)), dtype=np.float64)
    keys = c[known] * len(product_ids) + p[known]
    kind_index = np.searchsorted(np.array(EVENT_KINDS), kind[known], sorter=np.argsort(EVENT_KINDS))
    kind_index = np.argsort(EVENT_KINDS)[kind_index]
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    counts = np.zeros((len(unique_keys), len(EVENT_KINDS)), dtype=np.float64)
    np.add.at(counts, (inverse, kind_index), 1.0)
    return unique_keys, counts


def item_similarity(bought: sp.csr_matrix, *, neighbours: int) -> sp.csr_matrix:
    """Cosine of co-purchase between products (the columns; same customers, or same orders for
    ``basket_similarity``), keeping the top ``neighbours`` of each.

    ``implicit``'s all-pairs k-nearest-neighbours keeps a heap per product while it walks the sparse
    co-purchase counts, so neither the product x product counts nor a dense row of them is ever held
    (a dense row per product and a partition over it took a minute at 65,000 products).
    """
    from implicit.nearest_neighbours import all_pairs_knn

    n_products = bought.shape[1]
    keep = min(neighbours, max(n_products - 1, 0))
    if keep == 0 or bought.nnz == 0:
        return sp.csr_matrix((n_products, n_products), dtype=np.float32)
    binary = bought.tocsr(copy=True).astype(np.float64)
    binary.data[:] = 1.0
    buyers = np.asarray(binary.sum(axis=0)).ravel()
    # columns scaled to unit length: the dot product of two columns is their cosine
    normed = (binary @ sp.diags(1.0 / np.sqrt(np.maximum(buyers, 1.0)))).tocsr()
    # one more than kept: a product is its own nearest neighbour and is dropped below
    found = all_pairs_knn(normed, keep + 1, num_threads=0, show_progress=False).tocoo()
    row, col, value = found.row, found.col, found.data.astype(np.float32)
    useful = (row != col) & (value > 0)
    row, col, value = row[useful], col[useful], value[useful]
    # a row whose own product was not among its nearest (ties at 1) has one too many
    top = top_per_row(row.astype(np.int64), value, keep, n_products)
    return sp.csr_matrix((value[top], (row[top], col[top])), shape=(n_products, n_products))


def basket_similarity(
    order_lines: pd.DataFrame, product_ids: np.ndarray, *, neighbours: int
) -> sp.csr_matrix:
    """Cosine of being in the same order ("bought together"), indexed like ``product_ids`` (sorted),
    keeping the top ``neighbours`` of each.

    Sharper than ``item_similarity``'s same-customer co-purchase for completing a basket: two products a
    customer bought a year apart are not bought together (BENCHMARKS.md, basket completion).
    """
    known = np.isin(order_lines["product_id"].to_numpy(), product_ids)
    lines = order_lines[known]
    orders = pd.factorize(lines["order_id"])[0]
    products = np.searchsorted(product_ids, lines["product_id"].to_numpy())
    in_order = sp.csr_matrix(
        (np.ones(len(lines), dtype=np.float64), (orders, products)),
        shape=(int(orders.max()) + 1 if len(orders) else 0, len(product_ids)),
    )
    in_order.sum_duplicates()
    in_order.data[:] = 1.0
    return item_similarity(in_order, neighbours=neighbours)


@dataclass
class Candidates:
    customer: np.ndarray  # customer index per pair
    product: np.ndarray  # product index per pair
    co_purchase: np.ndarray
    co_purchase_best: np.ndarray  # the customer's highest co-purchase score over the allowed products
    country_popularity: np.ndarray
    from_co_purchase: np.ndarray
    from_country_popular: np.ndarray
    from_popular: np.ndarray


def top_per_row(row: np.ndarray, value: np.ndarray, k: int, n_rows: int) -> np.ndarray:
    """True at the entries among the ``k`` highest ``value`` of their ``row`` (ties: the earlier entry).

    Only rows with more than ``k`` entries are sorted, with one stable sort of a (row, -value) key.
    """
    keep = np.zeros(len(row), dtype=bool)
    if k <= 0 or not len(row):
        return keep
    crowded = np.bincount(row, minlength=n_rows)[row] > k
    keep[~crowded] = True
    index = np.flatnonzero(crowded)
    if len(index):
        values = value[index].astype(np.float64)
        span = float(values.max() - values.min()) + 1.0
        order = index[np.argsort(row[index] * span - values, kind="stable")]
        sorted_rows = row[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_rows)) + 1]
        position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        keep[order[position < k]] = True
    return keep


def _csr_entries(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, value) of a CSR matrix's entries, in (row, column) order."""
    matrix = matrix.tocsr()
    matrix.sum_duplicates()
    matrix.sort_indices()
    row = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return row, matrix.indices.astype(np.int64), matrix.data


def _ranked_list(score: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Usable products with a positive score, best first (ties: lower index first)."""
    products = np.flatnonzero(usable & (score > 0))
    return products[np.argsort(-score[products], kind="stable")]


def _first_not_bought(
    rows: np.ndarray, ranked: np.ndarray, k: int, bought_keys: np.ndarray, n_products: int, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``rows``, the first ``k`` products of ``ranked`` it has not bought.

    ``limit`` is the most products any of the rows bought: past ``k + limit`` no row needs to look.
    """
    head = ranked[: k + limit]
    if not len(rows) or not len(head) or k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys = rows[:, None] * n_products + head[None, :]
    _, is_bought = _lookup(bought_keys, keys.ravel())
    fresh = ~is_bought.reshape(keys.shape)
    take = fresh & (np.cumsum(fresh, axis=1) <= k)
    row_at, column_at = np.nonzero(take)
    return rows[row_at], head[column_at]


def generate_candidates(
    history: History,
    customers: np.ndarray,
    *,
    allowed: np.ndarray,
    own_history: int,
    co_purchase: int,
    country_popular: int,
    popular: int,
    exclude_bought: bool = False,
    products: np.ndarray | None = None,
) -> Candidates:
    """Candidate products of a chunk of customers: own history, co-purchase neighbours, popular lists.

    With ``products`` given, every one of those products is a candidate of every customer instead
    (scoring chosen pairs). Everything stays sparse (the customer's purchases, the co-purchase
    scores of their neighbours) or is one list per country, so the cost follows what the customers
    bought, not the size of the catalogue.
    """
    customers = np.asarray(customers, dtype=np.int64)
    n_rows, n_products = len(customers), history.n_products
    bought_row, bought_col, _ = _csr_entries(history.bought[customers])
    bought_keys = bought_row * n_products + bought_col
    per_row_bought = np.bincount(bought_row, minlength=n_rows)

    co_row, co_col, co_value = _csr_entries(history.bought[customers] @ history.similar)
    co_value = co_value.astype(np.float32)
    co_keys = co_row * n_products + co_col
    usable = allowed[co_col] & (co_value > 0)
    if exclude_bought:
        usable &= ~_lookup(bought_keys, co_keys)[1]
    co_best = np.zeros(n_rows, dtype=np.float32)
    np.maximum.at(co_best, co_row[usable], co_value[usable])
    co_top = np.flatnonzero(usable)[top_per_row(co_row[usable], co_value[usable], co_purchase, n_rows)]
    co_top_keys = co_keys[co_top]

    country_of_row = history.customer_country[customers]
    country_rows, country_cols = [], []
    for country in np.unique(country_of_row):
        score = history.country_popularity[country] + 1e-6 * history.popularity
        ranked = _ranked_list(score, allowed)
        rows = np.flatnonzero(country_of_row == country)
        limit = int(per_row_bought[rows].max(initial=0)) if exclude_bought else 0
        if exclude_bought:
            row_at, column_at = _first_not_bought(
                rows, ranked, country_popular, bought_keys, n_products, limit
            )
        else:
            head = ranked[:country_popular]
            row_at, column_at = np.repeat(rows, len(head)), np.tile(head, len(rows))
        country_rows.append(row_at)
        country_cols.append(column_at)
    country_keys = np.unique(
        np.concatenate(
            [np.zeros(0, np.int64)]
            + [rows * n_products + cols for rows, cols in zip(country_rows, country_cols, strict=True)]
        )
    )

    popular_list = _ranked_list(history.popularity + 1e-6, allowed)[: max(popular, 0)]
    popular_top = np.zeros(n_products, dtype=bool)
    popular_top[popular_list] = True

    if products is not None:
        wanted = np.unique(np.asarray(products, dtype=np.int64))
        keys = (np.arange(n_rows, dtype=np.int64)[:, None] * n_products + wanted[None, :]).ravel()
    else:
        own_keys = np.zeros(0, np.int64)
        if not exclude_bought and own_history > 0:
            own_row, own_col, own_value = _csr_entries(history.recency[customers])
            own_value = own_value + 1e-6 * history.popularity[own_col]
            fine = allowed[own_col] & (own_value > 0)
            own_row, own_col, own_value = own_row[fine], own_col[fine], own_value[fine]
            own = top_per_row(own_row, own_value, own_history, n_rows)
            own_keys = own_row[own] * n_products + own_col[own]
        popular_keys = (
            np.arange(n_rows, dtype=np.int64)[:, None] * n_products + popular_list[None, :]
        ).ravel()
        if exclude_bought:
            # the popular list minus what the customer bought (not refilled from further down)
            popular_keys = popular_keys[~_lookup(bought_keys, popular_keys)[1]]
        keys = np.unique(np.concatenate([own_keys, co_top_keys, country_keys, popular_keys]))
    row, product = np.divmod(keys, n_products)
    position, has_co = _lookup(co_keys, keys)
    co = np.where(has_co, co_value[position] if len(co_value) else 0.0, 0.0).astype(np.float32)
    from_popular = popular_top[product]
    if exclude_bought:
        from_popular &= ~_lookup(bought_keys, keys)[1]
    return Candidates(
        customer=customers[row],
        product=product,
        co_purchase=co,
        co_purchase_best=co_best[row],
        country_popularity=history.country_popularity[country_of_row[row], product],
        from_co_purchase=_lookup(np.sort(co_top_keys), keys)[1],
        from_country_popular=_lookup(country_keys, keys)[1],
        from_popular=from_popular,
    )


def pair_features(history: History, candidates: Candidates) -> np.ndarray:
    c, p = candidates.customer, candidates.product
    n = len(c)
    features = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    position, found = _lookup(history.pair_keys, c * history.n_products + p)
    stats = np.zeros((n, history.pair_stats.shape[1]), dtype=np.float64)
    stats[found] = history.pair_stats[position[found]]
    times, quantity, last, first, d30, d90, n30, n90 = stats.T
    last = np.where(found, last, NEVER_DAYS)
    first = np.where(found, first, NEVER_DAYS)
    customer = history.customer_stats[np.maximum(c, 0)]
    unknown = c < 0
    if unknown.any():
        customer = customer.copy()
        customer[unknown] = (0.0, NEVER_DAYS, 0.0, 0.0, 0.0, np.nan, 0.0, 0.0)
    product = history.product_stats[p]
    gap = np.where(times >= 2, (first - last) / np.maximum(times - 1, 1), NEVER_DAYS)
    features[:, 0] = np.log1p(times)
    features[:, 1] = np.log1p(quantity)
    features[:, 2] = np.log1p(last)
    features[:, 3] = np.log1p(first)
    features[:, 4] = np.log1p(d30)
    features[:, 5] = np.log1p(d90)
    features[:, 6] = np.log1p(n30)
    features[:, 7] = np.log1p(n90)
    features[:, 8] = times / np.maximum(customer[:, 0], 1.0)
    features[:, 9] = np.where(times >= 2, np.log1p(last / np.maximum(gap, 1.0)), 0.0)
    features[:, 10] = np.log1p(gap)
    features[:, 11] = found
    features[:, 12] = np.log1p(candidates.co_purchase)
    features[:, 13] = candidates.co_purchase / np.maximum(candidates.co_purchase_best, 1e-6)
    features[:, 14] = np.log1p(product[:, 0])
    features[:, 15] = np.log1p(product[:, 1])
    features[:, 16] = np.log1p(product[:, 2])
    features[:, 17] = np.log((product[:, 1] + 1.0) / (product[:, 2] / 3.0 + 1.0))
    features[:, 18] = np.log1p(product[:, 3])
    features[:, 19] = product[:, 4]
    features[:, 20] = product[:, 5]
    usual_price = np.where(np.isfinite(customer[:, 5]), customer[:, 5], product[:, 5])
    features[:, 21] = product[:, 5] - usual_price
    features[:, 22] = candidates.country_popularity
    overall = history.popularity[p] / max(float(history.popularity.sum()), 1e-9) * 50.0
    features[:, 23] = np.log1p(candidates.country_popularity) - np.log1p(overall)
    category = history.product_category[p]
    n_categories = max(len(history.categories), 1)
    position, in_category = _lookup(history.category_keys, c * n_categories + category)
    in_category &= category >= 0
    if in_category.any():
        features[in_category, 24] = history.category_share[position[in_category]]
    features[:, 25] = np.log1p(customer[:, 0])
    features[:, 26] = np.log1p(customer[:, 1])
    features[:, 27] = np.log1p(customer[:, 2])
    features[:, 28] = np.log1p(customer[:, 3])
    features[:, 29] = np.log1p(customer[:, 4])
    features[:, 30] = candidates.from_co_purchase
    features[:, 31] = candidates.from_country_popular
    features[:, 32] = candidates.from_popular
    position, with_events = _lookup(history.event_keys, c * history.n_products + p)
    if with_events.any():
        features[with_events, 33:37] = np.log1p(history.event_counts[position[with_events]])
    # cosine of the product's name words with the words of what the customer bought
    known = ~unknown
    words = history.product_words[p[known]]
    features[known, 37] = _word_affinity(words, history.customer_words, c[known])
    features[known, 38] = _word_affinity(words, history.customer_words_recent, c[known])
    features[:, 39] = history.name_words_trend[p]
    features[:, 40] = customer[:, 6]
    features[:, 41] = customer[:, 7]
    features[:, 42] = product[:, 7]
    return features


def _word_affinity(words: sp.csr_matrix, profiles: sp.csr_matrix, customers: np.ndarray) -> np.ndarray:
    """Per pair i, the dot product of ``words`` row i (the product's name) with ``profiles`` row
    ``customers[i]``, read at the name's few words only: a customer's profile holds hundreds of words,
    and copying it for every candidate pair cost more than all the other features together."""
    distinct, owner = np.unique(customers, return_inverse=True)
    held = profiles[distinct]
    held.sort_indices()
    n_words = held.shape[1]
    held_keys = np.repeat(np.arange(len(distinct), dtype=np.int64), np.diff(held.indptr)) * n_words
    held_keys += held.indices
    pair = np.repeat(np.arange(words.shape[0]), np.diff(words.indptr))
    position, found = _lookup(held_keys, owner[pair] * n_words + words.indices)
    profile_value = held.data[position] if len(held.data) else np.zeros(len(position), np.float32)
    products = np.where(found, profile_value, 0.0) * words.data
    return np.bincount(pair, weights=products, minlength=words.shape[0]).astype(np.float32)
