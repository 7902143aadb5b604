"""Training entry point: measure on the last period, then train the served model on everything."""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.ml.config import TrainConfig, config_from_dict
from recommender.ml.evaluate import evaluate_protocol, prepare_frames
from recommender.ml.features import DAY, History, basket_similarity
from recommender.ml.model import MlpRanker, WindowCache, choose_period, fit_mlp, seed_everything

# 2: product-name word features (a version-1 network has 3 inputs fewer); 3: how much of what a
# customer buys is new to them, and a product's share of first-time buyers (3 inputs more)
ARTIFACT_VERSION = 3
# "Bought together" neighbours kept per product in the artifact; the database keeps the first ones
# (recommender.services.scoring.NEIGHBOURS_PER_PRODUCT).
BOUGHT_TOGETHER_KEPT = 24


@dataclass
class TrainedRecommender:
    """The served ranker (History at the end of the data + network) with what was measured on the way."""

    ranker: MlpRanker
    products: pd.DataFrame  # product_id, category_id, active, in_stock as known at training
    metrics: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    # product x product (the History's product order): cosine of being in the same order; None in an
    # artifact saved before it was kept, where "bought together" falls back to the History's co-purchase.
    bought_together: sp.csr_matrix | None = None

    @property
    def history(self) -> History:
        return self.ranker.history

    @property
    def config(self) -> TrainConfig:
        return self.ranker.config

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.ranker.network.save(directory / "network.keras")
        # The History is arrays only; the artifact is written and read by this package alone.
        with open(directory / "history.pkl", "wb") as file:
            pickle.dump(self.ranker.history, file, protocol=pickle.HIGHEST_PROTOCOL)
        np.savez(directory / "scaling.npz", mean=self.ranker.mean, std=self.ranker.std)
        self.products.to_parquet(directory / "products.parquet", index=False)
        if self.bought_together is not None:
            sp.save_npz(directory / "bought_together.npz", self.bought_together)
        meta = {
            "artifact_version": ARTIFACT_VERSION,
            "config": self.config.as_dict(),
            "metrics": self.metrics,
            "params": self.params,
            "counts": self.counts,
            "timings": self.timings,
        }
        (directory / "meta.json").write_text(json.dumps(meta, indent=2, default=str))

    @classmethod
    def load(cls, directory: Path) -> TrainedRecommender:
        import tensorflow as tf

        directory = Path(directory)
        meta_path = directory / "meta.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"no trained recommender in {directory} (meta.json is missing)")
        meta = json.loads(meta_path.read_text())
        if meta.get("artifact_version") != ARTIFACT_VERSION:
            raise ValueError(
                f"artifact version {meta.get('artifact_version')} in {directory} is not supported "
                f"(this code reads version {ARTIFACT_VERSION}): train a new version "
                "(manage.py train_recommender)"
            )
        config = config_from_dict(meta["config"])
        network = tf.keras.models.load_model(directory / "network.keras", compile=False)
        with open(directory / "history.pkl", "rb") as file:
            history = pickle.load(file)
        scaling = np.load(directory / "scaling.npz")
        products = pd.read_parquet(directory / "products.parquet")
        products["category_id"] = products["category_id"].astype("Int64")
        bought_together_path = directory / "bought_together.npz"
        bought_together = sp.load_npz(bought_together_path).tocsr() if bought_together_path.exists() else None
        ranker = MlpRanker(
            history=history, network=network, mean=scaling["mean"], std=scaling["std"], config=config
        )
        return cls(
            ranker=ranker,
            products=products,
            metrics=meta["metrics"],
            params=meta["params"],
            counts=meta["counts"],
            timings=meta["timings"],
            bought_together=bought_together,
        )


def train_recommender(
    *,
    order_lines: pd.DataFrame,
    products: pd.DataFrame,
    customers: pd.DataFrame,
    events: pd.DataFrame | None = None,
    config: TrainConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
    served_min_new_items: int | None = None,
) -> TrainedRecommender:
    """Hold out the last period to measure the MLP and every baseline, then train the served model on all.

    The served model is trained for the number of epochs the held-out run chose, on windows that
    include the most recent period, and ranks from the History at the end of the data. With
    ``served_min_new_items`` (the served lists' minimum of never-bought products) the held-out run
    also chooses the lists' weight of never-bought products (``params["new_item_weight_chosen"]``,
    how it was chosen in ``params["new_item_weight_choice"]``).
    """
    config = config or TrainConfig()

    def report(fraction: float, message: str) -> None:
        if progress:
            progress(round(min(max(fraction, 0.0), 1.0), 4), message)

    started = time.monotonic()
    seed_everything(config.seed)
    report(0.0, "checking and cleaning the order lines")
    lines, products, customers, events = prepare_frames(order_lines, products, customers, events)
    if lines.empty:
        raise ValueError("order_lines has no purchase left after cleaning (quantity and price must be > 0)")
    prepared_seconds = time.monotonic() - started
    last = np.datetime64(lines["ordered_at"].max(), "ns")
    end = np.datetime64(pd.Timestamp(last).floor("D").to_datetime64(), "ns") + DAY
    period = choose_period(lines, end, config)
    cutoff = end - period
    report(0.02, f"measuring on the held-out period from {pd.Timestamp(cutoff).date()}")
    cache = WindowCache()
    evaluation = evaluate_protocol(
        order_lines=lines,
        products=products,
        customers=customers,
        events=events,
        cutoff=cutoff,
        end=end,
        config=config,
        prepared=True,
        progress=lambda fraction, message: report(0.02 + 0.55 * fraction, message),
        cache=cache,
        discovery_min_new_items=served_min_new_items,
    )
    chosen_epochs = max(int(evaluation["training"].get("epochs") or config.epochs), 1)
    began = time.monotonic()
    report(0.6, "training the served model on all data")
    ranker, fitted, final_info = fit_mlp(
        order_lines=lines,
        products=products,
        customers=customers,
        events=events,
        cutoff=end,
        config=config,
        epochs=chosen_epochs,
        progress=lambda fraction, message: report(0.6 + 0.38 * fraction, message),
        cache=cache,
    )
    del cache
    bought_together = basket_similarity(lines, ranker.history.product_ids, neighbours=BOUGHT_TOGETHER_KEPT)
    final_seconds = time.monotonic() - began
    timings = {
        "prepare_seconds": round(prepared_seconds, 3),
        **{f"evaluation_{key}": value for key, value in evaluation["timings"].items()},
        "final_training_seconds": round(final_seconds, 3),
        "total_seconds": round(time.monotonic() - started, 3),
    }
    counts = {
        **evaluation["counts"],
        "order_lines": int(len(lines)),
        "customers": int(lines["customer_id"].nunique()),
        "products": int(lines["product_id"].nunique()),
        "training_rows": fitted.rows,
        "training_positives": fitted.positives,
        "data_start": pd.Timestamp(lines["ordered_at"].min()).isoformat(),
        "data_end": pd.Timestamp(last).isoformat(),
    }
    params = {
        **config.as_dict(),
        "period_days_used": evaluation["training"].get("period_days"),
        "epochs_chosen": chosen_epochs,  # what the served networks trained
        "early_stopping_epoch": evaluation["training"].get("early_stopping_epoch"),
        "validation_ndcg_by_epoch": evaluation["training"].get("validation_ndcg_by_epoch"),
        "served_window_cutoffs": final_info["window_cutoffs"],
        "features": list(__import__("recommender.ml.features", fromlist=["FEATURE_NAMES"]).FEATURE_NAMES),
    }
    if evaluation["discovery"] is not None:
        params["new_item_weight_chosen"] = evaluation["discovery"]["new_item_weight"]
        params["new_item_weight_choice"] = evaluation["discovery"]
    report(1.0, "training done")
    return TrainedRecommender(
        ranker=ranker,
        products=products[["product_id", "category_id", "active", "in_stock"]].copy(),
        metrics=evaluation["metrics"],
        params=params,
        counts=counts,
        timings=timings,
        bought_together=bought_together,
    )
