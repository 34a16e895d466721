"""Re-analysis: finished recordings are queued again; current results stay until replaced."""

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from analysis.models import RecordingAnalysis
from analysis.pipeline.queue import session_reanalyse
from analysis.tests.support import analysed, make_recording
from sessions.models import Recording


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient)


def test_it_queues_finished_recordings_and_keeps_their_results_meanwhile(
    broker, session, alice, django_capture_on_commit_callbacks
):
    done = analysed(session, "done.c3d")
    failed = make_recording(
        session, "failed.c3d", status="failed", failure_reason="bad", attempts=3
    )
    pending = make_recording(session, "pending.c3d")
    with django_capture_on_commit_callbacks(execute=True):
        queued = session_reanalyse(session=session, user=alice)
    assert queued == [done.pk, failed.pk]
    assert broker.llen("celery") == 2
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.failure_reason) == ("pending", 0, "")
    # The old results stay current until the new analysis replaces them.
    assert RecordingAnalysis.objects.filter(recording=done, is_current=True).exists()
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_only_staff_who_may_change_recordings_in_scope_can_reanalyse(session, bob, rita, dave):
    for user in (bob, rita, dave):
        with pytest.raises(PermissionDenied):
            session_reanalyse(session=session, user=user)


def test_a_voided_session_is_not_reanalysed(session, carol):
    session.void(by=carol, reason="wrong patient")
    with pytest.raises(ValidationError, match="voided"):
        session_reanalyse(session=session, user=carol)


def test_the_command_reanalyses_a_patients_sessions(
    broker, session, session_of, alices_patient, bobs_patient, django_capture_on_commit_callbacks
):
    analysed(session, "a.c3d")
    analysed(session_of(alices_patient), "b.c3d")
    other = analysed(session_of(bobs_patient), "c.c3d")
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reanalyse", "--patient", "P001", stdout=out, stderr=StringIO())
    assert "queued 2 recording(s) from 2 session(s)" in out.getvalue()
    assert broker.llen("celery") == 2
    assert Recording.objects.get(pk=other.pk).status == "done"


def test_the_command_refuses_unknown_sessions(db):
    with pytest.raises(CommandError, match="no active session with id 424242"):
        call_command("reanalyse", "--session", "424242", stderr=StringIO())
