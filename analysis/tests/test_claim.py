"""Claiming a recording: a duplicate delivery does nothing, a redelivery takes over."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analysis.pipeline.worker import recording_claim, recording_release
from analysis.tests.support import make_recording
from sessions.models import Recording, processing_stale_after


@pytest.fixture
def recording(session_of, alices_patient):
    return make_recording(session_of(alices_patient))


def test_it_claims_a_pending_recording_once(recording):
    assert recording_claim(recording_id=recording.pk, task_id="t1")
    recording.refresh_from_db()
    assert (recording.status, recording.attempts) == ("processing", 1)
    assert recording.processing_started_at is not None
    # Another message for the same recording while it is being processed: not taken.
    assert recording_claim(recording_id=recording.pk, task_id="t2") is None


def test_the_same_message_redelivered_takes_over_and_counts_an_attempt(recording):
    recording_claim(recording_id=recording.pk, task_id="t1")
    assert recording_claim(recording_id=recording.pk, task_id="t1")
    recording.refresh_from_db()
    assert recording.attempts == 2


def test_a_retry_of_its_own_claim_does_not_count_an_attempt(recording):
    recording_claim(recording_id=recording.pk, task_id="t1")
    recording_claim(recording_id=recording.pk, task_id="t1", is_retry=True)
    recording.refresh_from_db()
    assert recording.attempts == 1


def test_a_retry_after_its_claim_was_released_counts_an_attempt(recording):
    # A soft time limit gives the row back (pending); the retry must count, or a file that is
    # always too slow would never reach the attempt cap.
    token = recording_claim(recording_id=recording.pk, task_id="t1")
    assert recording_release(recording_id=recording.pk, token=token)
    assert recording_claim(recording_id=recording.pk, task_id="t1", is_retry=True)
    recording.refresh_from_db()
    assert recording.attempts == 2


def test_a_stale_processing_claim_can_be_taken_by_another_message(recording):
    recording_claim(recording_id=recording.pk, task_id="t1")
    Recording.objects.filter(pk=recording.pk).update(
        processing_started_at=timezone.now() - processing_stale_after() - timedelta(seconds=1)
    )
    assert recording_claim(recording_id=recording.pk, task_id="t2")


@pytest.mark.parametrize("status", ["done", "failed"])
def test_finished_recordings_are_never_claimed(recording, status):
    Recording.objects.filter(pk=recording.pk).update(status=status)
    assert recording_claim(recording_id=recording.pk, task_id="t1") is None


def test_an_unknown_recording_is_not_claimed(db):
    assert recording_claim(recording_id=987654, task_id="t1") is None
