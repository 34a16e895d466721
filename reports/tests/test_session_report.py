"""The session report's access, variants and cache (stored results of known numbers)."""

import pytest
from django.test import Client
from django.urls import reverse

from analysis.tests.support import analysed, make_recording
from reports import services
from reports.selectors import IDENTIFIED, PSEUDONYMISED
from reports.tests.support import attached_json, pdf_metadata_text, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(session_of, alices_patient):
    session = session_of(alices_patient, rpe=5, notes="Patient said <script>x</script>")
    analysed(session, "Agatha_round1.c3d", overall=81.0)
    return session


def _get(user, session, **params):
    client = Client()
    client.force_login(user)
    return client.get(reverse("sessions:report", args=[session.pk]), params)


def test_the_session_page_links_to_the_report(session, alice):
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert reverse("sessions:report", args=[session.pk]) in page


def test_access_follows_the_session_page(session, alice, bob, dave, rita):
    assert _get(alice, session).status_code == 200
    assert _get(dave, session).status_code == 404
    assert _get(bob, session).status_code == _get_page_status(bob, session)
    anonymous = Client().get(reverse("sessions:report", args=[session.pk]))
    assert anonymous.status_code == 302
    assert _get(alice, session, variant="everything").status_code == 400


def _get_page_status(user, session):
    client = Client()
    client.force_login(user)
    return client.get(reverse("sessions:detail", args=[session.pk])).status_code


def test_researchers_always_get_the_pseudonymised_variant(session, rita, alice):
    for params in ({}, {"variant": IDENTIFIED}):
        pdf = _get(rita, session, **params).content
        text, meta = pdf_text(pdf), pdf_metadata_text(pdf)
        for word in ("Agatha", "Aldersley", "MRN-P001", "1950-05-17", "Agatha_round1"):
            assert word not in text
            assert word not in meta
            assert word not in str(attached_json(pdf, "session-results.json"))
        assert "P001" in text
        assert "pseudonymised" in text
    # Treatment staff may ask for the pseudonymised one (to hand to research).
    text = pdf_text(_get(alice, session, variant=PSEUDONYMISED).content)
    assert "Aldersley" not in text
    assert "Aldersley" in pdf_text(_get(alice, session).content)


def test_patient_text_is_escaped(session, alice):
    text = pdf_text(_get(alice, session).content)
    assert "Patient said <script>x</script>" in text


def test_the_pdf_is_cached_and_rebuilt_when_a_fact_changes(session, alice):
    first = _get(alice, session)
    assert first["X-Report-Cache"] == "miss"
    again = _get(alice, session)
    assert again["X-Report-Cache"] == "hit"
    assert again.content == first.content
    # Another variant is another PDF.
    assert _get(alice, session, variant=PSEUDONYMISED)["X-Report-Cache"] == "miss"
    # A session fact (RPE) changes: rebuilt, with the new value.
    session.rpe = 9
    session.save()
    changed = _get(alice, session)
    assert changed["X-Report-Cache"] == "miss"
    assert "RPE 9" in pdf_text(changed.content)
    # A new analysis (another recording): rebuilt.
    analysed(session, "round2.c3d", overall=40.0)
    assert _get(alice, session)["X-Report-Cache"] == "miss"
    assert _get(alice, session)["X-Report-Cache"] == "hit"


def test_the_service_is_what_the_view_serves(session, alice):
    report = services.session_report_pdf(alice, session)
    assert report.filename.startswith(f"session-{session.pk}-P001-")
    assert report.pdf.startswith(b"%PDF-")
    system = services.session_report_pdf(None, session, use_cache=False)
    assert "Aldersley" in pdf_text(system.pdf)


def test_recordings_not_analysed_say_why(session, alice):
    make_recording(session, "broken.c3d", status="failed", failure_reason="no EMG channel found")
    text = pdf_text(_get(alice, session).content)
    assert "Not analysed: failed (no EMG channel found)" in text
    assert "What to do: The file is not a usable recording" in text  # analysis.grading's advice
    assert "broken.c3d" in text
