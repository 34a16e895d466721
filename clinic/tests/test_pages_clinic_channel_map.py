"""The clinic's channel-to-muscle map on its settings page (issue 16): managers edit it as rows
(label, muscle, side), each save is a new audited settings version, bad rows are form errors,
and the next upload is analysed with the edited map."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis.models import RecordingAnalysis
from analysis.pipeline.worker import recording_process
from analysis.tests.support import analysed
from clinic.models import ClinicSettings
from clinic.services import clinic_settings_create
from clinic.tests.test_pages_clinic_settings import VALID
from conftest import shared_c3d_dir
from sessions.uploads import recording_upload

URL = "clinic:settings"


def rows(*rows, initial=0):
    """POST data of the map's rows: (label, muscle, side[, delete])."""
    data = {
        "channels-TOTAL_FORMS": str(len(rows)),
        "channels-INITIAL_FORMS": str(initial),
        "channels-MIN_NUM_FORMS": "0",
        "channels-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data |= {
            f"channels-{i}-label": row[0],
            f"channels-{i}-muscle": row[1],
            f"channels-{i}-side": row[2],
        }
        if len(row) > 3 and row[3]:
            data[f"channels-{i}-DELETE"] = "on"
    return data


def test_the_page_shows_the_current_map_as_rows(client, carol):
    client.force_login(carol)
    html = client.get(reverse(URL)).content.decode()
    assert 'name="channels-0-label" value="CH1"' in html
    assert 'name="channels-0-muscle" value="quadriceps"' in html
    assert '<option value="left" selected>' in html
    assert 'name="channels-1-label" value="CH2"' in html
    assert '<option value="right" selected>' in html
    # Every input of the rows has its own label (row number included).
    assert '<label for="id_channels-0-side" class="visually-hidden">Side, row 1</label>' in html


def test_saving_rows_stores_the_map_in_a_new_audited_version(client, carol):
    client.force_login(carol)
    data = VALID | rows(
        ("CH1", "Hamstrings", "left"),
        ("CH2", "quadriceps", "right", "delete"),
        ("Left Rectus femoris", "rectus femoris", ""),
        ("", "", ""),  # an empty extra row is ignored
    )
    response = client.post(reverse(URL), data, follow=True)
    assert "Settings saved as version 1" in response.content.decode()
    row = ClinicSettings.objects.get(clinic=carol.clinic)
    assert row.channel_map == {"CH1": "left hamstrings", "Left Rectus femoris": "rectus femoris"}
    # django-auditlog keeps who saved which map.
    entry = LogEntry.objects.get_for_object(row).get()
    assert entry.actor == carol
    assert "left hamstrings" in str(entry.changes_dict["channel_map"])
    # The history shows each version's map; the form starts from it.
    html = response.content.decode()
    assert "CH1: left hamstrings; Left Rectus femoris: rectus femoris" in html
    assert 'name="channels-0-muscle" value="hamstrings"' in html


def test_other_settings_keep_the_map_when_the_rows_are_not_posted(client, carol):
    client.force_login(carol)
    client.post(reverse(URL), VALID | rows(("CH1", "hamstrings", "left")))
    client.post(reverse(URL), VALID | {"target_pct_mvc": "80"})
    newest = ClinicSettings.objects.current_for(carol.clinic)
    assert (newest.version, newest.channel_map) == (2, {"CH1": "left hamstrings"})


@pytest.mark.parametrize(
    ("map_rows", "message"),
    [
        ((("CH1", "quadriceps", "up"),), "Select a valid choice"),
        ((("CH1", "quadriceps", "left"), ("ch1", "hamstrings", "right")), "appears in two rows"),
        ((("CH1", "left quadriceps", "left"),), "side in its own column"),
        ((("CH1", "", "left"),), "This field is required"),
        ((("CH1", "q" * 61, "left"),), "at most 60 characters"),
    ],
)
def test_bad_rows_are_form_errors_and_save_nothing(client, carol, map_rows, message):
    client.force_login(carol)
    response = client.post(reverse(URL), VALID | rows(*map_rows))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ClinicSettings.objects.exists()


def test_only_managers_edit_the_map(client, alice, rita):
    for user in (alice, rita):
        client.force_login(user)
        response = client.post(reverse(URL), VALID | rows(("CH1", "hamstrings", "left")))
        assert response.status_code == 403
    assert not ClinicSettings.objects.exists()


def test_the_labels_seen_in_the_clinics_recordings_are_offered(
    client, carol, alices_patient, daves_patient, session_of
):
    analysed(session_of(alices_patient))
    analysed(session_of(daves_patient))
    client.force_login(carol)
    html = client.get(reverse(URL)).content.decode()
    assert '<datalist id="channel-labels-seen">' in html
    assert 'list="channel-labels-seen"' in html
    labels = {
        c.label for c in RecordingAnalysis.objects.get(recording__session__patient=alices_patient)
        .channels.all()
    }  # fmt: skip
    assert labels
    assert all(f'<option value="{label}">' in html for label in labels)


def test_a_new_upload_is_analysed_with_the_edited_map(
    client, carol, alice, alices_patient, session_of
):
    client.force_login(carol)
    client.post(
        reverse(URL), VALID | rows(("CH1", "hamstrings", "left"), ("CH2", "hamstrings", "right"))
    )
    path = shared_c3d_dir() / "ghostly" / "Ghostly_Emg_20231004_13-18-43-0464.c3d"
    session = session_of(alices_patient)
    recording = recording_upload(
        session=session, uploaded_file=SimpleUploadedFile(path.name, path.read_bytes())
    )
    recording_process(recording_id=recording.pk, task_id="direct")
    recording.refresh_from_db()
    assert recording.status == "done", recording.failure_reason
    analysis = RecordingAnalysis.objects.get(recording=recording)
    assert {(c.side, c.muscle) for c in analysis.channels.all()} <= {
        ("left", "hamstrings"),
        ("right", "hamstrings"),
    }
    assert analysis.parameters["clinic_settings_version"] == 1
    # The results name the mapped muscle.
    client.force_login(alice)
    html = client.get(reverse("analysis:recording_results", args=[recording.pk])).content.decode()
    assert "hamstrings" in html.lower()
    assert "quadriceps" not in html.lower()


@pytest.mark.parametrize(
    ("channel_map", "message"),
    [
        ('{"CH1": "left quadriceps", "ch1": "right quadriceps"}', "mapped twice"),
        ('{"CH1": ""}', "give the muscle as text"),
        ('{"CH1": 3}', "give the muscle as text"),
        ('["CH1"]', "must be an object"),
    ],
)
def test_the_admin_refuses_a_bad_map_as_a_form_error(client, carol, channel_map, message):
    carol.is_staff = True
    carol.save(update_fields=["is_staff"])
    client.force_login(carol)
    data = {
        "clinic": carol.clinic_id,
        "contractions_per_round": 12,
        "target_pct_mvc": 80,
        "hold_s": 2,
        "rounds_per_session": 3,
        "sessions_per_week": 5,
        "programme_weeks": 2,
        "scoring_weights": "{}",
        "bfr_safe_low_pct_aop": 45,
        "bfr_safe_high_pct_aop": 55,
        "game_score_max": "",
        "channel_map": channel_map,
    }
    response = client.post(reverse("admin:clinic_clinicsettings_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ClinicSettings.objects.exists()


def test_the_service_refuses_a_bad_map(carol):
    with pytest.raises(ValidationError, match="mapped twice"):
        clinic_settings_create(
            clinic=carol.clinic, values={"channel_map": {"CH1": "a", " ch1": "b"}}, user=carol
        )
    assert not ClinicSettings.objects.exists()
