"""The read-time blend of a stored list with the neighbours of what the shopper just did."""

import pytest

from recommender.ml.realtime import (
    SIGNAL_FADE,
    Signal,
    blend,
    neighbour_scores,
    signal_reason,
    signal_strengths,
)

STORED = [(1, 0.9), (2, 0.6), (3, 0.3)]
NEIGHBOURS = {10: [(20, 0.8), (3, 0.5)], 11: [(21, 0.9)]}


def test_without_signals_the_stored_list_comes_back_unchanged():
    rows = blend(stored=STORED, signals=[], neighbours=NEIGHBOURS, limit=10)
    assert [(row.product_id, row.score, row.stored_rank, row.because_of) for row in rows] == [
        (1, 0.9, 1, None),
        (2, 0.6, 2, None),
        (3, 0.3, 3, None),
    ]


def test_a_viewed_products_neighbour_moves_up_and_names_the_view():
    viewed = Signal(10, "view", "Garden chair")
    rows = blend(stored=STORED, signals=[viewed], neighbours=NEIGHBOURS, limit=10)
    order = [row.product_id for row in rows]
    # 20 is not in the stored list at all; the view brings it above the stored list's second product
    assert order.index(20) < order.index(2)
    # 3 is in the stored list and a neighbour: it moves above 2
    assert order.index(3) < order.index(2)
    brought = next(row for row in rows if row.product_id == 20)
    assert brought.stored_rank is None and brought.because_of == viewed
    assert signal_reason(brought.because_of) == "Because you viewed Garden chair"
    # the stored list's best keeps its reason: its stored share is larger
    assert next(row for row in rows if row.product_id == 1).because_of is None


def test_basket_products_are_never_recommended_and_their_neighbours_say_so():
    basket = Signal(1, "basket", "Tea set")
    rows = blend(
        stored=STORED, signals=[basket], neighbours={1: [(30, 1.0)]}, exclude={1}, limit=10, weight=0.5
    )
    assert 1 not in [row.product_id for row in rows]
    completing = next(row for row in rows if row.product_id == 30)
    assert signal_reason(completing.because_of) == "Goes with Tea set in your basket"


def test_weight_zero_keeps_the_stored_order_and_weight_one_follows_the_neighbours():
    signals = [Signal(11, "view", "x")]
    assert [
        row.product_id
        for row in blend(stored=STORED, signals=signals, neighbours=NEIGHBOURS, limit=3, weight=0.0)
    ] == [1, 2, 3]
    assert (
        blend(stored=STORED, signals=signals, neighbours=NEIGHBOURS, limit=1, weight=1.0)[0].product_id == 21
    )
    with pytest.raises(ValueError, match="between 0 and 1"):
        blend(stored=STORED, signals=signals, neighbours=NEIGHBOURS, limit=3, weight=1.5)


def test_newer_and_stronger_signals_count_more():
    strengths = signal_strengths([Signal(1, "view"), Signal(2, "view")])
    assert strengths[1][0] > strengths[2][0]  # the newest view counts more than the one before
    # a basket item outweighs a view in the same place
    assert signal_strengths([Signal(3, "basket")])[3][0] > signal_strengths([Signal(3, "view")])[3][0]
    # a product related to two signals sums them, and names the one that gave most
    scores = neighbour_scores(
        [Signal(1, "view", "a"), Signal(2, "basket", "b")], {1: [(9, 0.5)], 2: [(9, 0.8)]}
    )
    total, signal = scores[9]
    assert total == pytest.approx(0.5 * 1.0 * 0.5 + 0.8 * SIGNAL_FADE * 1.0)
    assert signal.product_id == 2


def test_unknown_kinds_and_non_positive_similarities_add_nothing():
    assert neighbour_scores([Signal(1, "search")], {1: [(9, 0.5)]}) == {}
    assert neighbour_scores([Signal(1, "view")], {1: [(9, 0.0)]}) == {}


def test_a_weak_neighbour_of_the_basket_does_not_push_the_customers_own_list_down():
    # given a basket whose only neighbour is rarely in the same order
    basket = [Signal(5, "basket", "Lamp")]
    weak = {5: [(40, 0.05)]}
    # when the stored list is blended with it
    rows = blend(stored=STORED, signals=basket, neighbours=weak, exclude={5}, limit=10)
    # then the neighbour comes after the customer's list: similarity is not scaled up to the best one
    assert [row.product_id for row in rows] == [1, 2, 3, 40]
    # while a neighbour bought with it in most orders leads
    strong = {5: [(40, 0.9)]}
    rows = blend(stored=STORED, signals=basket, neighbours=strong, exclude={5}, limit=10)
    assert rows[0].product_id == 40
    assert signal_reason(rows[0].because_of) == "Goes with Lamp in your basket"


def test_the_neighbours_of_the_product_added_last_lead_over_those_of_earlier_ones():
    # given a basket, the last added first: 10 goes with the newest item, 11 with two older ones
    basket = [Signal(1, "basket"), Signal(2, "basket"), Signal(3, "basket")]
    neighbours = {1: [(10, 0.5)], 2: [(11, 0.4)], 3: [(11, 0.4)]}
    # when only the neighbours rank
    rows = blend(stored=[], signals=basket, neighbours=neighbours, exclude={1, 2, 3}, limit=2, weight=1.0)
    # then the newest item's neighbour comes first
    assert [row.product_id for row in rows] == [10, 11]
    with pytest.raises(ValueError, match="fade"):
        blend(stored=[], signals=basket, neighbours=neighbours, limit=2, fade=0.0)


def test_the_stored_list_can_bring_its_order_instead_of_its_scores():
    # given a stored list whose second product was placed above a better-scored one (a never-bought
    # product weighed up when the list was served), and a view that points at neither
    stored = [(1, 0.9), (2, 0.2), (3, 0.5)]
    signals = [Signal(11, "view", "x")]

    by_score = blend(stored=stored, signals=signals, neighbours=NEIGHBOURS, limit=4, weight=0.5)
    by_rank = blend(
        stored=stored, signals=signals, neighbours=NEIGHBOURS, limit=4, weight=0.5, stored_by="rank"
    )

    # then by score the blend re-sorts the stored products by the network's score; by rank it keeps
    # the order they were served in
    assert [row.product_id for row in by_score if row.stored_rank] == [1, 3, 2]
    assert [row.product_id for row in by_rank if row.stored_rank] == [1, 2, 3]
    with pytest.raises(ValueError, match="stored_by"):
        blend(stored=stored, signals=signals, neighbours=NEIGHBOURS, limit=4, stored_by="price")


def test_the_blend_weighs_up_never_bought_products_as_the_stored_list_did():
    # product 3 was stored first: never bought, its score counted twice (0.5 x 2 over 0.9 and 0.8)
    stored = [(3, 0.5), (1, 0.9), (2, 0.8)]
    unrelated = Signal(10, "view")
    neighbours = {10: [(20, 0.1)]}

    plain = blend(stored=stored, signals=[unrelated], neighbours=neighbours, limit=10)
    kept = blend(
        stored=stored,
        signals=[unrelated],
        neighbours=neighbours,
        limit=10,
        bought={1, 2},
        new_item_weight=2.0,
    )

    # by the network's scores alone the view would put the repeats first
    assert [row.product_id for row in plain][:3] == [1, 2, 3]
    assert [row.product_id for row in kept][:3] == [3, 1, 2]


def test_the_blend_keeps_the_minimum_of_never_bought_products_in_the_first_places():
    # nine repeats, then the one never-bought product (the stored list held it at place 8)
    stored = [(product_id, 0.9 - product_id / 100) for product_id in range(1, 8)]
    stored += [(100, 0.3), (8, 0.82), (9, 0.81)]
    bought = set(range(1, 10)) | {20, 21}
    # a view brings up two products the customer also bought before
    viewed = Signal(10, "view")
    neighbours = {10: [(20, 0.9), (21, 0.8)]}

    def first_eight(**discovery):
        rows = blend(stored=stored, signals=[viewed], neighbours=neighbours, limit=10, **discovery)
        return [row.product_id for row in rows][:8]

    assert 100 not in first_eight()
    assert 100 not in first_eight(bought=bought, min_new_items=0)
    assert first_eight(bought=bought, min_new_items=1)[-1] == 100
    # a visitor (no purchases known) gets the blend as it comes
    assert 100 not in first_eight(bought=None, min_new_items=1)
