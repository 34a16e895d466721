"""The clinic's channel mapping reaches the core, and never makes another system's file fail."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis.models import RecordingAnalysis
from analysis.pipeline.inputs import core_channel_map
from analysis.pipeline.worker import recording_process
from clinic.models import ClinicSettings
from conftest import shared_c3d_dir
from sessions.uploads import recording_upload


@pytest.fixture
def hamstrings_clinic(alices_patient):
    ClinicSettings.objects.create(
        clinic=alices_patient.clinic, version=1, channel_map={"CH1": "left hamstrings"}
    )


def analyse(session, relative):
    path = shared_c3d_dir() / relative
    recording = recording_upload(
        session=session, uploaded_file=SimpleUploadedFile(path.name, path.read_bytes())
    )
    recording_process(recording_id=recording.pk, task_id="direct")
    recording.refresh_from_db()
    return recording


def test_the_games_default_mapping_is_left_to_the_core():
    assert core_channel_map({"CH1": "left quadriceps", "CH2": "Right Quadriceps"}) is None
    assert core_channel_map({"CH2": "right vastus medialis"}) == {
        "CH2": {"muscle": "vastus medialis", "side": "right"}
    }


def test_a_clinic_mapping_relabels_the_game_channels(hamstrings_clinic, session_of, alices_patient):
    recording = analyse(
        session_of(alices_patient), "ghostly/Ghostly_Emg_20231004_13-18-43-0464.c3d"
    )
    assert recording.status == "done", recording.failure_reason
    analysis = RecordingAnalysis.objects.get(recording=recording)
    assert [(c.label, c.side, c.muscle) for c in analysis.channels.all()] == [
        ("CH1 Raw", "left", "hamstrings")
    ]


def test_a_mapping_that_does_not_fit_falls_back_to_the_files_labels_with_a_warning(
    hamstrings_clinic, session_of, alices_patient
):
    recording = analyse(session_of(alices_patient), "other/BTS.c3d")
    assert recording.status == "done", recording.failure_reason
    analysis = RecordingAnalysis.objects.get(recording=recording)
    assert "Left Rectus femoris" in [c.label for c in analysis.channels.all()]
    assert any("channel mapping does not fit" in w for w in analysis.warnings)
