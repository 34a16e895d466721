"""The admin shows results as people read them (issue 16): MVC and thresholds in µV, figures
rounded, stored JSON as tables; researchers stay pseudonymised there."""

import re

import pytest
from django.urls import reverse

from analysis.admin import json_table
from analysis.models import RecordingAnalysis
from analysis.tests.support import analysed
from patients.models import MvcCalibration

pytestmark = pytest.mark.django_db

LONG_DECIMAL = re.compile(r"\d\.\d{5,}")


def test_an_analysis_reads_in_microvolts_rounded_with_tables(
    client, zoe, alices_patient, session_of
):
    recording = analysed(session_of(alices_patient))
    analysis = RecordingAnalysis.objects.get(recording=recording, is_current=True)
    RecordingAnalysis.objects.filter(pk=analysis.pk).update(score_overall=78.8888888888889)
    client.force_login(zoe)
    body = client.get(
        reverse("admin:analysis_recordinganalysis_change", args=[analysis.pk])
    ).content.decode()
    assert "MVC (µV)" in body
    assert "threshold (µv)" in body.lower()
    assert "78.9" in body
    assert "78.888" not in body
    assert not LONG_DECIMAL.search(re.sub(r"<[^>]+>", " ", body.split('id="content"')[1]))
    assert "class='admin-json'" in body or 'class="admin-json"' in body
    assert "target_pct_mvc" in body  # the parameters, as a table row
    assert "{&#x27;" not in body  # nested objects are nested tables, not a Python dict's text
    listing = client.get(reverse("admin:analysis_recordinganalysis_changelist")).content.decode()
    assert "78.9" in listing
    assert "78.888" not in listing


def test_a_calibration_reads_in_microvolts(client, zoe, alices_patient):
    MvcCalibration.objects.create(
        patient=alices_patient, side="left", muscle="quadriceps", value_v=0.0004, source="entered"
    )
    client.force_login(zoe)
    body = client.get(reverse("admin:patients_mvccalibration_changelist")).content.decode()
    assert "400.0" in body
    assert "0.000400" not in body


def test_a_researcher_sees_no_identity_in_the_analysis_admin(
    client, rita, alices_patient, session_of
):
    rita.is_staff = True
    rita.save()
    recording = analysed(session_of(alices_patient))
    analysis = RecordingAnalysis.objects.get(recording=recording, is_current=True)
    client.force_login(rita)
    response = client.get(reverse("admin:analysis_recordinganalysis_change", args=[analysis.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Agatha" not in body
    assert "Aldersley" not in body
    assert "round1.c3d" not in body  # the file name: "Recording N" for researchers
    assert f"Recording {recording.pk}" in body
    content = body.split('id="content"')[1]
    assert "field-metadata" not in content
    listing = client.get(reverse("admin:analysis_recordinganalysis_changelist")).content.decode()
    assert "round1.c3d" not in listing
    assert f"Recording {recording.pk}" in listing


def test_a_researcher_sees_recordings_pseudonymised_in_the_admin(
    client, rita, zoe, alices_patient, session_of
):
    rita.is_staff = True
    rita.save()
    recording = analysed(session_of(alices_patient), "Agatha_Aldersley_P001.c3d")
    client.force_login(rita)
    listing = client.get(reverse("admin:therapy_sessions_recording_changelist"))
    page = client.get(reverse("admin:therapy_sessions_recording_change", args=[recording.pk]))
    for response in (listing, page):
        assert response.status_code == 200
        body = response.content.decode()
        assert "Agatha" not in body
        assert f"Recording {recording.pk}" in body
    # Clinical staff still see the file name.
    client.force_login(zoe)
    body = client.get(reverse("admin:therapy_sessions_recording_changelist")).content.decode()
    assert "Agatha_Aldersley_P001.c3d" in body


def test_stored_json_is_escaped_in_its_tables():
    html = str(json_table({"a": "<script>x</script>", "b": [{"c": "<b>"}, 1.23456], "d": None}))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;" in html
    assert html.count("<table class='admin-json'>") == 2  # the list's object: a nested table
    assert "1.235" in html


def test_a_list_of_plain_values_reads_as_a_list():
    assert str(json_table(["game", "effort"])) == "game, effort"
