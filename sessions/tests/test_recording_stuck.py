"""`Recording.objects.stuck()`: the one definition of a recording the pipeline left behind.

The sweeper re-sends these and the dashboard lists them as needing attention: pending and not
sent to the broker lately, or processing for longer than a task may run.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from analysis.tests.support import make_recording
from sessions.models import Recording, processing_stale_after


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient)


@pytest.fixture
def resend_after(settings):
    return timedelta(seconds=settings.RECORDING_PENDING_STUCK_AFTER_S)


def recording(session, name, status, **times):
    """A recording with its pipeline timestamps set (``created_at`` cannot be given at creation)."""
    row = make_recording(session, name, status=status)
    Recording.objects.filter(pk=row.pk).update(**times)
    return row


def stuck_names(**kwargs):
    return set(Recording.objects.stuck(**kwargs).values_list("original_name", flat=True))


def test_pending_recordings_not_sent_lately_are_stuck_fresh_ones_are_not(session, resend_after):
    now = timezone.now()
    long_ago = now - resend_after - timedelta(seconds=5)
    recording(session, "never-sent.c3d", "pending", created_at=long_ago)  # broker down at upload
    recording(session, "sent-long-ago.c3d", "pending", created_at=long_ago, enqueued_at=long_ago)
    recording(session, "fresh.c3d", "pending")  # just uploaded, its message on the way
    recording(session, "just-sent.c3d", "pending", created_at=long_ago, enqueued_at=now)
    assert stuck_names() == {"never-sent.c3d", "sent-long-ago.c3d"}


def test_processing_past_the_task_limit_is_stuck_a_running_one_is_not(session, resend_after):
    now = timezone.now()
    dead_claim = now - processing_stale_after() - timedelta(seconds=5)
    recording(session, "vanished.c3d", "processing", processing_started_at=dead_claim)
    recording(
        session,
        "vanished-sent-long-ago.c3d",
        "processing",
        processing_started_at=dead_claim,
        enqueued_at=dead_claim,
    )
    recording(session, "busy.c3d", "processing", processing_started_at=now)
    # Re-sent by the sweeper a moment ago: not again until that message had its chance.
    recording(
        session, "just-resent.c3d", "processing", processing_started_at=dead_claim, enqueued_at=now
    )
    assert stuck_names() == {"vanished.c3d", "vanished-sent-long-ago.c3d"}


@pytest.mark.parametrize("status", ["done", "failed"])
def test_finished_recordings_are_never_stuck(session, resend_after, status):
    long_ago = timezone.now() - processing_stale_after() - resend_after
    recording(session, "old.c3d", status, created_at=long_ago, processing_started_at=long_ago)
    assert stuck_names() == set()


def test_stuck_is_judged_at_the_time_asked(session, resend_after):
    recording(session, "fresh.c3d", "pending")
    assert stuck_names() == set()
    assert stuck_names(now=timezone.now() + resend_after + timedelta(seconds=1)) == {"fresh.c3d"}


def test_needing_attention_is_failed_or_stuck_in_one_condition(session, resend_after):
    now = timezone.now()
    long_ago = now - resend_after - timedelta(seconds=5)
    recording(session, "failed.c3d", "failed")
    recording(session, "never-sent.c3d", "pending", created_at=long_ago)
    recording(session, "vanished.c3d", "processing", processing_started_at=long_ago - timedelta(1))
    recording(session, "fresh.c3d", "pending")
    recording(session, "done.c3d", "done")
    needing = Recording.objects.needing_attention()
    names = set(needing.values_list("original_name", flat=True))
    assert names == stuck_names() | {"failed.c3d"}
    assert names == {"failed.c3d", "never-sent.c3d", "vanished.c3d"}
    # a condition on the row itself, not a second scan of recordings in a subquery
    assert str(needing.query).count('FROM "therapy_sessions_recording"') == 1
