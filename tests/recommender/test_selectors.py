from recommender.models import ModelVersion
from recommender.selectors import model_quality_table


def test_nested_new_item_metrics_become_their_own_numeric_columns():
    version = ModelVersion(
        metrics={
            "mlp": {"ndcg@10": 0.38, "recall@10": 0.2, "new_items": {"ndcg@10": 0.13, "recall@10": 0.08}},
            "popular": {
                "ndcg@10": 0.12,
                "recall@10": 0.05,
                "new_items": {"ndcg@10": 0.06, "recall@10": 0.03},
            },
            "evaluated_customers": 1538,
            "cutoff": "2011-11-01",
        }
    )

    table = model_quality_table(model_version=version)

    labels = [column["label"] for column in table["columns"]]
    assert labels == ["NDCG@10", "Recall@10", "New items NDCG@10", "New items Recall@10"]
    mlp = next(row for row in table["rows"] if row["key"] == "mlp")
    assert [cell["value"] for cell in mlp["cells"]] == [0.38, 0.2, 0.13, 0.08]
    assert all(cell["best"] for cell in mlp["cells"])
    assert [row["key"] for row in table["rows"]] == ["mlp", "popular"]
