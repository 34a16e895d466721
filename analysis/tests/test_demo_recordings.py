"""The demo's recordings go through the real pipeline and a rerun adds nothing."""

import datetime as dt
from collections import Counter
from types import SimpleNamespace

import pytest

from analysis.demo import ROUNDS, seed_recordings
from analysis.models import ChannelResult
from analysis.pipeline.queue import recordings_wait
from patients.models import MvcCalibration
from sessions.models import Recording

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_demo_sessions_get_analysed_game_rounds_and_calibrations(
    worker, alices_patient, bobs_patient, session_of
):
    sessions = [
        session_of(patient, started_at=dt.datetime(2026, 3, day, 10, tzinfo=dt.UTC))
        for patient in (alices_patient, bobs_patient)
        for day in (2, 4)
    ]
    demo = SimpleNamespace(
        patients=[alices_patient, bobs_patient], sessions=sessions, created=Counter()
    )
    seed_recordings(demo)
    ids = list(Recording.objects.values_list("pk", flat=True))
    statuses = recordings_wait(recording_ids=ids, timeout_s=60, poll_s=0.2)
    assert demo.created["recordings"] == 4 * ROUNDS  # the protocol's rounds for each of 4 sessions
    assert set(statuses.values()) == {"done"}
    # The first patient measured her MVC from a calibration file, the second entered it.
    assert set(
        MvcCalibration.objects.filter(patient=alices_patient).values_list("source", flat=True)
    ) == {"calibration"}
    assert MvcCalibration.objects.filter(patient=alices_patient).exclude(file="").count() == 2
    assert set(
        MvcCalibration.objects.filter(patient=bobs_patient).values_list("source", flat=True)
    ) == {"entered"}
    sources = set(ChannelResult.objects.values_list("mvc_source", flat=True))
    assert sources == {"calibration", "entered"}

    again = SimpleNamespace(patients=demo.patients, sessions=sessions, created=Counter())
    seed_recordings(again)
    assert sum(again.created.values()) == 0
    assert Recording.objects.count() == 4 * ROUNDS
