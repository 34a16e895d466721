"""The progress report: a date range of a patient's sessions, read back with pypdf; rendered in
a Celery worker when it covers many sessions, while the page waits."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analysis.tests.support import analysed, wait_for
from patients.models import MvcCalibration
from patients.progress import patient_progress
from reports.tests.support import attached_json, page_texts, pdf_metadata_text, pdf_text, write_pngs

DAYS = [dt.date(2026, 3, d) for d in (2, 5, 9, 12, 16)]


def _sessions(session_of, patient):
    sessions = []
    for i, day in enumerate(DAYS):
        started = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
        session = session_of(patient, started_at=started, rpe=4 + i)
        analysed(session, f"round-{i}.c3d", overall=50.0 + 8 * i, left_good=4 + i)
        sessions.append(session)
    calibration = MvcCalibration.objects.create(
        patient=patient, muscle="quadriceps", side="left", value_v=0.00042, source="entered"
    )
    MvcCalibration.objects.filter(pk=calibration.pk).update(
        created_at=timezone.make_aware(dt.datetime(2026, 3, 8, 9, 0))
    )
    return sessions


def _get(client, patient, **params):
    return client.get(reverse("patients:progress-report", args=[patient.pk]), params)


@pytest.mark.django_db
def test_progress_report_of_a_date_range(session_of, alices_patient, alice, rita, dave):
    sessions = _sessions(session_of, alices_patient)
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("patients:progress", args=[alices_patient.pk])).content.decode()
    assert reverse("patients:progress-report", args=[alices_patient.pk]) in page

    response = _get(client, alices_patient, **{"from": "2026-03-04", "to": "2026-03-13"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    write_pngs(pdf, "progress-report-identified")
    text = pdf_text(pdf)
    assert "P001" in text
    assert "Agatha Aldersley" in text
    for day in ("2026-03-05", "2026-03-09", "2026-03-12"):
        assert day in text
    # The first session is outside the range: only the adherence line (counted from it) names it.
    assert text.count("2026-03-02") == 1
    assert "2026-03-16" not in text
    pages = page_texts(pdf)
    for number, page_text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page_text
    # The attachment is the points of the progress page, for this range only.
    data = attached_json(pdf, "progress-results.json")
    in_range = [p for p in patient_progress(alices_patient) if p["session"] in sessions[1:4]]
    assert [s["id"] for s in data["sessions"]] == [p["session"].pk for p in in_range]
    assert [s["score"]["overall"] for s in data["sessions"]] == [
        p["score"]["overall"] for p in in_range
    ]
    for point in in_range:
        assert f"{point['score']['overall']:.0f}" in text
    assert len(data["calibrations"]) == 1

    # The researcher's variant.
    client.force_login(rita)
    pdf = _get(client, alices_patient).content
    write_pngs(pdf, "progress-report-pseudonymised")
    blob = pdf_text(pdf) + pdf_metadata_text(pdf) + str(attached_json(pdf, "progress-results.json"))
    for word in ("Agatha", "Aldersley", "MRN-P001", "1950-05-17"):
        assert word not in blob
    assert "P001" in blob

    # Bad ranges are 400, out of scope 404.
    client.force_login(alice)
    for params in (
        {"from": "2026-3-1"},
        {"to": "yesterday"},
        {"from": "2026-03-10", "to": "2026-03-01"},
    ):
        assert _get(client, alices_patient, **params).status_code == 400
    client.force_login(dave)
    assert _get(client, alices_patient).status_code == 404


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_long_progress_report_renders_in_a_worker_while_the_page_waits(
    worker, settings, session_of, alices_patient, alice
):
    settings.REPORT_INLINE_MAX_SESSIONS = 2
    _sessions(session_of, alices_patient)
    client = Client()
    client.force_login(alice)
    waiting = _get(client, alices_patient, **{"from": "2026-03-01"})
    assert waiting.status_code == 202
    body = waiting.content.decode()
    assert "data-report-wait" in body
    assert "report-wait.js" in body
    status_url = reverse("patients:progress-report-status", args=[alices_patient.pk])

    def state():
        return client.get(status_url, {"from": "2026-03-01"}).json()["state"]

    wait_for(lambda: state() == "done", timeout=60, what="the progress report")
    ready = _get(client, alices_patient, **{"from": "2026-03-01"})
    assert ready.status_code == 200
    assert ready["X-Report-Cache"] == "hit"
    assert "P001" in pdf_text(ready.content)
