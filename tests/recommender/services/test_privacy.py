"""The recommender's side of erasure: artifacts of a training that ran during an erasure, and a failing
cleanup that must leave the erasure undone (so it can run again)."""

import dataclasses
import datetime as dt
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from django.utils import timezone

from crm.models import Customer, ErasureRecord
from crm.services import privacy
from crm.services.privacy import customer_erase
from recommender.ml.data import check_customers, check_events, check_products, clean_order_lines
from recommender.ml.features import build_history
from recommender.ml.forget import artifact_customer_ids
from recommender.services import frames
from recommender.services.privacy import artifacts_forget_missing_customers
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def save_history_of_the_shop(directory):
    lines = clean_order_lines(frames.order_line_frame())
    history = build_history(
        order_lines=lines,
        products=check_products(frames.product_frame(), lines),
        customers=check_customers(frames.customer_frame(), lines),
        events=check_events(frames.event_frame()),
        cutoff=np.datetime64(timezone.now().replace(tzinfo=None), "ns"),
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "history.pkl").write_bytes(pickle.dumps(history))


@pytest.fixture
def shop():
    products = ProductFactory.create_batch(3)
    customers = CustomerFactory.create_batch(4)
    for customer in customers:
        for product in products:
            order = OrderFactory(customer=customer, placed_at=timezone.now() - dt.timedelta(days=5))
            OrderLineFactory(order=order, product=product)
    return customers


def test_a_training_that_read_its_data_before_an_erasure_drops_the_customer_when_it_saves(
    shop, settings, tmp_path
):
    settings.MODEL_ARTIFACT_ROOT = tmp_path / "models"
    # given a training that has read everyone, still running (its artifact not yet under the root)
    in_training = tmp_path / "training" / "v00009"
    save_history_of_the_shop(in_training)
    erased = shop[1]
    assert erased.pk in artifact_customer_ids(in_training)

    # when the customer is erased meanwhile, and the training then saves
    customer_erase(customer=erased)
    dropped = artifacts_forget_missing_customers(in_training)

    # then the saved artifact no longer holds them, and everyone else is still there
    assert dropped == 1
    assert set(artifact_customer_ids(in_training).tolist()) == {customer.pk for customer in shop} - {
        erased.pk
    }


def test_an_artifact_of_more_customers_than_one_query_can_name_keeps_the_ones_that_exist(shop, tmp_path):
    # given a saved artifact of the shop's 4 customers and 70,000 more that no longer exist (more ids
    # than PostgreSQL takes parameters in one query: 65,535)
    directory = tmp_path / "training" / "v00010"
    save_history_of_the_shop(directory)
    history = pickle.loads((directory / "history.pkl").read_bytes())
    gone = np.arange(10**9, 10**9 + 70_000, dtype=history.customer_ids.dtype)

    def padded(rows):
        return np.concatenate([rows, np.zeros((len(gone), *rows.shape[1:]), dtype=rows.dtype)])

    def padded_matrix(matrix):
        return sp.vstack([matrix, sp.csr_matrix((len(gone), matrix.shape[1]), dtype=matrix.dtype)]).tocsr()

    larger = dataclasses.replace(
        history,
        customer_ids=np.concatenate([history.customer_ids, gone]),
        customer_country=padded(history.customer_country),
        customer_stats=padded(history.customer_stats),
        bought=padded_matrix(history.bought),
        recency=padded_matrix(history.recency),
        customer_words=padded_matrix(history.customer_words),
        customer_words_recent=padded_matrix(history.customer_words_recent),
    )
    (directory / "history.pkl").write_bytes(pickle.dumps(larger))

    # when the training saves it
    dropped = artifacts_forget_missing_customers(directory)

    # then the customers that are gone are dropped and the shop's are kept
    assert dropped == len(gone)
    assert set(artifact_customer_ids(directory).tolist()) == {customer.pk for customer in shop}


def test_a_failing_cleanup_leaves_the_erasure_undone_so_it_can_run_again(shop, settings, tmp_path):
    settings.MODEL_ARTIFACT_ROOT = tmp_path / "models"
    save_history_of_the_shop(settings.MODEL_ARTIFACT_ROOT / "v00001")
    customer = shop[0]

    def broken_disk(customer_ids):
        raise OSError("disk full")

    privacy.erasure_hook_register("broken", broken_disk)
    try:
        with pytest.raises(OSError, match="disk full"):
            customer_erase(customer=customer)
    finally:
        privacy._erasure_hooks.pop("broken")

    assert Customer.objects.filter(pk=customer.pk, name=customer.name).exists()
    assert customer.orders.count() == 3 and not ErasureRecord.objects.exists()

    outcome = customer_erase(customer=customer)
    assert not outcome.already_erased
    assert customer.pk not in artifact_customer_ids(settings.MODEL_ARTIFACT_ROOT / "v00001")
