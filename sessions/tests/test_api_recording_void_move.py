"""The API voids and moves recordings as the pages do: same services, same scope and audit."""

import pytest
from rest_framework.test import APIClient

from analysis.tests.support import make_recording
from clinic.models import AuditEntry
from sessions.models import Recording

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_therapist_voids_a_recording_with_a_reason(alice, alices_patient, session_of):
    recording = make_recording(session_of(alices_patient), name="wrong.c3d")
    url = f"/api/v1/recordings/{recording.pk}/void/"
    assert api(alice).post(url, {}, format="json").status_code == 400  # the reason is required
    response = api(alice).post(url, {"reason": "Wrong file"}, format="json")
    assert response.status_code == 200, response.content
    recording.refresh_from_db()
    assert (recording.void_reason, recording.voided_by) == ("Wrong file", alice)
    assert AuditEntry.objects.filter(action="void", object_id=str(recording.pk)).count() == 1
    # voided: gone from the API for good, a second void is a 404
    assert api(alice).post(url, {"reason": "again"}, format="json").status_code == 404


def test_void_and_move_answer_404_out_of_scope_and_403_to_researchers(
    bob, rita, alices_patient, session_of
):
    recording = make_recording(session_of(alices_patient), name="r.c3d")
    for action, body in (("void", {"reason": "x"}), ("move", {"to_session": 1})):
        url = f"/api/v1/recordings/{recording.pk}/{action}/"
        assert api(bob).post(url, body, format="json").status_code == 404
        assert api(rita).post(url, body, format="json").status_code == 403
    assert Recording.objects.get(pk=recording.pk).voided_at is None


def test_a_therapist_moves_a_recording_to_another_session_of_the_patient(
    alice, alices_patient, bobs_patient, session_of
):
    source, target = session_of(alices_patient), session_of(alices_patient)
    recording = make_recording(source, name="misfiled.c3d")
    url = f"/api/v1/recordings/{recording.pk}/move/"
    foreign = session_of(bobs_patient)  # not in alice's scope: not a valid target
    assert api(alice).post(url, {"to_session": foreign.pk}, format="json").status_code == 400
    response = api(alice).post(url, {"to_session": target.pk}, format="json")
    assert response.status_code == 200, response.content
    assert Recording.objects.get(pk=recording.pk).session_id == target.pk
    assert response.json()["session"] == target.pk
