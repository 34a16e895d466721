"""The pipeline end to end with a real Celery worker on the real Redis broker (not eager).

The embedded worker (the root conftest's ``worker``: celery.contrib.testing, as the
``celery_worker`` fixture) runs in a thread of this process against the test database; the crash
tests start real worker processes.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis.models import Contraction, RecordingAnalysis
from analysis.pipeline.queue import recordings_wait
from analysis.pipeline.worker import gave_up_reason
from analysis.tasks import process_recording
from analysis.tests.support import embedded_worker, make_recording, wait_for
from conftest import shared_c3d_dir
from sessions.models import Recording
from sessions.uploads import recording_upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GHOSTLY = "ghostly/Ghostly_Emg_20230321_17-23-09-0409.c3d"


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient, rpe=5)


def upload_file(session, user, relative, name=None, data=None):
    path = shared_c3d_dir() / relative
    data = path.read_bytes() if data is None else data
    return recording_upload(
        session=session, uploaded_file=SimpleUploadedFile(name or path.name, data), user=user
    )


def finished(recording, timeout=30.0):
    statuses = recordings_wait(recording_ids=[recording.pk], timeout_s=timeout, poll_s=0.1)
    recording.refresh_from_db()
    assert statuses[recording.pk] in {"done", "failed"}, f"still {statuses[recording.pk]}"
    return recording


def test_an_uploaded_game_recording_ends_done_with_queryable_results(worker, session, alice):
    recording = finished(upload_file(session, alice, GHOSTLY))
    assert recording.status == Recording.Status.DONE, recording.failure_reason
    assert recording.attempts == 1
    analysis = RecordingAnalysis.objects.get(recording=recording, is_current=True)
    assert analysis.trigger == "upload"
    assert analysis.rate_hz == 990.0
    assert analysis.duration_s == pytest.approx(75.03, abs=0.01)
    assert analysis.metadata["game_score"] in (24, "24", 24.0)
    assert analysis.total_ms > 0
    assert analysis.score_overall is not None
    labels = [c.label for c in analysis.channels.order_by("position")]
    assert labels[:2] == ["CH1 Raw", "CH2 Raw"] or labels[:2] == ["CH1", "CH2"]
    left = analysis.channels.order_by("position").first()
    assert (left.side, left.muscle) == ("left", "quadriceps")
    assert left.mvc_source == "estimated"  # no calibration for this patient
    assert left.envelope["values"]
    assert Contraction.objects.filter(channel=left, source="detected").count() == left.count
    assert left.count > 0


def test_a_file_the_core_refuses_ends_failed_with_its_reason(worker, session, alice):
    data = (shared_c3d_dir() / GHOSTLY).read_bytes()[:4096]  # a valid header, then nothing
    recording = finished(upload_file(session, alice, GHOSTLY, "cut.c3d", data))
    assert recording.status == Recording.Status.FAILED
    assert recording.failure_reason
    assert "\n" not in recording.failure_reason
    assert not RecordingAnalysis.objects.filter(recording=recording).exists()


def test_the_same_message_delivered_twice_gives_one_result(
    broker, session, alice, transactional_db
):
    recording = make_recording(session, "dup.c3d", data=(shared_c3d_dir() / GHOSTLY).read_bytes())
    # The same message twice (a redelivery) and a second message for the same recording.
    for task_id in ("dup-task", "dup-task", "other-task"):
        process_recording.apply_async((recording.pk,), task_id=task_id)
    # Not the `worker` fixture: three threads, started once the three messages wait in the
    # queue, so that the deliveries race for the same row (the fixture's solo pool, started
    # first, would take them one after another). It must not purge the queue it starts on.
    with embedded_worker(purge=False, pool="threads", concurrency=3):
        finished(recording)
        wait_for(lambda: broker.llen("celery") == 0, what="the queue to be drained")
    assert recording.status == Recording.Status.DONE
    assert RecordingAnalysis.objects.filter(recording=recording).count() == 1


def test_a_recording_that_used_up_its_attempts_ends_failed(worker, session, settings):
    # The state a recording is in after its worker was killed on every attempt: the next
    # delivery of its message must end it instead of trying again.
    recording = make_recording(
        session,
        "crashes.c3d",
        status=Recording.Status.PROCESSING,
        attempts=settings.RECORDING_MAX_ATTEMPTS,
        claim_token="crash-task:abc",
    )
    process_recording.apply_async((recording.pk,), task_id="crash-task")
    recording = finished(recording)
    assert recording.status == Recording.Status.FAILED
    assert recording.failure_reason == gave_up_reason(settings.RECORDING_MAX_ATTEMPTS)
    assert "gave up after 3 attempts" in recording.failure_reason
