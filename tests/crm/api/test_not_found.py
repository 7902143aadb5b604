"""An unknown id in a staff endpoint's URL: a 404 that names it, on every viewset."""

import pytest

from tests.factories import StaffUserFactory


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("/api/customers/NOPE/", "No customer with id 'NOPE'."),
        ("/api/products/NOPE/", "No product with id 'NOPE'."),
        ("/api/orders/NOPE/", "No order with id 'NOPE'."),
        ("/api/promotions/999999/", "No promotion with id '999999'."),
        ("/api/jobs/999999/", "No job with id '999999'."),
        ("/api/model-versions/999999/", "No model version with id '999999'."),
    ],
)
def test_an_unknown_id_is_a_404_naming_it(client, db, url, detail):
    """It said "No Customer matches the given query.", where /api/customers/NOPE/recommendations/ said
    "No customer with id 'NOPE'."."""
    client.force_login(StaffUserFactory())
    response = client.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": detail}
