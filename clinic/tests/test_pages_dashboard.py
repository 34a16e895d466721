"""Dashboard: my patients, recent sessions, recordings needing attention; scoped and cheap."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analysis.tests.support import AUDIT_ENTRY, make_recording
from conftest import make_patient, names_in
from sessions.models import Recording, processing_stale_after
from sessions.services import recording_void

pytestmark = pytest.mark.django_db


def test_a_therapist_sees_her_patients_and_sessions_only(
    client, alice, alices_patient, bobs_patient, session_of
):
    mine = session_of(alices_patient)
    theirs = session_of(bobs_patient)
    client.force_login(alice)
    response = client.get(reverse("clinic:dashboard"))
    body = response.content.decode()
    assert [card.code for card in response.context["patients"]] == ["P001"]
    assert reverse("sessions:detail", args=[mine.pk]) in body
    assert reverse("sessions:detail", args=[theirs.pk]) not in body
    assert names_in(body) == {"Agatha", "Aldersley"}


def test_failed_and_stuck_recordings_need_attention_fresh_ones_do_not(
    client, alice, alices_patient, session_of
):
    # "Stuck" is the pipeline's one definition (Recording.objects.stuck, what the sweeper
    # re-sends): pending and not sent for a minute, or processing past the task's time limit.
    now = timezone.now()
    session = session_of(alices_patient)
    failed = make_recording(session, name="failed.c3d", status="failed")
    stuck = make_recording(session, name="stuck.c3d", status="processing")
    Recording.objects.filter(pk=stuck.pk).update(
        processing_started_at=now - processing_stale_after() - timedelta(seconds=5)
    )
    unsent = make_recording(session, name="unsent.c3d", status="pending")
    Recording.objects.filter(pk=unsent.pk).update(created_at=now - timedelta(minutes=5))
    busy = make_recording(session, name="busy.c3d", status="processing")
    Recording.objects.filter(pk=busy.pk).update(processing_started_at=now)
    make_recording(session, name="fresh.c3d", status="pending")
    make_recording(session, name="fine.c3d", status="done")
    client.force_login(alice)
    rows = client.get(reverse("clinic:dashboard")).context["attention"]
    assert {row["recording"].original_name for row in rows} == {
        "failed.c3d",
        "stuck.c3d",
        "unsent.c3d",
    }
    assert failed.pk in {row["recording"].pk for row in rows}


def test_a_voided_failed_recording_leaves_the_attention_list(
    client, alice, alices_patient, session_of
):
    session = session_of(alices_patient)
    failed = make_recording(session, name="failed.c3d", status="failed")
    recording_void(by=alice, recording=failed, reason="Wrong file uploaded")
    client.force_login(alice)
    assert client.get(reverse("clinic:dashboard")).context["attention"] == []


def test_a_researcher_sees_codes_only(client, rita, alices_patient, bobs_patient, session_of):
    session = session_of(alices_patient)
    make_recording(session, name="failed.c3d", status="failed")
    client.force_login(rita)
    body = client.get(reverse("clinic:dashboard")).content.decode()
    assert "P001" in body
    assert "P002" in body
    assert names_in(body) == set()


def test_the_dashboard_query_count_does_not_grow(
    client, carol, bob, north, session_of, django_assert_max_num_queries
):
    for i in range(20):
        patient = make_patient(north, f"Q{i:03d}", "Pat", f"Number{i}", bob)
        make_recording(session_of(patient), name=f"r{i}.c3d", status="failed")
    client.force_login(carol)
    client.get(reverse("clinic:dashboard"))
    # A manager's dashboard (issue 16) is a fixed count whatever the clinic's size:
    # test_pages_dashboard_plan.py pins it and names each query.
    with django_assert_max_num_queries(20 + AUDIT_ENTRY):
        response = client.get(reverse("clinic:dashboard"))
    assert len(response.context["recent_sessions"]) == 10
