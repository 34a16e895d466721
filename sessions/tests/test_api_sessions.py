"""/api/v1/sessions/ and /api/v1/recordings/: sessions, uploads, results, files, re-analysis."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from analysis.tests.support import TINY_C3D, analysed, make_recording
from conftest import names_in, shared_c3d_dir
from sessions.models import Recording, TherapySession

pytestmark = pytest.mark.django_db
SESSIONS = "/api/v1/sessions/"
RECORDINGS = "/api/v1/recordings/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def ghostly() -> Path:
    return sorted((shared_c3d_dir() / "ghostly").glob("*.c3d"))[0]


def upload(user, session, data, name="Hollis_Quenby_D001.c3d"):
    return api(user).post(
        f"{SESSIONS}{session.pk}/recordings/",
        {"file": SimpleUploadedFile(name, data)},
        format="multipart",
    )


def test_sessions_create_list_filter_update_void(everyone):
    alice, carol = everyone["alice"], everyone["carol"]
    patient = everyone["alices_patient"]
    created = api(alice).post(
        SESSIONS, {"patient": patient.pk, "rpe": 6, "bfr_pressure_pct_aop": 50}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["therapist"] == alice.pk
    assert body["bfr_pressure_pct_aop"] == 50.0
    pk = body["id"]
    older = api(alice).post(
        SESSIONS, {"patient": patient.pk, "started_at": "2026-01-05T10:00:00Z"}, format="json"
    )
    assert older.status_code == 201, older.content
    listed = api(alice).get(SESSIONS, {"patient": patient.pk}).json()["results"]
    assert [s["id"] for s in listed] == [pk, older.json()["id"]]
    ranged = (
        api(alice)
        .get(
            SESSIONS,
            {"started_after": "2026-01-01T00:00:00Z", "started_before": "2026-01-06T00:00:00Z"},
        )
        .json()["results"]
    )
    assert [s["id"] for s in ranged] == [older.json()["id"]]
    assert api(carol).get(SESSIONS, {"therapist": everyone["bob"].pk}).json()["count"] == 0
    patched = api(alice).patch(f"{SESSIONS}{pk}/", {"notes": "Tired", "rpe": 11}, format="json")
    assert patched.status_code == 400
    assert "rpe" in patched.json()["errors"]
    patched = api(alice).patch(f"{SESSIONS}{pk}/", {"notes": "Tired", "rpe": 8}, format="json")
    assert patched.status_code == 200, patched.content
    assert (patched.json()["rpe"], patched.json()["notes"]) == (8, "Tired")
    assert patched.json()["bfr_pressure_pct_aop"] == 50.0
    assert (
        api(alice).post(f"{SESSIONS}{pk}/void/", {"reason": "x"}, format="json").status_code == 403
    )
    voided = api(carol).post(f"{SESSIONS}{pk}/void/", {"reason": "Entered twice"}, format="json")
    assert voided.status_code == 200
    assert api(alice).get(f"{SESSIONS}{pk}/").status_code == 404
    assert pk not in [s["id"] for s in api(alice).get(SESSIONS).json()["results"]]


def test_session_of_someone_elses_patient_is_a_field_error(everyone):
    for patient in ("bobs_patient", "daves_patient"):
        response = api(everyone["alice"]).post(
            SESSIONS, {"patient": everyone[patient].pk}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["errors"] == {"patient": ["No such patient."]}
    assert api(everyone["alice"]).post(SESSIONS, {"patient": "x"}, format="json").status_code == 400
    assert api(everyone["alice"]).post(SESSIONS, {}, format="json").status_code == 400
    assert TherapySession.objects.count() == 0


def test_upload_answers_202_and_refuses_like_the_page(everyone, session_of, settings):
    alice = everyone["alice"]
    session = session_of(everyone["alices_patient"])
    data = ghostly().read_bytes()
    accepted = upload(alice, session, data)
    assert accepted.status_code == 202, accepted.content
    body = accepted.json()
    recording = Recording.objects.get(pk=body["id"])
    assert recording.source == "api"
    assert body["status"] == "pending"
    assert body["url"].endswith(f"{RECORDINGS}{recording.pk}/")
    assert accepted["Location"] == body["url"]
    duplicate = upload(alice, session, data, name="again.c3d")
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate"
    not_c3d = upload(alice, session, b"hello, not a C3D file" * 40, name="notes.c3d")
    assert not_c3d.status_code == 400
    assert "not a C3D recording" in not_c3d.json()["errors"]["file"][0]
    settings.RECORDING_MAX_UPLOAD_BYTES = 1000
    too_big = upload(alice, session, TINY_C3D * 4, name="big.c3d")
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "too_large"
    missing = api(alice).post(f"{SESSIONS}{session.pk}/recordings/", {}, format="multipart")
    assert missing.status_code == 400
    assert upload(everyone["rita"], session, data, name="a.c3d").status_code == 403
    assert upload(everyone["bob"], session, data, name="b.c3d").status_code == 404
    assert Recording.objects.count() == 1


def test_recording_detail_results_file_and_reanalyse(everyone, session_of):
    alice, rita = everyone["alice"], everyone["rita"]
    session = session_of(everyone["alices_patient"])
    done = analysed(session, "Agatha_Aldersley_round1.c3d")
    pending = make_recording(session, "Agatha_Aldersley_round2.c3d")
    listed = api(alice).get(RECORDINGS, {"session": session.pk}).json()
    assert [r["id"] for r in listed["results"]] == [done.pk, pending.pk]
    body = api(alice).get(f"{RECORDINGS}{done.pk}/").json()
    assert body["status"] == "done"
    assert body["session"] == session.pk
    assert body["source"] == "upload"
    assert body["name"] == "Agatha_Aldersley_round1.c3d"
    assert body["results"]["channels"]
    assert api(alice).get(f"{RECORDINGS}{pending.pk}/").json()["results"] is None
    # Researchers: "Recording N", no file, no player name.
    pseudo = api(rita).get(f"{RECORDINGS}{done.pk}/")
    assert pseudo.json()["name"] == f"Recording {done.pk}"
    assert names_in(pseudo.content.decode()) == set()
    assert api(rita).get(f"{RECORDINGS}{done.pk}/file/").status_code == 403
    download = api(alice).get(f"{RECORDINGS}{done.pk}/file/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(TINY_C3D)
    assert api(everyone["dave"]).get(f"{RECORDINGS}{done.pk}/file/").status_code == 404
    # Re-analysis: a finished one is queued again, a pending one is a conflict.
    again = api(alice).post(f"{RECORDINGS}{done.pk}/reanalyse/")
    assert again.status_code == 202, again.content
    assert again.json()["status"] == "pending"
    assert api(alice).post(f"{RECORDINGS}{pending.pk}/reanalyse/").status_code == 409
    assert api(rita).post(f"{RECORDINGS}{done.pk}/reanalyse/").status_code == 403


@pytest.mark.parametrize("when", ["2026-06-06T22:14:28-21:48", "2026-06-06T22:14:28+15:59"])
def test_far_offsets_are_normalised_not_a_server_error(everyone, when):
    carol = everyone["carol"]
    assert api(carol).get(SESSIONS, {"started_before": when}).status_code == 200
    created = api(everyone["alice"]).post(
        SESSIONS, {"patient": everyone["alices_patient"].pk, "started_at": when}, format="json"
    )
    assert created.status_code == 201, created.content
