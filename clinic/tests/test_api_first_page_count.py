"""The API's paginator (``clinic.api.base.FirstPageCountPaginator``) gives what Django's gives,
counts and links included, and leaves out the COUNT query only when the first page is not
full (its rows are then all there is)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinic.services import api_token_create
from conftest import make_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of_carol(everyone):
    carol, alice = everyone["carol"], everyone["alice"]
    for i in range(3):
        make_patient(carol.clinic, f"Q{i}", "Quinn", "Query", alice)
    _, key = api_token_create(user=carol, name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.get("/api/v1/patients/")  # warm: the token's last-used stamp
    return client


def get(client, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/patients/", params)
    counts = [q for q in queries if "COUNT(*)" in q["sql"] and "patients_patient" in q["sql"]]
    return response, counts


def codes(body):
    return [row["code"] for row in body["results"]]


# carol's clinic: alice's, bob's and the three patients above (5), ordered by code
ALL = ["P001", "P002", "Q0", "Q1", "Q2"]


@pytest.mark.parametrize(
    ("params", "count_query", "shown", "has_next", "has_previous"),
    [
        ({}, False, ALL, False, False),  # short first page: no COUNT
        ({"page": "1"}, False, ALL, False, False),
        ({"page_size": "5"}, True, ALL, False, False),  # full first page: COUNT
        ({"page_size": "2"}, True, ALL[:2], True, False),
        ({"page_size": "2", "page": "2"}, True, ALL[2:4], True, True),
        ({"page_size": "2", "page": "3"}, True, ALL[4:], False, True),
        ({"page_size": "2", "page": "last"}, True, ALL[4:], False, True),
    ],
)
def test_pages_and_counts(client_of_carol, params, count_query, shown, has_next, has_previous):
    response, counts = get(client_of_carol, params)
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 5
    assert codes(body) == shown
    assert bool(body["next"]) is has_next
    assert bool(body["previous"]) is has_previous
    assert len(counts) == (1 if count_query else 0)


@pytest.mark.parametrize("page_param", ["2", "0", "x", "1.5", ""])
def test_pages_out_of_range_or_malformed_answer_as_before(client_of_carol, page_param):
    response, _ = get(client_of_carol, {"page": page_param})
    if page_param == "":
        assert response.status_code == 200
        assert response.json()["count"] == 5
    else:
        assert response.status_code == 404
