import pandas as pd
import pytest

from recommender.ml import TrainConfig, evaluate_protocol
from recommender.ml.uci import PROTOCOL_CUTOFF, load_uci_frames, read_uci
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


def test_an_online_retail_ii_file_reads_as_the_online_retail_layout(tmp_path):
    # given a file in the Online Retail II layout (Invoice, Price, Customer ID)
    path = tmp_path / "online_retail_ii.parquet"
    pd.DataFrame(
        {
            "Invoice": ["489434", "489434", "C489449"],
            "StockCode": ["85048", "79323P", "22087"],
            "Description": ["a", "b", "c"],
            "Quantity": [12, 12, -12],
            "InvoiceDate": ["2009-12-01 07:45:00"] * 3,
            "Price": [6.95, 6.75, 2.95],
            "Customer ID": [13085.0, 13085.0, 16321.0],
            "Country": ["United Kingdom"] * 3,
        }
    ).to_parquet(path)
    # when it is read
    assert list(read_uci(path).columns) == [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    order_lines, products, customers = load_uci_frames(path)
    # then the cancellation is left out and the two lines are one order of one customer
    assert order_lines["order_id"].tolist() == [489434, 489434]
    assert customers["customer_id"].tolist() == [13085]
    assert len(products) == 2


def test_a_products_name_is_its_most_frequent_description(tmp_path):
    path = tmp_path / "online_retail.parquet"
    pd.DataFrame(
        {
            "InvoiceNo": ["536365", "536366", "536367", "536367"],
            "StockCode": ["85123A", "85123a", "85123A", "71053"],
            "Description": ["WHITE HANGING HEART", "WHITE HEART", "WHITE HANGING HEART", "WHITE LANTERN"],
            "Quantity": [6, 6, 6, 6],
            "InvoiceDate": ["2010-12-01 08:26:00"] * 4,
            "UnitPrice": [2.55, 2.55, 2.55, 3.39],
            "CustomerID": [17850.0] * 4,
            "Country": ["United Kingdom"] * 4,
        }
    ).to_parquet(path)

    order_lines, products, _ = load_uci_frames(path)

    assert products["name"].tolist() == ["WHITE LANTERN", "WHITE HANGING HEART"]


def test_two_years_of_one_shop_are_read_as_one_history(tmp_path):
    # given the shop's earlier year (Online Retail II layout) running into the first days of the later file
    earlier, later = tmp_path / "2009-2010.parquet", tmp_path / "2010-2011.parquet"
    pd.DataFrame(
        {
            "Invoice": ["489434", "536365"],
            "StockCode": ["85048", "85123A"],
            "Description": ["a", "b"],
            "Quantity": [12, 6],
            "InvoiceDate": ["2009-12-01 07:45:00", "2010-12-01 08:26:00"],
            "Price": [6.95, 2.55],
            "Customer ID": [13085.0, 17850.0],
            "Country": ["United Kingdom"] * 2,
        }
    ).to_parquet(earlier)
    pd.DataFrame(
        {
            "InvoiceNo": ["536365", "536366"],
            "StockCode": ["85123A", "71053"],
            "Description": ["b", "c"],
            "Quantity": [6, 6],
            "InvoiceDate": ["2010-12-01 08:26:00", "2010-12-02 09:00:00"],
            "UnitPrice": [2.55, 3.39],
            "CustomerID": [17850.0, 13085.0],
            "Country": ["United Kingdom"] * 2,
        }
    ).to_parquet(later)

    # when both are read, in either order
    for paths in ([earlier, later], [later, earlier]):
        raw = read_uci(paths)

        # then each invoice is there once, the earlier year's first
        assert raw["InvoiceNo"].tolist() == ["489434", "536365", "536366"]
    order_lines, _, customers = load_uci_frames([earlier, later])
    assert order_lines["order_id"].tolist() == [489434, 536365, 536366]
    assert customers["customer_id"].tolist() == [13085, 17850]
