"""/api/v1/patients/: list, search, filters, create, update, void, calibrations, protocol."""

import pytest
from rest_framework.test import APIClient

from conftest import names_in
from patients.models import MvcCalibration, Patient

pytestmark = pytest.mark.django_db
URL = "/api/v1/patients/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def codes(response):
    assert response.status_code == 200, response.content
    return [p["code"] for p in response.json()["results"]]


def test_list_is_scoped_paginated_searchable_and_filterable(everyone):
    alice, carol = everyone["alice"], everyone["carol"]
    assert codes(api(alice).get(URL)) == ["P001"]
    assert codes(api(carol).get(URL)) == ["P001", "P002"]
    assert codes(api(carol).get(URL, {"q": "bertram"})) == ["P002"]
    assert codes(api(carol).get(URL, {"q": "MRN-P001"})) == ["P001"]
    assert codes(api(carol).get(URL, {"therapist": alice.pk})) == ["P001"]
    assert codes(api(carol).get(URL, {"ordering": "-code"})) == ["P002", "P001"]
    assert codes(api(carol).get(URL, {"active": "no"})) == []
    page = api(carol).get(URL, {"page_size": 1}).json()
    assert page["count"] == 2
    assert len(page["results"]) == 1
    assert page["next"]


def test_researcher_sees_pseudonymised_fields_only(everyone):
    body = api(everyone["rita"]).get(URL).json()
    assert [p["code"] for p in body["results"]] == ["P001", "P002"]
    for patient in body["results"]:
        for field in ("first_name", "last_name", "mrn", "date_of_birth", "notes"):
            assert patient[field] is None
        assert patient["age_band"]
    assert names_in(str(body)) == set()
    # Searching by name finds nothing for them (only the code is searched).
    assert codes(api(everyone["rita"]).get(URL, {"q": "Agatha"})) == []
    detail = api(everyone["rita"]).get(f"{URL}{everyone['alices_patient'].pk}/")
    assert detail.status_code == 200
    assert "MRN" not in detail.content.decode()


def test_create_update_and_void_through_the_pages_rules(everyone):
    alice, carol = everyone["alice"], everyone["carol"]
    created = api(alice).post(
        URL,
        {"code": "P010", "first_name": "Nora", "last_name": "New", "date_of_birth": "1960-02-03"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["therapists"] == [alice.pk]  # a therapist who creates a patient keeps it
    assert body["first_name"] == "Nora"
    pk = body["id"]
    # A duplicate code is a field error in the one error format.
    duplicate = api(alice).post(
        URL, {"code": "p010", "first_name": "X", "last_name": "Y"}, format="json"
    )
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "detail": "Another patient of this clinic already has this code.",
        "code": "invalid",
        "errors": {"code": ["Another patient of this clinic already has this code."]},
    }
    patched = api(alice).patch(f"{URL}{pk}/", {"notes": "Left knee."}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["notes"] == "Left knee."
    assert patched.json()["first_name"] == "Nora"  # untouched fields keep their values
    assert patched.json()["is_active"] is True
    # Therapists may not void; managers may, with a reason.
    assert api(alice).post(f"{URL}{pk}/void/", {"reason": "dup"}, format="json").status_code == 403
    no_reason = api(carol).post(f"{URL}{pk}/void/", {"reason": "  "}, format="json")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["errors"]
    voided = api(carol).post(f"{URL}{pk}/void/", {"reason": "Duplicate of P001"}, format="json")
    assert voided.status_code == 200
    assert voided.json()["is_voided"] is True
    # A void patient is gone for the therapist, and cannot be changed.
    assert api(alice).get(f"{URL}{pk}/").status_code == 404
    assert api(carol).patch(f"{URL}{pk}/", {"notes": "x"}, format="json").status_code == 404
    assert codes(api(carol).get(URL, {"voided": "true"})).count("P010") == 1


def test_researchers_cannot_write(everyone):
    rita = everyone["rita"]
    response = api(rita).post(
        URL, {"code": "R1", "first_name": "a", "last_name": "b"}, format="json"
    )
    assert response.status_code == 403
    assert Patient.objects.filter(code="R1").count() == 0


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        {"code": {"a": 1}, "first_name": "a", "last_name": "b"},
        {"code": "X1", "first_name": "a", "last_name": "b", "date_of_birth": [1]},
        {"code": "X1", "first_name": "a\x00", "last_name": "b"},
        {"code": "X1", "first_name": "a", "last_name": "b", "therapists": "1"},
        {"code": "X1", "first_name": "a", "last_name": "b", "planned_sessions": 10**30},
        {"code": "X1", "first_name": "a", "last_name": "b", "date_of_birth": "2999-01-01"},
    ],
)
def test_bad_bodies_are_400_with_field_messages(alice, body):
    response = api(alice).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"detail", "code", "errors"}


@pytest.mark.parametrize(
    "query",
    [
        {"therapist": "x"},
        {"active": "maybe"},
        {"ordering": "last_name"},
        {"q": "a\x00"},
        {"page": "9"},
    ],
)
def test_bad_queries_are_4xx(everyone, query):
    response = api(everyone["carol"]).get(URL, query)
    assert response.status_code in (400, 404), response.content
    assert "detail" in response.json()


def test_malformed_ids_are_404(alice):
    for pk in ("abc", "99999999999999999999999", "0"):
        assert api(alice).get(f"{URL}{pk}/").status_code == 404


def test_calibrations_by_value_and_protocol(everyone):
    alice, rita = everyone["alice"], everyone["rita"]
    pk = everyone["alices_patient"].pk
    added = api(alice).post(
        f"{URL}{pk}/calibrations/",
        {"muscle": "Quadriceps", "side": "left", "value_uv": 250.0, "notes": "by hand"},
        format="json",
    )
    assert added.status_code == 201, added.content
    assert added.json()["muscle_key"] == "left quadriceps"
    assert added.json()["value_v"] == pytest.approx(250e-6)
    listed = api(rita).get(f"{URL}{pk}/calibrations/").json()
    assert [c["value_uv"] for c in listed] == [pytest.approx(250.0)]
    assert listed[0]["notes"] is None
    bad = api(alice).post(
        f"{URL}{pk}/calibrations/", {"muscle": "q", "value_uv": "x"}, format="json"
    )
    assert bad.status_code == 400
    assert "value_uv" in bad.json()["errors"]
    assert MvcCalibration.objects.count() == 1
    # Protocol: overrides over the clinic defaults.
    protocol_url = f"{URL}{pk}/protocol/"
    assert api(alice).get(protocol_url).json()["overrides"]["hold_s"] is None
    weights = {"compliance": 0.4, "symmetry": 0.2, "effort": 0.2, "game": 0.2}
    saved = api(alice).put(protocol_url, {"hold_s": 3.0, "scoring_weights": weights}, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["effective"]["hold_s"] == 3.0
    assert saved.json()["overrides"]["scoring_weights"] == weights
    wrong = api(alice).put(
        protocol_url, {"scoring_weights": {"compliance": 0.9, "symmetry": 0.9}}, format="json"
    )
    assert wrong.status_code == 400
    assert api(rita).put(protocol_url, {"hold_s": 1}, format="json").status_code == 403
    assert api(everyone["dave"]).get(protocol_url).status_code == 404
