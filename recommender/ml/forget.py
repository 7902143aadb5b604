"""Forgetting customers: their rows taken out of a History, and out of a saved artifact's History.

A saved artifact holds per-customer statistics (what each customer bought, how often and when, their
country, spend per category, recent views, the words in the names of what they bought) indexed by
customer. Forgetting removes those rows and re-numbers the customers after them; everything else
(product statistics, co-purchase neighbours, popularity, the network's weights) is aggregate over all
customers and stays until the next training.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path

import numpy as np

from recommender.ml.features import History

HISTORY_FILE = "history.pkl"


def history_without_customers(history: History, customer_ids: np.ndarray) -> tuple[History, int]:
    """``history`` without the given customers (database ids); returns it and how many were removed."""
    position, found = history.customer_index(np.asarray(customer_ids, dtype=np.int64))
    drop = np.unique(position[found])
    if len(drop) == 0:
        return history, 0
    keep = np.ones(history.n_customers, dtype=bool)
    keep[drop] = False
    new_index = np.cumsum(keep) - 1

    def rekey(keys: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
        # keys are customer * width + column; removing customers keeps them sorted
        customer, column = np.divmod(keys, width)
        kept = keep[customer]
        return new_index[customer[kept]] * width + column[kept], kept

    pair_keys, pair_kept = rekey(history.pair_keys, history.n_products)
    event_keys, event_kept = rekey(history.event_keys, history.n_products)
    category_keys, category_kept = rekey(history.category_keys, max(len(history.categories), 1))
    forgotten = dataclasses.replace(
        history,
        customer_ids=history.customer_ids[keep],
        customer_country=history.customer_country[keep],
        pair_keys=pair_keys,
        pair_stats=history.pair_stats[pair_kept],
        bought=history.bought[keep],
        recency=history.recency[keep],
        customer_stats=history.customer_stats[keep],
        customer_words=history.customer_words[keep],
        customer_words_recent=history.customer_words_recent[keep],
        category_keys=category_keys,
        category_share=history.category_share[category_kept],
        event_keys=event_keys,
        event_counts=history.event_counts[event_kept],
    )
    return forgotten, len(drop)


def artifact_customer_ids(directory: Path) -> np.ndarray:
    """The customers (database ids) a saved artifact holds statistics of."""
    with open(Path(directory) / HISTORY_FILE, "rb") as file:
        return pickle.load(file).customer_ids


def artifact_forget_customers(directory: Path, customer_ids: np.ndarray) -> int:
    """Rewrite the artifact in ``directory`` without the given customers; returns how many it held.

    The new file replaces the old one atomically, so a reader sees either the old or the new one.
    """
    path = Path(directory) / HISTORY_FILE
    if not path.is_file():
        return 0
    with open(path, "rb") as file:
        history = pickle.load(file)
    forgotten, removed = history_without_customers(history, customer_ids)
    if removed:
        temporary = path.with_name(f".{HISTORY_FILE}.{os.getpid()}.tmp")
        with open(temporary, "wb") as file:
            pickle.dump(forgotten, file, protocol=pickle.HIGHEST_PROTOCOL)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    return removed
