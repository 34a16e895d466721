"""Uploading recordings from the session page: the form works without JavaScript.

Every file goes through ``sessions.uploads.recording_upload``; refused files are listed with
the reason, accepted ones become pending recordings queued for analysis.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import shared_c3d_dir
from sessions.models import Recording

GHOSTLY = "ghostly/Ghostly_Emg_20230321_17-23-09-0409.c3d"
OTHER = "ghostly/Ghostly_Emg_20230321_17-50-17-0881.c3d"


def c3d(relative, name=None):
    path = shared_c3d_dir() / relative
    return SimpleUploadedFile(name or path.name, path.read_bytes())


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient)


def upload_url(session):
    return reverse("sessions:upload", args=[session.pk])


def test_several_files_become_pending_recordings(client, alice, session):
    client.force_login(alice)
    response = client.post(upload_url(session), {"files": [c3d(GHOSTLY), c3d(OTHER)]}, follow=True)
    assert response.status_code == 200
    names = sorted(session.recordings.values_list("original_name", flat=True))
    assert names == sorted([GHOSTLY.split("/")[1], OTHER.split("/")[1]])
    assert set(session.recordings.values_list("status", flat=True)) == {"pending"}
    html = response.content.decode()
    assert "uploaded; analysis queued" in html
    assert html.count('data-status="pending"') == 2


def test_a_file_that_is_not_c3d_is_refused_with_the_reason(client, alice, session):
    client.force_login(alice)
    text = SimpleUploadedFile("notes.txt", b"this is not a recording\n" * 50)
    response = client.post(upload_url(session), {"files": [text, c3d(GHOSTLY)]}, follow=True)
    html = response.content.decode()
    assert "notes.txt is not a C3D recording" in html
    assert list(session.recordings.values_list("original_name", flat=True)) == [
        GHOSTLY.split("/")[1]
    ]


def test_the_same_file_twice_is_refused_the_second_time(client, alice, session):
    client.force_login(alice)
    client.post(upload_url(session), {"files": [c3d(GHOSTLY)]})
    response = client.post(upload_url(session), {"files": [c3d(GHOSTLY, "again.c3d")]}, follow=True)
    assert "was already uploaded to this session" in response.content.decode()
    assert session.recordings.count() == 1


def test_posting_no_file_says_so_instead_of_failing(client, alice, session):
    client.force_login(alice)
    response = client.post(upload_url(session), {}, follow=True)
    assert response.status_code == 200
    assert "Choose one or more C3D files" in response.content.decode()
    assert session.recordings.count() == 0


def test_a_voided_session_takes_no_recording(client, alice, carol, session):
    session.void(by=carol, reason="entered twice")
    # Its therapist no longer sees it (as on the session page); a manager is told why.
    client.force_login(alice)
    assert client.post(upload_url(session), {"files": [c3d(GHOSTLY)]}).status_code == 404
    client.force_login(carol)
    response = client.post(upload_url(session), {"files": [c3d(GHOSTLY)]}, follow=True)
    assert "this session is voided" in response.content.decode()
    assert session.recordings.count() == 0


def test_the_script_path_answers_json_with_the_new_row(client, alice, session):
    client.force_login(alice)
    response = client.post(
        upload_url(session),
        {"files": [c3d(GHOSTLY)]},
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    assert response.status_code == 200
    body = json.loads(response.content)
    recording = Recording.objects.get(session=session)
    assert body["refused"] == []
    assert body["accepted"][0]["id"] == recording.pk
    assert f'data-recording-id="{recording.pk}"' in body["accepted"][0]["row_html"]
    assert 'data-status="pending"' in body["accepted"][0]["row_html"]


def test_the_script_path_reports_a_refusal_as_json(client, alice, session):
    client.force_login(alice)
    response = client.post(
        upload_url(session),
        {"files": [SimpleUploadedFile("empty.c3d", b"")]},
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    assert response.status_code == 400
    body = json.loads(response.content)
    assert body["accepted"] == []
    assert body["refused"][0]["name"] == "empty.c3d"


@pytest.mark.parametrize(("persona", "status"), [("bob", 404), ("dave", 404), ("rita", 403)])
def test_others_cannot_upload(client, everyone, session, persona, status):
    client.force_login(everyone[persona])
    response = client.post(upload_url(session), {"files": [c3d(GHOSTLY)]})
    assert response.status_code == status
    assert session.recordings.count() == 0


def test_a_researcher_sees_no_upload_form(client, rita, session):
    client.force_login(rita)
    html = client.get(upload_url(session)).content.decode()
    assert "data-upload-form" not in html
    assert "Re-analyse session" not in html
