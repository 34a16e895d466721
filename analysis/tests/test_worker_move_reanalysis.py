"""A recording moved to another patient is analysed again with that patient's MVC (issue 16),
end to end with a real worker; within one patient the analysis stays as it was."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis.models import RecordingAnalysis
from analysis.pipeline.queue import recording_move, recordings_wait
from analysis.selectors import session_summary
from conftest import shared_c3d_dir
from patients.models import MvcCalibration
from sessions.uploads import recording_upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GHOSTLY_NAME = "Ghostly_Emg_20230321_17-23-09-0409.c3d"


def wait(recording):
    statuses = recordings_wait(recording_ids=[recording.pk], timeout_s=30, poll_s=0.1)
    assert set(statuses.values()) == {"done"}, statuses


def test_a_move_to_another_patient_reanalyses_with_that_patients_mvc(
    worker, session_of, alices_patient, bobs_patient, alice, carol
):
    game_file = shared_c3d_dir() / "ghostly" / GHOSTLY_NAME
    wrong = session_of(alices_patient)
    recording = recording_upload(
        session=wrong,
        uploaded_file=SimpleUploadedFile(game_file.name, game_file.read_bytes()),
        user=alice,
    )
    wait(recording)
    first = RecordingAnalysis.objects.get(recording=recording)
    assert first.channels.get(label="CH1 Raw").mvc_source == "estimated"

    # Within the patient: nothing to redo.
    later = session_of(alices_patient)
    assert recording_move(by=carol, recording=recording, to_session=later) is False
    assert RecordingAnalysis.objects.filter(recording=recording).count() == 1

    MvcCalibration.objects.create(
        patient=bobs_patient, muscle="quadriceps", side="left", value_v=0.0004, created_by=carol
    )
    right = session_of(bobs_patient)
    assert recording_move(by=carol, recording=recording, to_session=right) is True
    wait(recording)
    second = RecordingAnalysis.objects.get(recording=recording, is_current=True)
    assert second.pk != first.pk
    assert second.trigger == "reanalysis"
    left = second.channels.get(label="CH1 Raw")
    assert (left.mvc_v, left.mvc_source) == (0.0004, "entered")
    first.refresh_from_db()
    assert not first.is_current  # the history keeps what it was with Alice's patient
    assert session_summary(right)["score"]["recordings"] == 1
    assert session_summary(later)["score"]["recordings"] == 0
