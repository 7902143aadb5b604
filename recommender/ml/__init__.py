"""The recommender's machine-learning core: plain Python on pandas frames, numpy arrays and Keras.

Nothing here imports Django; the services turn rows into the frames described in ``data.py``.
"""

from recommender.ml.config import TrainConfig, config_from_dict
from recommender.ml.data import FrameError, clean_order_lines
from recommender.ml.evaluate import evaluate_protocol, ranking_metrics
from recommender.ml.reasons import render_reason
from recommender.ml.score import popular_products, recommend, score_pairs, similar_products
from recommender.ml.train import TrainedRecommender, train_recommender

__all__ = [
    "FrameError",
    "TrainConfig",
    "TrainedRecommender",
    "clean_order_lines",
    "config_from_dict",
    "evaluate_protocol",
    "popular_products",
    "ranking_metrics",
    "recommend",
    "render_reason",
    "score_pairs",
    "similar_products",
    "train_recommender",
]
