"""The baselines every model is measured against, on the same History and the same ranking code."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.ml.features import History, _lookup, top_per_row


def top_k_from_scores(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` highest scores, best first (ties: lower index first)."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.lexsort((top, -np.take_along_axis(scores, top, axis=1)), axis=1)
    return np.take_along_axis(top, order, axis=1)


class ScoreRanker:
    """A ranker from a dense score per customer and product; products not allowed get -inf."""

    name = "ranker"

    def __init__(self, history: History) -> None:
        self.history = history
        pop = history.popularity
        self.popularity_rank = pop / max(float(pop.max()), 1e-9) if len(pop) else pop

    def scores(self, customers: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def top_k(
        self, customers: np.ndarray, *, k: int, allowed: np.ndarray, exclude_bought: bool
    ) -> np.ndarray:
        scores = np.asarray(self.scores(customers), dtype=np.float64)
        scores[:, ~allowed] = -np.inf
        if exclude_bought:
            bought = self.history.bought[customers].tocoo()
            scores[bought.row, bought.col] = -np.inf
        return top_k_from_scores(scores, k)


class PopularRanker(ScoreRanker):
    name = "popular"

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_rank, (len(customers), self.history.n_products)).copy()

    def top_k(
        self, customers: np.ndarray, *, k: int, allowed: np.ndarray, exclude_bought: bool
    ) -> np.ndarray:
        """One ranked list for everyone (minus what each bought): no customer x product matrix."""
        customers = np.asarray(customers, dtype=np.int64)
        ranked = np.flatnonzero(allowed)
        ranked = ranked[np.lexsort((ranked, -self.popularity_rank[ranked]))]
        result = np.full((len(customers), k), -1, dtype=np.int64)
        if not exclude_bought:
            head = ranked[:k]
            result[:, : len(head)] = head
            return result
        bought = self.history.bought[customers]
        limit = int(np.diff(bought.indptr).max(initial=0))
        head = ranked[: k + limit]
        taken = bought[:, head].toarray() > 0
        fresh = ~taken & (np.cumsum(~taken, axis=1) <= k)
        for row in range(len(customers)):
            chosen = head[fresh[row]]
            result[row, : len(chosen)] = chosen
        return result


class SparseScoreRanker(ScoreRanker):
    """A ranker whose scores are a few entries per customer, then popular products: ranked without
    a customer x product matrix (with 65,000 products that matrix and its partition were most of
    the baselines' time)."""

    def entries(self, customers: np.ndarray) -> sp.csr_matrix:
        raise NotImplementedError

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return self.entries(customers).toarray() + 1e-6 * self.popularity_rank[None, :]

    def top_k(
        self, customers: np.ndarray, *, k: int, allowed: np.ndarray, exclude_bought: bool
    ) -> np.ndarray:
        customers = np.asarray(customers, dtype=np.int64)
        n_rows, n_products = len(customers), self.history.n_products
        matrix = self.entries(customers).tocsr()
        matrix.sum_duplicates()
        matrix.sort_indices()
        row = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(matrix.indptr))
        col = matrix.indices.astype(np.int64)
        value = matrix.data.astype(np.float64) + 1e-6 * self.popularity_rank[col]
        bought = self.history.bought[customers].tocsr()
        bought.sort_indices()
        bought_row = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(bought.indptr))
        bought_keys = bought_row * n_products + bought.indices.astype(np.int64)
        keep = allowed[col] & (value > 0)
        if exclude_bought:
            keep &= ~_lookup(bought_keys, row * n_products + col)[1]
        row, col, value = row[keep], col[keep], value[keep]
        top = top_per_row(row, value, k, n_rows)
        row, col, value = row[top], col[top], value[top]
        order = np.lexsort((col, -value, row))
        row, col = row[order], col[order]
        starts = np.r_[0, np.flatnonzero(np.diff(row)) + 1] if len(row) else np.zeros(0, np.int64)
        position = np.arange(len(row)) - np.repeat(starts, np.diff(np.r_[starts, len(row)]))
        result = np.full((n_rows, k), -1, dtype=np.int64)
        result[row, position] = col
        ranked = np.flatnonzero(allowed)
        ranked = ranked[np.lexsort((ranked, -self.popularity_rank[ranked]))]
        for index in np.flatnonzero((result < 0).any(axis=1)):
            taken = result[index][result[index] >= 0]
            if exclude_bought:
                taken = np.concatenate(
                    [taken, bought.indices[bought.indptr[index] : bought.indptr[index + 1]]]
                )
            head = ranked[: k + len(taken)]
            fill = head[~np.isin(head, taken)]
            slots = np.flatnonzero(result[index] < 0)
            result[index, slots[: len(fill)]] = fill[: len(slots)]
        return result


class PersonalTopRanker(SparseScoreRanker):
    """The customer's most often bought products (ties by popularity), then popular ones."""

    name = "personal_top"

    def __init__(self, history: History) -> None:
        super().__init__(history)
        n_products = history.n_products
        c, p = np.divmod(history.pair_keys, n_products)
        self.times = sp.csr_matrix(
            (history.pair_stats[:, 0], (c, p)), shape=(history.n_customers, n_products)
        )

    def entries(self, customers: np.ndarray) -> sp.csr_matrix:
        # times x 2 + 1: a bought product outranks every product bought by no one of them
        matrix = self.times[customers].astype(np.float64)
        matrix.data = matrix.data * 2.0 + 1.0
        return matrix

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return self.times[customers].toarray() * 2.0 + self.popularity_rank[None, :]


class ItemKnnRanker(SparseScoreRanker):
    """Sum of co-purchase cosine with what the customer bought (then popular)."""

    name = "item_knn"

    def entries(self, customers: np.ndarray) -> sp.csr_matrix:
        return (self.history.bought[customers] @ self.history.similar).tocsr()


class AlsRanker(ScoreRanker):
    """Implicit-feedback matrix factorisation on BM25-weighted purchase counts."""

    name = "als"

    def __init__(
        self,
        history: History,
        *,
        factors: int = 64,
        iterations: int = 15,
        regularization: float = 0.05,
        seed: int = 42,
    ) -> None:
        super().__init__(history)
        from implicit.als import AlternatingLeastSquares
        from implicit.nearest_neighbours import bm25_weight

        n_products = history.n_products
        c, p = np.divmod(history.pair_keys, n_products)
        counts = sp.csr_matrix(
            (history.pair_stats[:, 0].astype(np.float32), (c, p)), shape=(history.n_customers, n_products)
        )
        weighted = bm25_weight(counts, K1=100, B=0.8).tocsr().astype(np.float32)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=factors,
                iterations=iterations,
                regularization=regularization,
                random_state=seed,
                use_gpu=False,
                calculate_training_loss=False,
            )
            model.fit(weighted, show_progress=False)
        self.customer_factors = np.asarray(model.user_factors)
        self.product_factors = np.asarray(model.item_factors)

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return self.customer_factors[customers] @ self.product_factors.T
