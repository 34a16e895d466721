"""The session report is rendered into the cache when the session's last recording is analysed,
so the first click is a cache hit (reports.tasks.prerender_session_report)."""

import json
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from analysis.tests.support import analysed, embedded_worker, make_recording, wait_for
from reports import services, tasks
from reports.selectors import IDENTIFIED, PSEUDONYMISED

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(session_of, alices_patient):
    session = session_of(alices_patient, rpe=5)
    analysed(session, "Agatha_round1.c3d", overall=81.0)
    return session


def test_the_task_renders_the_report_into_the_cache(session, alice, rita):
    assert tasks.prerender_session_report(session.pk) == "rendered"
    report = services.session_report_pdf(alice, session)
    assert report.cached
    assert tasks.prerender_session_report(session.pk) == "cached"
    # Only the identified variant is rendered ahead; a researcher's first one is rendered then.
    assert not services.session_report_pdf(rita, session).cached
    assert services.variant_for(rita) == PSEUDONYMISED


def test_it_waits_while_a_recording_of_the_session_is_not_analysed(session, alice):
    pending = make_recording(session, "round2.c3d", status="pending")
    assert tasks.prerender_session_report(session.pk) == "waiting"
    assert not services.session_report_pdf(alice, session).cached
    pending.status = "failed"
    pending.save()
    assert tasks.prerender_session_report(session.pk) == "rendered"


def test_a_voided_or_missing_session_is_left_alone(session, alice):
    assert tasks.prerender_session_report(10**9) == "gone"
    session.void(by=alice, reason="wrong patient")
    assert tasks.prerender_session_report(session.pk) == "gone"


def test_a_recording_saved_done_sends_the_task_after_the_commit(
    session_of, alices_patient, django_capture_on_commit_callbacks
):
    session = session_of(alices_patient)
    with django_capture_on_commit_callbacks() as callbacks:
        analysed(session, "round1.c3d", overall=70.0)
    sends = [c for c in callbacks if getattr(c, "func", None) is tasks.prerender_enqueue]
    assert [c.args for c in sends] == [(session.pk,)]
    with django_capture_on_commit_callbacks() as callbacks:
        make_recording(session, "round2.c3d", status="pending")
    assert not [c for c in callbacks if getattr(c, "func", None) is tasks.prerender_enqueue]


def test_it_can_be_turned_off(
    session_of, alices_patient, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_PRERENDER = False
    session = session_of(alices_patient)
    with django_capture_on_commit_callbacks() as callbacks:
        analysed(session, "round1.c3d", overall=70.0)
    assert not [c for c in callbacks if getattr(c, "func", None) is tasks.prerender_enqueue]


def test_it_is_queued_apart_from_the_analyses_and_expires(session, broker, settings):
    queue = settings.REPORT_PRERENDER_QUEUE
    broker.delete(queue)
    assert tasks.prerender_enqueue(session.pk)
    assert broker.llen("celery") == 0  # analyses' queue: a cache never waits in front of them
    message = json.loads(broker.lpop(queue))
    assert message["headers"]["task"] == tasks.PRERENDER_SESSION_REPORT
    expires = datetime.fromisoformat(message["headers"]["expires"])
    left = (expires - datetime.now(UTC)).total_seconds()
    assert settings.REPORT_PRERENDER_EXPIRES - 60 < left <= settings.REPORT_PRERENDER_EXPIRES


@pytest.mark.django_db(transaction=True)
def test_a_worker_of_the_prerender_queue_renders_it(
    session_of, alices_patient, alice, broker, settings
):
    session = session_of(alices_patient)
    analysed(session, "Agatha_round1.c3d", overall=81.0)
    key = services.session_cache_key(session, variant=IDENTIFIED)
    assert cache.get(key) is None
    with embedded_worker(queues=[settings.REPORT_PRERENDER_QUEUE]):  # on emptied queues
        assert tasks.prerender_enqueue(session.pk)
        wait_for(lambda: cache.get(key), timeout=60, what="the pre-rendered report")
    assert services.session_report_pdf(alice, session).cached
