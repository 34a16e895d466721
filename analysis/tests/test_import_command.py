"""`manage.py import_recordings`: files and folders through the upload service."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conftest import shared_c3d_dir
from sessions.models import Recording, TherapySession


def run(*args):
    out = StringIO()
    call_command("import_recordings", *map(str, args), stdout=out, stderr=StringIO())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_groups_a_patients_recordings_into_one_session_per_day(alices_patient):
    rows = run(shared_c3d_dir() / "ghostly", "--patient", "P001", "--json")
    assert [r["status"] for r in rows] == ["pending"] * 3
    assert all(isinstance(r["recording"], int) for r in rows)
    sessions = TherapySession.objects.filter(patient=alices_patient).order_by("started_at")
    # Two recordings on 2023-03-21, one on 2023-10-04.
    assert [s.recordings.count() for s in sessions] == [2, 1]
    assert sessions[0].therapist == alices_patient.therapists.get()
    # A second import finds the same sessions and refuses the files as duplicates.
    again = run(shared_c3d_dir() / "ghostly", "--patient", "P001", "--json")
    assert [r["status"] for r in again] == ["refused"] * 3
    assert all("already uploaded" in r["failure_reason"] for r in again)
    assert all(r["recording"] is None for r in again)
    assert TherapySession.objects.filter(patient=alices_patient).count() == 2


def test_a_file_refused_at_upload_has_no_recording_and_says_why(session_of, alices_patient):
    session = session_of(alices_patient)
    [row] = run(shared_c3d_dir() / "other" / "Empty.c3d", "--session", session.pk, "--json")
    assert row == {
        "file": str(shared_c3d_dir() / "other" / "Empty.c3d"),
        "recording": None,
        "status": "refused",
        "failure_reason": "Empty.c3d is not a C3D recording: the file is empty.",
        "results": None,
    }
    assert not Recording.objects.exists()


def test_it_prints_one_human_line_per_file_without_json(session_of, alices_patient):
    session = session_of(alices_patient)
    out = StringIO()
    call_command(
        "import_recordings",
        str(shared_c3d_dir() / "other" / "Empty.c3d"),
        str(shared_c3d_dir() / "other" / "Gait.c3d"),
        "--session",
        str(session.pk),
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(
        "Empty.c3d: no recording, refused: Empty.c3d is not a C3D recording: the file is empty."
    )
    assert "Gait.c3d: recording " in lines[1]
    assert lines[1].endswith(", pending")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patient", "NOPE"], "no patient with code NOPE"),
        (["--session", "999999"], "no session with id 999999"),
    ],
)
def test_it_refuses_unknown_targets(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_recordings", str(shared_c3d_dir() / "other" / "Gait.c3d"), *args)


def test_it_refuses_a_path_that_does_not_exist(alices_patient):
    with pytest.raises(CommandError, match="no such file or folder"):
        call_command("import_recordings", "/nonexistent/x.c3d", "--patient", "P001")
