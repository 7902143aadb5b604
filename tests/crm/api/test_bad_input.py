"""A value the schema does not allow is refused with a 400 naming the parameter or field, never
silently read as "no filter" or as something else."""

import pytest

from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("active=-1", "active"),
        ("active=-1&in_stock=-1", "active"),
        ("in_stock=maybe", "in_stock"),
        ("active=", "active"),
        ("active=true&active=false", "active"),
        ("ordering=password", "ordering"),
        ("ordering=name,-secret", "ordering"),
        ("page_size=1&page_size=2", "page_size"),
        ("search=a&search=b", "search"),
        ("search=%00", "search"),
    ],
)
def test_a_bad_product_filter_is_a_400_naming_it(staff_client, query, parameter):
    ProductFactory(active=True)

    response = staff_client.get(f"/api/products/?{query}")

    assert response.status_code == 400
    assert parameter in response.json()


def test_boolean_filters_read_the_spellings_clients_send(staff_client):
    ProductFactory(external_id="ON", active=True)
    ProductFactory(external_id="OFF", active=False)

    def ids(query: str) -> list[str]:
        return [row["external_id"] for row in staff_client.get(f"/api/products/?{query}").json()["results"]]

    assert ids("active=true") == ids("active=True") == ids("active=1") == ["ON"]
    assert ids("active=false") == ids("active=0") == ["OFF"]
    assert ids("ordering=-external_id") == ["ON", "OFF"]


def test_an_empty_date_bound_is_refused_but_an_empty_text_filter_is_no_filter(staff_client):
    response = staff_client.get("/api/orders/?placed_at_before=")
    assert response.status_code == 400
    assert list(response.json()) == ["placed_at_before"]
    assert staff_client.get("/api/orders/?customer=").status_code == 200


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("placed_at_after=notadate", ["placed_at_after"]),
        ("placed_at_before=2011-02-30", ["placed_at_before"]),
        ("placed_at_after=2011-01-01&placed_at_before=never", ["placed_at_before"]),
    ],
)
def test_a_bad_date_bound_is_named_as_the_schema_names_it(staff_client, query, named):
    """The range filter named both bounds' errors ``placed_at``, a parameter no client sends."""
    response = staff_client.get(f"/api/orders/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == named


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        ("/api/orders/", "placed_at_after=0001-01-01T00:00:00%2B01:00", "placed_at_after"),
        ("/api/orders/", "placed_at_before=9999-12-31T23:59:59-05:00", "placed_at_before"),
        ("/api/me/orders/", "placed_at_after=9999-12-31T23:59:59-05:00", "placed_at_after"),
        ("/api/me/orders/", "placed_at_before=0001-01-01T00:00:00%2B01:00", "placed_at_before"),
    ],
)
def test_a_date_bound_beyond_the_calendar_in_utc_is_a_400_naming_it(
    staff_client, shopper_client, path, query, named
):
    """A moment the database cannot hold once read in UTC overflowed into a 500 on SQLite."""
    client = shopper_client if path.startswith("/api/me/") else staff_client

    response = client.get(f"{path}?{query}")

    assert response.status_code == 400
    assert response.json() == {named: ["Datetime value out of range."]}


def test_the_calendars_ends_in_utc_are_bounds_like_any_other(staff_client):
    response = staff_client.get(
        "/api/orders/?placed_at_after=0001-01-01T00:00:00Z&placed_at_before=9999-12-31T23:59:59Z"
    )

    assert response.status_code == 200


@pytest.mark.parametrize("query", ["limit=824", "limit=0", "limit=", "limit=5&limit=6", "limit=1.5"])
def test_a_bad_limit_is_a_400_naming_it(staff_client, query):
    customer = CustomerFactory()

    response = staff_client.get(f"/api/customers/{customer.external_id}/recommendations/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == ["limit"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": "6"}, "lines[0].quantity"),
        ({"quantity": 6.0}, "lines[0].quantity"),
        ({"unit_price": 2.55}, "lines[0].unit_price"),
        ({"unit_price": "1e3"}, "lines[0].unit_price"),
        ({"unit_price": " 2.55"}, "lines[0].unit_price"),
        ({"product_id": 71053}, "lines[0].product_id"),
    ],
)
def test_ingest_takes_each_field_in_its_documented_json_type(staff_client, change, field):
    line = {"product_id": "71053", "quantity": 6, "unit_price": "2.55", **change}
    order = {
        "order_id": "536365",
        "customer_id": "17850",
        "ordered_at": "2010-12-01T08:26:00Z",
        "lines": [line],
    }

    response = staff_client.post("/api/ingest/orders/", [order], format="json")

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_ingest_takes_json_only(staff_client):
    response = staff_client.post("/api/ingest/orders/", {"order_id": "1"}, format="multipart")

    assert response.status_code == 415


def test_an_unknown_api_url_answers_json(staff_client):
    response = staff_client.get("/api/promotions/-1/targets/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    "url",
    ["/api/customers/a%00b/", "/api/customers/a%00b/recommendations/", "/api/products/a%00b/similar/"],
)
def test_an_id_with_a_nul_character_is_not_found_rather_than_a_server_error(staff_client, url):
    response = staff_client.get(url)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
