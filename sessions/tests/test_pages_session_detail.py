"""Session and recording pages: recordings and their status, masking, download links."""

import pytest
from django.urls import reverse

from analysis.tests.support import (
    AUDIT_ENTRY,
    AUDIT_LOOKUP,
    AUDIT_PURPOSE,
    make_recording,
)
from conftest import names_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(alices_patient, session_of):
    session = session_of(alices_patient, rpe=4, notes="Knee felt warm")
    done = make_recording(session, name="round1.c3d", status="done")
    failed = make_recording(session, name="round2.c3d", status="failed")
    failed.failure_reason = "Not a C3D file: the header is unreadable."
    failed.save()
    return session, done, failed


def test_the_session_page_lists_recordings_with_their_status(client, alice, recorded):
    session, done, failed = recorded
    client.force_login(alice)
    body = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert reverse("sessions:recording", args=[done.pk]) in body
    assert "Not a C3D file" in body
    assert reverse("sessions:recording-download", args=[done.pk]) in body
    assert "Knee felt warm" in body


def test_a_researcher_sees_the_session_without_identity_or_downloads(client, rita, recorded):
    session, done, _ = recorded
    client.force_login(rita)
    body = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert names_in(body) == set()
    assert "Knee felt warm" not in body  # free text may identify
    assert "/download/" not in body
    assert reverse("sessions:edit", args=[session.pk]) not in body


def test_the_recording_page_shows_status_and_failure_reason(client, alice, recorded):
    _, _, failed = recorded
    client.force_login(alice)
    response = client.get(reverse("sessions:recording", args=[failed.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Failed" in body
    assert "header is unreadable" in body
    assert failed.sha256 in body
    assert "/media/" not in body  # never a public media URL


def test_the_session_page_query_count_does_not_grow_with_recordings(
    client, alice, alices_patient, session_of, django_assert_max_num_queries
):
    session = session_of(alices_patient)
    for i in range(12):
        make_recording(session, name=f"round{i}.c3d")
    client.force_login(alice)
    client.get(reverse("sessions:detail", args=[session.pk]))
    with django_assert_max_num_queries(10 + AUDIT_ENTRY + AUDIT_LOOKUP + AUDIT_PURPOSE):
        response = client.get(reverse("sessions:detail", args=[session.pk]))
    assert response.content.decode().count("round") >= 12
