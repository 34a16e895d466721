"""The session report of a session with the three real GHOSTLY recordings, analysed by a real
worker: what a therapist hands over and what a researcher gets, read back with pypdf."""

import io
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from analysis.models import RecordingAnalysis
from analysis.pipeline.queue import recordings_wait
from analysis.selectors import session_summary
from analysis.tests.support import wait_for
from conftest import shared_c3d_dir
from reports import services
from reports.selectors import IDENTIFIED
from reports.tests.support import (
    attached_json,
    page_texts,
    pdf_metadata_text,
    pdf_text,
    pdfa_problems,
    write_pngs,
)
from sessions.uploads import recording_upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NOTES = 'Knee felt fine. <img src="file:///etc/passwd"> <b>not bold</b>'


def test_session_report_of_three_real_recordings(
    worker, session_of, alices_patient, alice, rita, dave
):
    folder = shared_c3d_dir() / "ghostly"
    session = session_of(alices_patient, rpe=6, notes=NOTES)
    recordings = [
        recording_upload(
            session=session,
            uploaded_file=SimpleUploadedFile(path.name, path.read_bytes()),
            user=alice,
        )
        for path in sorted(folder.glob("*.c3d"))
    ]
    assert len(recordings) == 3
    statuses = recordings_wait(recording_ids=[r.pk for r in recordings], timeout_s=180, poll_s=0.2)
    assert set(statuses.values()) == {"done"}, statuses

    # The worker pre-renders the report once the last recording is analysed: the first click
    # is a cache hit.
    key = services.session_cache_key(session, variant=IDENTIFIED)
    wait_for(lambda: cache.get(key) is not None, timeout=120, what="the pre-rendered report")
    client = Client()
    client.force_login(alice)
    response = client.get(reverse("sessions:report", args=[session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Report-Cache"] == "hit"
    pdf = response.content
    write_pngs(pdf, "session-report-identified")
    assert pdfa_problems(pdf) == []
    text = pdf_text(pdf)

    # Identity for treatment staff, the score, and the counts per muscle as the page has them.
    assert "P001" in text
    assert "Agatha Aldersley" in text
    assert "1950-05-17" in text
    summary = session_summary(session)
    overall = summary["score"]["overall"]
    assert overall is not None
    assert re.search(rf"Overall\s+{overall:.0f}\b", text), text[:3000]
    for row in summary["recordings"]:
        for channel in row["channels"]:
            heading = f"({channel.label}) · MVC"
            assert heading in text
        assert row["recording"].original_name in text
        assert row["recording"].sha256 in text.replace("\n", "")
    counts = re.findall(r"Contractions \(ours\)\s*\n?\s*(\d+)", text)
    expected = [str(ch.count) for row in summary["recordings"] for ch in row["channels"]]
    assert counts == expected

    # Patient text is text: the tag is printed, never fetched or interpreted.
    assert '<img src="file:///etc/passwd">' in text
    assert "<b>not bold</b>" in text

    # Page n of N on every page.
    pages = page_texts(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page

    # The attached JSON is the stored results.
    data = attached_json(pdf, "session-results.json")
    stored = {
        a.recording_id: a.document
        for a in RecordingAnalysis.objects.filter(recording__session=session, is_current=True)
    }
    assert [r["id"] for r in data["recordings"]] == [r.pk for r in recordings]
    for item in data["recordings"]:
        assert item["document"] == stored[item["id"]]
    assert data["patient_code"] == "P001"

    # The researcher's variant: code and age band only, anywhere in the file.
    client.force_login(rita)
    response = client.get(reverse("sessions:report", args=[session.pk]))
    assert response.status_code == 200
    pdf = response.content
    write_pngs(pdf, "session-report-pseudonymised")
    text, meta = pdf_text(pdf), pdf_metadata_text(pdf)
    data = attached_json(pdf, "session-results.json")
    raw_json = str(data)
    players = {
        (doc.get("recording") or {}).get("metadata", {}).get("player") for doc in stored.values()
    } - {None, ""}
    forbidden = {"Agatha", "Aldersley", "MRN-P001", "1950-05-17", "17 May 1950"}
    forbidden |= {r.original_name for r in recordings} | players
    for word in forbidden:
        assert word not in text, word
        assert word not in meta, word
        assert word not in raw_json, word
    assert "P001" in text
    assert "70-79" in text or "age band" in text.lower()
    assert "Knee felt fine" not in text  # free text may name people: identity only

    # Out of scope is 404.
    client.force_login(dave)
    assert client.get(reverse("sessions:report", args=[session.pk])).status_code == 404
