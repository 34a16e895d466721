"""Through the API only, against a real Daphne, Celery worker, PostgreSQL and Redis: a hospital
system creates a patient and a session, uploads a real GHOSTLY round, polls until the analysis
is done, reads the results, downloads the original file, the session's PDF report and the
patient's FHIR bundle; every read is in the audit trail."""

import time

import pytest
import requests
from fhir.resources.R4B.bundle import Bundle

from clinic.models import AuditEntry
from clinic.services import api_token_create
from conftest import shared_c3d_dir
from reports.tests.support import pdf_text

pytestmark = [
    pytest.mark.server,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


def test_patient_session_upload_results_and_file_over_http(daphne, worker, broker, alice):
    path = sorted((shared_c3d_dir() / "ghostly").glob("*.c3d"))[0]
    _, token = api_token_create(user=alice, name="hospital system")
    http = requests.Session()
    http.headers["Authorization"] = f"Token {token}"
    api = f"{daphne}/api/v1"

    patient = http.post(
        f"{api}/patients/",
        json={"code": "E2E1", "first_name": "Edda", "last_name": "Endtoend", "sex": "F"},
        timeout=10,
    )
    assert patient.status_code == 201, patient.text
    session = http.post(
        f"{api}/sessions/", json={"patient": patient.json()["id"], "rpe": 5}, timeout=10
    )
    assert session.status_code == 201, session.text
    with path.open("rb") as handle:
        upload = http.post(
            f"{api}/sessions/{session.json()['id']}/recordings/",
            files={"file": (path.name, handle, "application/octet-stream")},
            timeout=30,
        )
    assert upload.status_code == 202, upload.text
    url = upload.json()["url"]
    assert upload.headers["Location"] == url
    assert url.startswith(daphne)

    deadline = time.monotonic() + 120
    while True:
        recording = http.get(url, timeout=10)
        assert recording.status_code == 200, recording.text
        status = recording.json()["status"]
        if status in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    body = recording.json()
    assert body["status"] == "done", body["failure_reason"]
    assert body["source"] == "api"
    results = body["results"]
    assert {ch["label"] for ch in results["channels"]} >= {"CH1 Raw", "CH2 Raw"}
    assert results["recording"]["rate_hz"] == pytest.approx(990, rel=0.01)
    assert results["score"] is not None

    listed = http.get(f"{api}/recordings/", params={"session": session.json()["id"]}, timeout=10)
    assert [r["id"] for r in listed.json()["results"]] == [body["id"]]
    download = http.get(f"{url}file/", timeout=30)
    assert download.status_code == 200
    assert download.content == path.read_bytes()
    assert "attachment" in download.headers["Content-Disposition"]
    assert "no-store" in download.headers["Cache-Control"]

    report = http.get(f"{api}/sessions/{session.json()['id']}/report/", timeout=120)
    assert report.status_code == 200, report.text[:500]
    assert report.headers["Content-Type"] == "application/pdf"
    assert report.content.startswith(b"%PDF-")
    assert "E2E1" in pdf_text(report.content)

    patient_id = patient.json()["id"]
    fhir = http.get(f"{api}/patients/{patient_id}/fhir/", timeout=60)
    assert fhir.status_code == 200, fhir.text[:500]
    assert fhir.headers["Content-Type"] == "application/fhir+json"
    Bundle.model_validate(fhir.json())
    kinds = [entry["resource"]["resourceType"] for entry in fhir.json()["entry"]]
    assert kinds[0] == "Patient"
    assert "Encounter" in kinds
    assert "Observation" in kinds

    entries = list(AuditEntry.objects.filter(patient_id=patient_id).order_by("seq"))
    assert [e.action for e in entries][-3:] == ["download", "download", "export"]
    assert {e.actor_id for e in entries} == {alice.pk}
    # Anonymous callers get nothing of it.
    assert requests.get(url, timeout=10).status_code == 401
