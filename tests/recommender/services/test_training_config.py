"""RECOMMENDER_TRAIN_CONFIG reaches training: a shop that sets ``networks`` is served the merged network."""

import datetime as dt

import pytest

from crm.services.demo_data import generate_demo_data
from recommender.ml.explain import network_layers
from recommender.models import ModelVersion
from recommender.services.scoring import trained_model_for
from recommender.services.training import model_version_train

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1, "hidden_layers": [16, 8]}


def dense_widths(version: ModelVersion) -> list[int]:
    kernels, _, _ = network_layers(trained_model_for(version).ranker.network)
    return [kernel.shape[1] for kernel in kernels]


def test_the_setting_merges_networks_and_a_version_s_own_config_wins(settings):
    generate_demo_data(customers=80, products=40, orders=1200, seed=3, start=dt.date(2024, 1, 1), months=8)
    settings.RECOMMENDER_TRAIN_CONFIG = {"networks": 2}

    merged = model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))
    single = model_version_train(
        model_version=ModelVersion.objects.create(params={"config": {**FAST, "networks": 1}})
    )

    assert dense_widths(merged) == [32, 16, 1]
    assert merged.params["networks"] == 2  # what the version was trained with, as it records it
    assert dense_widths(single) == [16, 8, 1]
    assert single.params["networks"] == 1
