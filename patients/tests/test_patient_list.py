"""Patient list: scope, search, filters, voided toggle for managers, pagination, query count."""

import datetime as dt

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analysis.tests.support import AUDIT_ENTRY, analyze_tables, index_names
from clinic.access import age_band
from conftest import make_patient, names_in
from patients import selectors
from patients.models import Patient

pytestmark = pytest.mark.django_db
URL = "/patients/"


def codes(response):
    return [row["card"].code for row in response.context["rows"]]


def test_it_hides_other_therapists_patients(client, everyone):
    client.force_login(everyone["alice"])
    response = client.get(URL)
    assert codes(response) == ["P001"]
    assert names_in(response.content.decode()) == {"Agatha", "Aldersley"}


def test_a_manager_sees_the_whole_clinic_and_nothing_of_another(client, everyone):
    client.force_login(everyone["carol"])
    assert codes(client.get(URL)) == ["P001", "P002"]


def test_it_searches_by_code_name_and_mrn(client, everyone):
    client.force_login(everyone["carol"])
    assert codes(client.get(URL, {"q": "p002"})) == ["P002"]
    assert codes(client.get(URL, {"q": "brockhurst"})) == ["P002"]
    assert codes(client.get(URL, {"q": "Agatha Aldersley"})) == ["P001"]
    assert codes(client.get(URL, {"q": "MRN-P001"})) == ["P001"]
    assert codes(client.get(URL, {"q": "nobody"})) == []


def test_researchers_search_by_code_only_and_see_no_names(client, everyone):
    client.force_login(everyone["rita"])
    assert codes(client.get(URL, {"q": "Brockhurst"})) == []
    assert codes(client.get(URL, {"q": "MRN-P002"})) == []
    response = client.get(URL, {"q": "P00"})
    assert codes(response) == ["P001", "P002"]
    body = response.content.decode()
    assert names_in(body) == set()
    assert "MRN-P00" not in body
    assert "1950" not in body
    assert age_band(dt.date(1950, 5, 17)) in body  # the age band instead of the birth date


def test_it_filters_by_status_and_therapist(client, everyone, north):
    make_patient(north, "P003", "Inez", "Inactive", everyone["bob"], is_active=False)
    client.force_login(everyone["carol"])
    assert codes(client.get(URL, {"active": "no"})) == ["P003"]
    assert codes(client.get(URL, {"active": "yes"})) == ["P001", "P002"]
    assert codes(client.get(URL, {"therapist": everyone["bob"].pk})) == ["P002", "P003"]


def test_bad_filter_values_are_form_errors_not_500s(client, everyone):
    client.force_login(everyone["carol"])
    for params in [
        {"therapist": "x"},
        {"therapist": everyone["dave"].pk},  # another clinic's therapist is not a choice
        {"active": "maybe"},
        {"page": "-3"},
        {"page": "abc"},
        {"q": "\x00"},
    ]:
        response = client.get(URL, params)
        assert response.status_code == 200, params


def test_voided_patients_are_hidden_unless_a_manager_asks(client, everyone):
    everyone["bobs_patient"].void(by=everyone["carol"], reason="duplicate")
    client.force_login(everyone["carol"])
    assert codes(client.get(URL)) == ["P001"]
    assert codes(client.get(URL, {"voided": "on"})) == ["P001", "P002"]
    client.force_login(everyone["bob"])
    response = client.get(URL, {"voided": "on"})
    assert codes(response) == []
    assert 'name="voided"' not in response.content.decode()


def test_it_pages_by_25(client, carol, north):
    for i in range(30):
        make_patient(north, f"Q{i:03d}", "Pat", f"Number{i}")
    client.force_login(carol)
    first = client.get(URL)
    assert len(codes(first)) == 25
    second = client.get(URL, {"page": 2})
    assert len(codes(second)) == 5
    assert 'rel="prev"' in second.content.decode()


def test_the_query_count_does_not_grow_with_patients(
    client, carol, bob, north, django_assert_max_num_queries
):
    for i in range(25):
        make_patient(north, f"Q{i:03d}", "Pat", f"Number{i}", bob)
    client.force_login(carol)
    client.get(URL)  # warm the permission cache path once
    with django_assert_max_num_queries(10 + AUDIT_ENTRY):
        response = client.get(URL, {"q": "Q", "active": "yes", "therapist": bob.pk})
    assert len(codes(response)) == 25


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_list_counts_and_pages_without_joining_sessions(
    client, carol, alices_patient, session_of
):
    # At clinic scale the COUNT and the page query must not join, group or de-duplicate every
    # session of every patient: only the rows shown get their session count.
    session_of(alices_patient)
    client.force_login(carol)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    patient_queries = [q["sql"] for q in queries if 'FROM "patients_patient"' in q["sql"]]
    count = next(sql for sql in patient_queries if "COUNT(*)" in sql)
    assert "therapy_sessions" not in count
    for sql in patient_queries:
        assert "DISTINCT" not in sql
        assert 'GROUP BY "patients_patient"' not in sql


def test_a_search_reads_the_trigram_indexes_not_the_whole_table(carol, north):
    # A clinic network's patients: a scan then costs more than the index (fresh statistics).
    Patient.objects.bulk_create(
        Patient(clinic=north, code=f"Z{i:05d}", first_name="Pat", last_name=f"Surname{i:05d}")
        for i in range(10000)
    )
    make_patient(north, "P777", "Agatha", "Aldersley", mrn="MRN-7771")
    analyze_tables(Patient)
    for q, found in (("Aldersley", ["P777"]), ("agatha alder", ["P777"]), ("mrn-777", ["P777"])):
        _, queryset = selectors.patients_for_list(carol, QueryDict(f"q={q}"))
        assert [p.code for p in queryset] == found
        used = index_names(queryset)
        assert {"patient_first_name_trgm", "patient_last_name_trgm"} <= used, used
    _, queryset = selectors.patients_for_list(carol, QueryDict("q=Z0123"))
    assert "patient_code_trgm" in index_names(queryset)
    assert len(queryset) == 10  # Z01230 .. Z01239
