"""The patient page's export downloads: CSV tables, JSON and FHIR, 404 out of scope, 400 for an
unknown table, pseudonymised for researchers, streamed under ASGI too."""

import csv
import io
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from analysis.tests.support import analysed
from conftest import PATIENT_KEYS, PATIENTS_SEEN_BY, names_in

pytestmark = pytest.mark.django_db

DOWNLOADS = ("patients:export-csv", "patients:export-json", "patients:fhir")


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.fixture
def round_of(session_of):
    def make(patient):
        return analysed(session_of(patient, rpe=5), f"{patient.last_name}_round1.c3d")

    return make


def test_the_patient_page_links_its_downloads(client, alice, alices_patient):
    client.force_login(alice)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    for name in DOWNLOADS:
        assert reverse(name, args=[alices_patient.pk]) in body
    for table in ("sessions", "recordings", "channels", "contractions"):
        assert f"export.csv?table={table}" in body


def test_each_table_downloads_as_csv(client, alice, alices_patient, round_of):
    round_of(alices_patient)
    client.force_login(alice)
    url = reverse("patients:export-csv", args=[alices_patient.pk])
    response = client.get(url, {"table": "contractions"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="patient-{alices_patient.pk}-contractions.csv"'
    )
    assert "no-store" in response["Cache-Control"]  # patient data is never cached
    rows = list(csv.DictReader(io.StringIO(body_of(response))))
    assert len(rows) == 12 + 11 + 12 + 12
    # Without a table: the sessions.
    rows = list(csv.DictReader(io.StringIO(body_of(client.get(url)))))
    assert [r["rpe"] for r in rows] == ["5"]


@pytest.mark.parametrize("table", ["patients", "", "../etc", "sessions;drop"])
def test_an_unknown_table_is_a_400(client, alice, alices_patient, table):
    client.force_login(alice)
    url = reverse("patients:export-csv", args=[alices_patient.pk])
    response = client.get(url, {"table": table})
    assert response.status_code == 400
    assert "unknown table" in response.content.decode()


def test_json_and_fhir_download(client, alice, alices_patient, round_of):
    round_of(alices_patient)
    client.force_login(alice)
    response = client.get(reverse("patients:export-json", args=[alices_patient.pk]))
    assert response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    assert document["patient"]["last_name"] == "Aldersley"
    assert len(document["sessions"][0]["recordings"][0]["channels"]) == 2
    response = client.get(reverse("patients:fhir", args=[alices_patient.pk]))
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"].startswith("attachment;")
    Bundle.model_validate(json.loads(response.content))


@pytest.mark.parametrize("name", DOWNLOADS)
@pytest.mark.parametrize("persona", sorted(PATIENTS_SEEN_BY))
def test_downloads_answer_404_out_of_scope(client, everyone, round_of, persona, name):
    user = everyone[persona]
    client.force_login(user)
    for key in PATIENT_KEYS:
        patient = everyone[key]
        if not patient.sessions.exists():
            round_of(patient)
        response = client.get(reverse(name, args=[patient.pk]), {"table": "channels"})
        body = body_of(response)
        if key in PATIENTS_SEEN_BY[persona]:
            assert response.status_code == 200
        else:
            assert response.status_code == 404
            assert names_in(body) == set()


def test_a_researchers_downloads_are_pseudonymised(client, rita, alices_patient, round_of):
    round_of(alices_patient)
    client.force_login(rita)
    for name in DOWNLOADS:
        for table in ("sessions", "recordings", "channels", "contractions"):
            response = client.get(reverse(name, args=[alices_patient.pk]), {"table": table})
            body = body_of(response)
            assert response.status_code == 200
            assert names_in(body) == set()
            assert "MRN-P001" not in body
            assert "1950-05-17" not in body
            assert ".c3d" not in body


def test_anonymous_visitors_are_sent_to_log_in(client, alices_patient):
    for name in DOWNLOADS:
        response = client.get(reverse(name, args=[alices_patient.pk]))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_a_post_is_refused(client, alice, alices_patient):
    client.force_login(alice)
    response = client.post(reverse("patients:export-csv", args=[alices_patient.pk]))
    assert response.status_code == 405


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_csv_streams_in_batches(alice, alices_patient, session_of):
    @sync_to_async
    def prepare():
        for i in range(12):
            analysed(session_of(alices_patient), f"r{i}.c3d")

    await prepare()
    try:
        client = AsyncClient()
        await sync_to_async(client.force_login)(alice)
        url = reverse("patients:export-csv", args=[alices_patient.pk])
        response = await client.get(url, {"table": "contractions"})
        assert response.status_code == 200
        assert response.is_async  # an async iterator: Django does not buffer it whole
        chunks = [chunk async for chunk in response.streaming_content]
        assert len(chunks) == 2  # 1 header + 12 x 47 rows = 565 lines, in batches of 500
        rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
        assert len(rows) == 12 * 47
    finally:
        # The request's thread keeps its own connection: closed, or the test database
        # cannot be dropped at the end of the run.
        await sync_to_async(connections.close_all)()
