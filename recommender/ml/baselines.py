"""The baselines every model is measured against, on the same History and the same ranking code."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.ml.features import History


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


class PersonalTopRanker(ScoreRanker):
    """The customer's most often bought products (ties by popularity), then popular ones."""

    name = "personal_top"

    def __init__(self, history: History) -> None:
        super().__init__(history)
        n_products = history.n_products
        c, p = np.divmod(history.pair_keys, n_products)
        self.times = sp.csr_matrix(
            (history.pair_stats[:, 0], (c, p)), shape=(history.n_customers, n_products)
        )

    def scores(self, customers: np.ndarray) -> np.ndarray:
        return self.times[customers].toarray() * 2.0 + self.popularity_rank[None, :]


class ItemKnnRanker(ScoreRanker):
    """Sum of co-purchase cosine with what the customer bought (then popular)."""

    name = "item_knn"

    def scores(self, customers: np.ndarray) -> np.ndarray:
        co = np.asarray((self.history.bought[customers] @ self.history.similar).todense(), dtype=np.float64)
        return co + 1e-6 * self.popularity_rank[None, :]


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
