"""The periodic sweeper re-enqueues what was left behind, and nothing else."""

from datetime import timedelta

from django.utils import timezone

from analysis.pipeline.queue import recordings_requeue_stuck
from analysis.tasks import requeue_stuck_recordings
from analysis.tests.support import make_recording
from sessions.models import Recording, processing_stale_after


def test_it_enqueues_stuck_pending_and_stale_processing_recordings_only(
    broker, session_of, alices_patient
):
    session = session_of(alices_patient)
    long_ago = timezone.now() - timedelta(minutes=10)
    never_sent = make_recording(session, "never-sent.c3d")  # broker was down at upload
    sent_long_ago = make_recording(session, "sent-long-ago.c3d")
    just_sent = make_recording(session, "just-sent.c3d")
    stale = make_recording(session, "stale.c3d", status=Recording.Status.PROCESSING)
    busy = make_recording(session, "busy.c3d", status=Recording.Status.PROCESSING)
    done = make_recording(session, "done.c3d", status=Recording.Status.DONE)
    Recording.objects.filter(pk=never_sent.pk).update(created_at=long_ago)
    Recording.objects.filter(pk=sent_long_ago.pk).update(enqueued_at=long_ago)
    Recording.objects.filter(pk=just_sent.pk).update(enqueued_at=timezone.now())
    Recording.objects.filter(pk=stale.pk).update(
        processing_started_at=timezone.now() - processing_stale_after() - timedelta(seconds=5)
    )
    Recording.objects.filter(pk=busy.pk).update(processing_started_at=timezone.now())
    Recording.objects.filter(pk=done.pk).update(created_at=long_ago)

    sent = recordings_requeue_stuck()

    assert sorted(sent) == sorted([never_sent.pk, sent_long_ago.pk, stale.pk])
    assert broker.llen("celery") == 3
    never_sent.refresh_from_db()
    assert never_sent.enqueued_at is not None
    # Sent again just now: the next sweep leaves them alone (no pile of duplicate messages).
    assert recordings_requeue_stuck() == []


def test_the_periodic_task_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["requeue-stuck-recordings"]
    assert entry["task"] == requeue_stuck_recordings.name
    assert entry["schedule"] <= 60
