import pytest

from recommender.ml import TrainConfig, evaluate_protocol
from recommender.ml.uci import PROTOCOL_CUTOFF, load_uci_frames
from tests.conftest import UCI_PARQUET


@pytest.mark.slow
def test_uci_protocol_counts_and_reference_baselines():
    order_lines, products, customers = load_uci_frames(UCI_PARQUET)

    result = evaluate_protocol(
        order_lines=order_lines,
        products=products,
        customers=customers,
        cutoff=PROTOCOL_CUTOFF,
        config=TrainConfig(run_als=False),
        include_mlp=False,
    )

    counts = result["counts"]
    assert counts["order_lines_before_cutoff"] == 314_750
    assert counts["customers_before_cutoff"] == 3_970
    assert counts["products_before_cutoff"] == 3_606
    assert counts["evaluated_customers"] == 1_538
    metrics = result["metrics"]
    assert metrics["popular"]["ndcg@10"] == pytest.approx(0.1195, abs=0.002)
    assert metrics["personal_top"]["ndcg@10"] == pytest.approx(0.3553, abs=0.002)
    assert metrics["personal_top"]["recall@10"] == pytest.approx(0.1686, abs=0.002)
