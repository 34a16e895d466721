"""Recordings are records (issue 16): voided with a reason (kept, left out of every result, shown
struck through to those who may void) and moved to another session in scope, both audited, and
followed at once by the score, the counts, adherence, exports and reports."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from analysis.exports import contraction_rows, export_scope, recording_rows
from analysis.fhir import patient_bundle
from analysis.models import ChannelResult, RecordingAnalysis
from analysis.pipeline.queue import recording_move, recording_reanalyse
from analysis.research import research_rows
from analysis.selectors import recording_statuses, session_summary
from analysis.tests.support import analysed, make_recording
from clinic.models import AuditEntry
from conftest import PATIENTS_SEEN_BY
from patients.progress import patient_adherence
from patients.selectors import patient_session_summary
from reports.progress_report import progress_facts_key
from reports.session_report import session_facts_key, session_report_context
from sessions import services
from sessions.models import Recording

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 8)


def when(day):
    return dt.datetime(2026, 3, day, 10, tzinfo=dt.UTC)


@pytest.fixture
def rounds(alices_patient, session_of):
    """Alice's patient: one session with two analysed rounds of different quality."""
    alices_patient.treatment_start = dt.date(2026, 3, 2)
    alices_patient.save()
    session = session_of(alices_patient, started_at=when(3))
    good = analysed(session, "good.c3d", left_good=10)
    poor = analysed(session, "poor.c3d", left_good=2)
    # The poor round's stored compliance is low: the session's mean shows whether it counts.
    RecordingAnalysis.objects.filter(recording=poor).update(score_compliance=20.0)
    ChannelResult.objects.filter(analysis__recording=poor).update(compliance=10.0)
    return session, good, poor


def score_of(session):
    return session_summary(session)["score"]


def test_void_keeps_the_recording_and_leaves_it_out_of_score_counts_and_adherence(
    client, alice, alices_patient, rounds
):
    session, good, poor = rounds
    both = score_of(session)
    assert both["recordings"] == 2
    assert patient_adherence(alices_patient, today=TODAY)["rounds_done"] == 2

    client.force_login(alice)
    response = client.post(
        reverse("sessions:recording-void", args=[poor.pk]), {"reason": "Patient stopped early"}
    )
    assert response.status_code == 302
    poor.refresh_from_db()
    assert (poor.void_reason, poor.voided_by) == ("Patient stopped early", alice)
    assert Recording.objects.filter(pk=poor.pk).exists()  # kept, never deleted

    score = score_of(session)
    assert score["recordings"] == 1
    assert score["compliance"]["mean"] == 80.0
    assert both["compliance"]["mean"] == 50.0
    assert score["overall"] > both["overall"]
    only_good = session_summary(session)
    assert [row["recording"] for row in only_good["recordings"]] == [good]
    assert only_good["voided_recordings"] == []  # only on request, for those who may void
    assert [s["recording"] for s in recording_statuses(session.pk)] == [good.pk]
    adherence = patient_adherence(alices_patient, today=TODAY)
    assert (adherence["rounds_done"], adherence["sessions_short"]) == (1, 1)
    assert patient_session_summary(alices_patient, user=alice)["recordings"] == 1

    page = client.get(session.get_absolute_url()).content.decode()
    assert "Recordings analysed</dt><dd>1 of 1" in page
    assert '<s><a class="recording-name"' in page
    assert "Patient stopped early" in page
    entry = AuditEntry.objects.get(action="void")
    assert (entry.action, entry.object_id, entry.patient_id) == (
        "void",
        str(poor.pk),
        alices_patient.pk,
    )


def test_a_void_recording_is_hidden_from_those_who_may_not_void(client, rita, rounds):
    session, good, poor = rounds
    services.recording_void(by=None, recording=poor, reason="Wrong file")
    client.force_login(rita)
    page = client.get(session.get_absolute_url()).content.decode()
    assert f"Recording {good.pk}" in page
    assert f"Recording {poor.pk}" not in page
    assert "Wrong file" not in page
    for name in ("sessions:recording", "analysis:recording_results", "analysis:recording_row"):
        assert client.get(reverse(name, args=[poor.pk])).status_code == 404, name


def test_void_leaves_the_recording_out_of_exports_research_and_reports(
    carol, rita, alices_patient, rounds
):
    session, good, poor = rounds
    services.recording_void(by=carol, recording=poor, reason="Wrong file")
    scope = export_scope(carol, alices_patient.pk)
    assert [row["recording_id"] for row in recording_rows(carol, scope)] == [good.pk]
    assert {row["recording_id"] for row in research_rows(rita)} == {good.pk}
    report = session_report_context(session, variant="identified")
    assert [item["recording"] for item in report["recordings"]] == [good]
    assert {row["recording_id"] for row in contraction_rows(carol, scope)} == {good.pk}
    bundle = json.dumps(patient_bundle(carol, alices_patient.pk))
    assert "good.c3d" in bundle
    assert "poor.c3d" not in bundle


def test_the_api_hides_a_void_recording_from_those_who_may_not_void_and_never_reanalyses_it(
    client, carol, rita, rounds
):
    _, good, poor = rounds
    services.recording_void(by=carol, recording=poor, reason="Wrong file")
    client.force_login(rita)
    listed = client.get("/api/v1/recordings/").json()
    assert [r["id"] for r in listed["results"]] == [good.pk]
    assert client.get(f"/api/v1/recordings/{poor.pk}/").status_code == 404
    client.force_login(carol)
    assert client.post(f"/api/v1/recordings/{poor.pk}/reanalyse/").status_code == 400


def test_void_needs_a_reason_and_happens_once(alice, rounds):
    _, _, poor = rounds
    with pytest.raises(ValidationError):
        services.recording_void(by=alice, recording=poor, reason="  ")
    services.recording_void(by=alice, recording=poor, reason="Duplicate")
    with pytest.raises(ValidationError):
        services.recording_void(by=alice, recording=poor, reason="Again")
    with pytest.raises(ValidationError):
        recording_reanalyse(recording=Recording.objects.get(pk=poor.pk))


def test_move_within_the_patient_moves_the_score_and_rounds_at_once(
    client, alice, alices_patient, session_of, rounds
):
    session, good, poor = rounds
    other = session_of(alices_patient, started_at=when(5))
    client.force_login(alice)
    form = client.get(reverse("sessions:recording-move", args=[poor.pk])).content.decode()
    assert f'value="{other.pk}"' in form
    assert f'value="{session.pk}"' not in form
    response = client.post(
        reverse("sessions:recording-move", args=[poor.pk]), {"to_session": other.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == other.get_absolute_url()
    poor.refresh_from_db()
    assert poor.session == other
    assert poor.status == Recording.Status.DONE
    assert (score_of(session)["recordings"], score_of(other)["recordings"]) == (1, 1)
    adherence = patient_adherence(alices_patient, today=TODAY)
    assert (adherence["rounds_done"], adherence["sessions_short"]) == (2, 2)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_id) == ("change", str(poor.pk))


def test_move_to_another_patient_reanalyses_and_names_both_patients(
    client, carol, alice, alices_patient, bobs_patient, session_of, rounds
):
    session, good, poor = rounds
    target = session_of(bobs_patient, started_at=when(4))
    client.force_login(carol)
    response = client.post(
        reverse("sessions:recording-move", args=[poor.pk]), {"to_session": target.pk}
    )
    assert response.status_code == 302
    poor.refresh_from_db()
    assert poor.session == target
    assert poor.status == Recording.Status.PENDING  # analysed again with Bob's patient's MVC
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "change"
    assert set(entry.patient_id_list) == {alices_patient.pk, bobs_patient.pk}
    assert patient_adherence(alices_patient, today=TODAY)["rounds_done"] == 1
    # Alice is not Bob's patient's therapist: the moved recording is out of her scope now.
    client.force_login(alice)
    assert client.get(reverse("sessions:recording", args=[poor.pk])).status_code == 404


def test_move_refuses_targets_out_of_scope_voided_or_holding_the_file(
    client, alice, alices_patient, bobs_patient, daves_patient, session_of, rounds
):
    session, good, poor = rounds
    client.force_login(alice)
    url = reverse("sessions:recording-move", args=[poor.pk])
    session_of(alices_patient, started_at=when(5))  # a valid target: the form is shown
    voided = session_of(alices_patient, started_at=when(6))
    services.session_void(by=None, session=voided, reason="Wrong day")
    for target in (session_of(bobs_patient), session_of(daves_patient), voided, session):
        response = client.post(url, {"to_session": target.pk})
        assert response.status_code == 200
        assert b"errorlist" in response.content
    for bad in ("", "abc", "999999"):
        assert client.post(url, {"to_session": bad}).status_code == 200
    twin = session_of(alices_patient, started_at=when(7))
    make_recording(twin, "poor.c3d", data=poor.file.open("rb").read())
    with pytest.raises(ValidationError):
        services.recording_move(by=alice, recording=poor, to_session=twin)
    with pytest.raises(PermissionDenied):
        recording_move(by=alice, recording=poor, to_session=session_of(bobs_patient))
    poor.refresh_from_db()
    assert poor.session == session


def test_a_recording_being_analysed_is_not_moved_to_another_patient(
    carol, alices_patient, bobs_patient, session_of
):
    session = session_of(alices_patient)
    busy = make_recording(session, status=Recording.Status.PROCESSING)
    with pytest.raises(ValidationError):
        recording_move(by=carol, recording=busy, to_session=session_of(bobs_patient))


# Who may open the void and move pages of a recording of each patient: 404 out of scope before
# 403 without the permission (a researcher sees the clinic but may not void).
MAY_VOID = {"alice", "bob", "carol", "dave", "zoe"}


@pytest.mark.parametrize("persona", sorted(PATIENTS_SEEN_BY))
@pytest.mark.parametrize("name", ["sessions:recording-void", "sessions:recording-move"])
def test_persona_matrix_of_the_void_and_move_pages(client, everyone, session_of, persona, name):
    client.force_login(everyone[persona])
    for key in ("alices_patient", "bobs_patient", "daves_patient"):
        recording = make_recording(session_of(everyone[key]), f"{key}.c3d")
        status = client.get(reverse(name, args=[recording.pk])).status_code
        if key not in PATIENTS_SEEN_BY[persona]:
            expected = 404
        elif persona in MAY_VOID:
            expected = 200
        else:
            expected = 403
        assert status == expected, (persona, key, status)


def test_a_void_recording_has_no_void_or_move_page(client, carol, rounds):
    _, _, poor = rounds
    services.recording_void(by=carol, recording=poor, reason="Wrong file")
    client.force_login(carol)
    for name in ("sessions:recording-void", "sessions:recording-move"):
        assert client.get(reverse(name, args=[poor.pk])).status_code == 404
    for name in ("sessions:recording", "analysis:recording_results"):
        page = client.get(reverse(name, args=[poor.pk])).content.decode()
        assert "This recording is void" in page
        assert "Wrong file" in page
        assert reverse("sessions:recording-void", args=[poor.pk]) not in page


def test_void_and_move_change_what_a_cached_pdf_report_depends_on(
    carol, alices_patient, session_of, rounds
):
    session, good, poor = rounds
    other = session_of(alices_patient, started_at=when(5))

    def keys():
        return (
            session_facts_key(session, variant="identified"),
            session_facts_key(other, variant="identified"),
            progress_facts_key(alices_patient, variant="identified", date_from=None, date_to=None),
        )

    before = keys()
    services.recording_void(by=carol, recording=poor, reason="Wrong file")
    voided = keys()
    assert voided[0] != before[0]
    assert voided[2] != before[2]
    services.recording_move(by=carol, recording=good, to_session=other)
    moved = keys()
    assert moved[0] != voided[0]
    assert moved[1] != voided[1]
    assert moved[2] != voided[2]  # the good round now scores the other session


def test_a_failed_file_voided_no_longer_holds_the_count_back(
    client, carol, session_of, alices_patient
):
    session = session_of(alices_patient)
    analysed(session, "round1.c3d")
    failed = make_recording(
        session,
        "round2.c3d",
        status=Recording.Status.FAILED,
        failure_reason="ANALOG:RATE says 600 Hz",
    )
    client.force_login(carol)
    assert (
        "Recordings analysed</dt><dd>1 of 2"
        in client.get(session.get_absolute_url()).content.decode()
    )
    client.post(reverse("sessions:recording-void", args=[failed.pk]), {"reason": "Wrong file"})
    page = client.get(session.get_absolute_url()).content.decode()
    assert "Recordings analysed</dt><dd>1 of 1" in page
    assert "ANALOG:RATE says 600 Hz" not in page  # its failure is no longer on the live list
