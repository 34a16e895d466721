"""Re-analysis and bulk import end to end with a real worker: new settings, history kept."""

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from analysis.models import RecordingAnalysis
from analysis.pipeline.queue import recordings_wait, session_reanalyse
from conftest import shared_c3d_dir
from patients.models import MvcCalibration, PatientProtocol
from sessions.uploads import recording_upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GHOSTLY_NAME = "Ghostly_Emg_20230321_17-23-09-0409.c3d"


def wait(*recordings):
    statuses = recordings_wait(recording_ids=[r.pk for r in recordings], timeout_s=30, poll_s=0.1)
    assert set(statuses.values()) == {"done"}, statuses


def test_reanalysis_uses_the_new_calibration_and_target_and_keeps_the_old_result(
    worker, session_of, alices_patient, alice
):
    game_file = shared_c3d_dir() / "ghostly" / GHOSTLY_NAME
    session = session_of(alices_patient, rpe=5)
    recording = recording_upload(
        session=session,
        uploaded_file=SimpleUploadedFile(game_file.name, game_file.read_bytes()),
        user=alice,
    )
    wait(recording)
    first = RecordingAnalysis.objects.get(recording=recording)
    assert first.channels.get(label="CH1 Raw").mvc_source == "estimated"
    assert first.score_effort is not None  # the session's RPE reached the score

    MvcCalibration.objects.create(
        patient=alices_patient, muscle="quadriceps", side="left", value_v=0.0004, created_by=alice
    )
    PatientProtocol.objects.create(patient=alices_patient, target_pct_mvc=50.0)
    assert session_reanalyse(session=session, user=alice) == [recording.pk]
    wait(recording)

    first.refresh_from_db()
    second = RecordingAnalysis.objects.get(recording=recording, is_current=True)
    assert not first.is_current
    assert second.pk != first.pk
    assert second.trigger == "reanalysis"
    left = second.channels.get(label="CH1 Raw")
    assert (left.mvc_v, left.mvc_source) == (0.0004, "entered")
    assert second.channels.get(label="CH2 Raw").mvc_source == "estimated"
    assert second.parameters["scoring"]["target_pct_mvc"] == 50.0
    assert second.parameters["mvc"] == {"left quadriceps": [0.0004, "entered"]}
    # The history still says what the first run used.
    assert first.parameters["scoring"]["target_pct_mvc"] == 75.0
    assert first.channels.get(label="CH1 Raw").mvc_source == "estimated"


def test_import_waits_and_prints_each_files_results(worker, alices_patient):
    game_file = shared_c3d_dir() / "ghostly" / GHOSTLY_NAME
    out = StringIO()
    call_command(
        "import_recordings",
        str(game_file),
        str(shared_c3d_dir() / "other" / "Kistler.c3d"),
        str(shared_c3d_dir() / "other" / "Empty.c3d"),
        "--patient",
        "P001",
        "--wait",
        "--timeout",
        "30",
        "--json",
        stdout=out,
    )
    rows = {
        json.loads(line)["file"].rsplit("/", 1)[1]: json.loads(line)
        for line in out.getvalue().splitlines()
    }
    game = rows[GHOSTLY_NAME]
    assert game["status"] == "done"
    assert game["results"]["channels"][0]["label"] == "CH1 Raw"
    assert game["results"]["channels"][0]["envelope"]["values"]
    assert game["results"]["score"]["overall"] is not None
    assert rows["Kistler.c3d"]["status"] == "failed"
    assert "duration cannot be computed" in rows["Kistler.c3d"]["failure_reason"]
    assert rows["Kistler.c3d"]["results"] is None
    assert rows["Empty.c3d"]["status"] == "refused"
    assert rows["Empty.c3d"]["recording"] is None


def test_the_reanalyse_command_waits_for_the_new_results(worker, session_of, alices_patient):
    session = session_of(alices_patient)
    path = shared_c3d_dir() / "ghostly" / GHOSTLY_NAME
    recording = recording_upload(
        session=session, uploaded_file=SimpleUploadedFile(path.name, path.read_bytes())
    )
    wait(recording)
    out = StringIO()
    call_command(
        "reanalyse",
        "--session",
        str(session.pk),
        "--wait",
        "--timeout",
        "30",
        stdout=out,
        stderr=StringIO(),
    )
    assert out.getvalue().splitlines() == [
        "queued 1 recording(s) from 1 session(s)",
        "1 done",
    ]
    assert RecordingAnalysis.objects.filter(recording=recording).count() == 2
    assert (
        RecordingAnalysis.objects.get(recording=recording, is_current=True).trigger == "reanalysis"
    )
