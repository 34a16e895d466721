"""Through the API only, against a real Daphne, Celery worker, PostgreSQL and Redis: a hospital
system creates a patient and a session, uploads a real GHOSTLY round, polls until the analysis
is done, reads the results and downloads the original file."""

import time

import pytest
import requests

from clinic.services import api_token_create
from conftest import shared_c3d_dir

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
    # Anonymous callers get nothing of it.
    assert requests.get(url, timeout=10).status_code == 401
