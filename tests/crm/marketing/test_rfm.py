import datetime as dt

import pandas as pd
import pytest

from crm.marketing.rfm import GROUPS, SEGMENT_MAP, quintile_scores, rfm_group, rfm_table

AS_OF = dt.date(2024, 6, 30)


def _days(rows):
    return pd.DataFrame(rows, columns=["customer_id", "day", "amount"])


def test_rfm_measures_recency_frequency_and_net_spend():
    # given customer 1 buying twice on one day, once later, and returning goods on a third day
    purchase_days = _days(
        [
            (1, "2024-06-01", 10.0),
            (1, "2024-06-01", 5.0),
            (1, "2024-06-20", 20.0),
            (1, "2024-06-25", -8.0),
            (2, "2024-01-10", 100.0),
            (2, "2024-07-05", 50.0),  # after the as-of date: ignored
        ]
    )

    # when
    table = rfm_table(purchase_days, as_of=AS_OF).set_index("customer_id")

    # then the return lowers spend but is not a purchase day; orders on one day count once
    assert table.loc[1, "recency_days"] == 10
    assert table.loc[1, "frequency"] == 2
    assert table.loc[1, "monetary"] == pytest.approx(27.0)
    assert table.loc[2, "recency_days"] == (AS_OF - dt.date(2024, 1, 10)).days
    assert table.loc[2, "frequency"] == 1
    assert table.loc[2, "monetary"] == pytest.approx(100.0)


def test_quintile_scores_are_equal_sized_even_with_ties():
    # given ten customers, eight of whom bought exactly once
    frequency = pd.Series([1, 1, 1, 1, 1, 1, 1, 1, 4, 9])

    scores = quintile_scores(frequency)

    # then every score 1..5 is used twice and the best two customers score 5
    assert sorted(scores.value_counts().to_dict().items()) == [(1, 2), (2, 2), (3, 2), (4, 2), (5, 2)]
    assert list(scores.iloc[-2:]) == [5, 5]
    # recent is good: the smallest recency gets 5
    recency = quintile_scores(pd.Series([1, 50, 100, 200, 300]), higher_is_better=False)
    assert list(recency) == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("r", "f", "group"),
    [
        (5, 5, "champions"),
        (5, 4, "champions"),
        (4, 5, "loyal"),
        (3, 4, "loyal"),
        (5, 2, "potential_loyalists"),
        (4, 3, "potential_loyalists"),
        (5, 1, "new"),
        (4, 1, "promising"),
        (3, 3, "need_attention"),
        (3, 1, "about_to_sleep"),
        (2, 3, "at_risk"),
        (1, 4, "at_risk"),
        (2, 5, "cant_lose"),
        (2, 1, "hibernating"),
        (1, 2, "hibernating"),
        (1, 1, "lost"),
    ],
)
def test_segment_map(r, f, group):
    assert rfm_group(r, f) == group


def test_segment_map_covers_every_score_pair_with_known_groups():
    groups = {rfm_group(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert groups == set(GROUPS)
    assert {group for group, _, _ in SEGMENT_MAP} == set(GROUPS)
    with pytest.raises(ValueError, match="R=0"):
        rfm_group(0, 3)


def test_groups_on_a_hand_made_frame():
    # given five customers: a recent frequent big spender down to one who bought once, long ago
    rows = []
    for day in range(10):
        rows.append((1, f"2024-06-{20 + day % 10:02d}", 100.0))
    for day in range(6):
        rows.append((2, f"2024-05-{10 + day:02d}", 40.0))
    rows += [(3, "2024-06-29", 15.0)]
    rows += [(4, "2024-02-01", 50.0), (4, "2024-02-10", 50.0), (4, "2024-02-20", 50.0)]
    rows += [(5, "2023-07-01", 5.0)]

    table = rfm_table(_days(rows), as_of=AS_OF).set_index("customer_id")

    assert table.loc[1, ["r_score", "f_score", "m_score"]].tolist() == [4, 5, 5]
    assert table.loc[3, ["r_score", "f_score"]].tolist() == [5, 1]
    assert table.loc[3, "rfm_group"] == "new"
    assert table.loc[5, ["r_score", "f_score", "m_score"]].tolist() == [1, 2, 1]
    assert table.loc[5, "rfm_group"] == "hibernating"
    assert table.loc[4, "rfm_group"] == "at_risk"
    assert table.loc[1, "rfm_group"] == "loyal"
    assert set(table["rfm_group"]) <= set(GROUPS)
