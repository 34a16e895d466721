"""The upload service: what it stores, what it refuses, and that it queues after commit."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from conftest import shared_c3d_dir
from sessions.models import Recording
from sessions.uploads import UploadRefused, recording_upload, upload_check


def ghostly_bytes(index=0):
    files = sorted((shared_c3d_dir() / "ghostly").glob("*.c3d"))
    return files[index].name, files[index].read_bytes()


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient)


def test_it_stores_the_file_with_its_sha256_and_size_and_leaves_it_pending(session, alice):
    name, data = ghostly_bytes()
    recording = recording_upload(session=session, uploaded_file=upload(name, data), user=alice)
    recording.refresh_from_db()
    assert recording.status == Recording.Status.PENDING
    assert recording.sha256 == hashlib.sha256(data).hexdigest()
    assert recording.size_bytes == len(data)
    assert recording.original_name == name
    assert recording.uploaded_by == alice
    # Stored under an opaque name in private storage, byte for byte.
    assert name not in recording.file.name
    with recording.file.open("rb") as stored:
        assert stored.read() == data


def test_it_refuses_the_same_file_twice_on_one_session(session, alice):
    name, data = ghostly_bytes()
    recording_upload(session=session, uploaded_file=upload(name, data), user=alice)
    with pytest.raises(UploadRefused, match="already uploaded to this session"):
        recording_upload(session=session, uploaded_file=upload("renamed.c3d", data), user=alice)
    assert Recording.objects.filter(session=session).count() == 1


def test_it_accepts_the_same_file_on_another_session(session_of, alices_patient, alice):
    name, data = ghostly_bytes()
    for _ in range(2):
        recording_upload(
            session=session_of(alices_patient), uploaded_file=upload(name, data), user=alice
        )
    assert Recording.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"hello, this is a text file\n" * 40, "does not start with a C3D header"),
        (b"\x02\x50" + b"\x00" * 100, "too short"),
        (b"\x00\x50" + b"\x00" * 1022, "impossible parameter block"),
        (b"\x02\x50" + b"\x00" * 1022, "unknown processor type"),
        (b"\x09\x50" + b"\x00" * 1022, "beyond the end of the file"),
    ],
)
def test_it_refuses_a_file_that_is_not_c3d_before_storing_anything(session, alice, data, reason):
    with pytest.raises(UploadRefused, match=reason) as refused:
        recording_upload(session=session, uploaded_file=upload("notes.c3d", data), user=alice)
    assert "notes.c3d is not a C3D recording" in refused.value.message
    assert not Recording.objects.exists()


def test_it_refuses_a_file_above_the_size_limit(session, alice, settings):
    name, data = ghostly_bytes()
    settings.RECORDING_MAX_UPLOAD_BYTES = len(data) - 1
    with pytest.raises(UploadRefused, match="above the 1 MB limit"):
        recording_upload(session=session, uploaded_file=upload(name, data), user=alice)
    assert not Recording.objects.exists()


def test_it_refuses_a_voided_session(session, alice, carol):
    session.void(by=carol, reason="entered twice")
    name, data = ghostly_bytes()
    with pytest.raises(UploadRefused, match="voided"):
        recording_upload(session=session, uploaded_file=upload(name, data), user=alice)


def test_it_refuses_users_outside_the_session_or_without_the_permission(session, bob, dave, rita):
    name, data = ghostly_bytes()
    for user in (bob, dave, rita):  # another therapist, another clinic, read-only researcher
        with pytest.raises(PermissionDenied):
            recording_upload(session=session, uploaded_file=upload(name, data), user=user)
    assert not Recording.objects.exists()


def test_the_header_check_accepts_every_real_c3d_file():
    for path in sorted(shared_c3d_dir().rglob("*")):
        if path.is_file() and path.stat().st_size:
            upload_check(uploaded_file=upload(path.name, path.read_bytes()))  # no UploadRefused


@pytest.mark.django_db(transaction=True)
def test_it_sends_the_task_only_after_the_transaction_commits(
    broker, session_of, alices_patient, alice
):
    name, data = ghostly_bytes()
    with transaction.atomic():
        recording = recording_upload(
            session=session_of(alices_patient), uploaded_file=upload(name, data), user=alice
        )
        assert broker.llen("celery") == 0  # nothing a worker could see before the row exists
    assert broker.llen("celery") == 1
    recording.refresh_from_db()
    assert recording.enqueued_at is not None
