"""Recording download: streamed from private storage, in scope, with permission, audited."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from analysis.tests.support import TINY_C3D, make_recording

pytestmark = pytest.mark.django_db


@pytest.fixture
def recording(alices_patient, session_of):
    return make_recording(
        session_of(alices_patient), name="Ghostly_Emg_20240603_09-30-00-0001.c3d", data=TINY_C3D
    )


def url(recording):
    return reverse("sessions:recording-download", args=[recording.pk])


def test_the_therapist_downloads_the_file_as_an_attachment(client, alice, recording):
    client.force_login(alice)
    response = client.get(url(recording))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TINY_C3D
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Ghostly_Emg_20240603_09-30-00-0001.c3d" in response["Content-Disposition"]


def test_a_download_leaves_an_accessed_entry_naming_who(client, alice, recording):
    client.force_login(alice)
    client.get(url(recording))
    entry = LogEntry.objects.get_for_object(recording).get(action=LogEntry.Action.ACCESS)
    assert entry.actor == alice


def test_other_therapists_and_clinics_get_404(client, bob, dave, recording):
    for user in (bob, dave):
        client.force_login(user)
        assert client.get(url(recording)).status_code == 404
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_researchers_cannot_download_identifiable_files(client, rita, recording):
    client.force_login(rita)
    assert client.get(url(recording)).status_code == 403


def test_a_researcher_granted_the_permission_still_gets_no_file(client, rita, recording):
    # The C3D carries the player's name: the permission alone is not enough without identity.

    rita.user_permissions.add(Permission.objects.get(codename="download_recording"))
    client.force_login(rita)
    assert client.get(url(recording)).status_code == 403


def test_a_missing_file_is_404_not_500(client, alice, recording):
    recording.file.storage.delete(recording.file.name)
    client.force_login(alice)
    assert client.get(url(recording)).status_code == 404


def test_anonymous_users_are_sent_to_login(client, recording):
    response = client.get(url(recording))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_downloads_are_get_only(client, alice, recording):
    client.force_login(alice)
    assert client.post(url(recording)).status_code == 405
