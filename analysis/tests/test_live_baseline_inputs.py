"""The live analysis's baseline comes from the patient's last analysed recordings: per
channel label, the noise floor and burst level of the newest of the last 20 current
analyses that has it. Only the newest document is read when it has every channel."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.models import RecordingAnalysis
from analysis.pipeline import live
from analysis.pipeline.store import analysis_save
from analysis.tests.support import make_recording

pytestmark = pytest.mark.django_db


def analysed_with(session, name, channels):
    """A recording whose current analysis has these channels ({label: (noise, activity)})."""
    document = {
        "version": "test-1",
        "channels": [
            {"label": label, "noise": noise, "activity_level": activity, "contractions": []}
            for label, (noise, activity) in channels.items()
        ],
    }
    analysis_save(
        recording=make_recording(session, name),
        document=document,
        parameters={"scoring": {"target_pct_mvc": 75.0}},
        trigger="upload",
        timings={},
    )


def reference(session, labels):
    """The rule read plainly: every one of the last 20 documents, newest first."""
    noise, activity = {}, {}
    documents = (
        RecordingAnalysis.objects.filter(
            recording__session__patient=session.patient, is_current=True
        )
        .order_by("-created_at", "-pk")
        .values_list("document", flat=True)
    )
    for document in documents[:20]:
        for ch in document["channels"]:
            label = ch["label"]
            if label in labels and label not in noise and (ch["noise"] or 0) > 0:
                noise[label] = float(ch["noise"])
                if ch["activity_level"] is not None:
                    activity[label] = float(ch["activity_level"])
    return noise, activity


def test_the_newest_analysis_with_a_channel_gives_its_baseline(alices_patient, session_of):
    session = session_of(alices_patient)
    analysed_with(session, "old.c3d", {"A": (3e-6, 9e-6), "B": (4e-6, None), "C": (5e-6, 1e-5)})
    analysed_with(session, "mid.c3d", {"A": (2e-6, 8e-6), "C": (0.0, 2e-5)})  # C: no noise
    analysed_with(session, "new.c3d", {"A": (1e-6, 7e-6), "D": (6e-6, 3e-5)})
    labels = ["A", "B", "C", "E"]
    inputs = live.live_inputs(session, labels)
    assert inputs.noise == {"A": 1e-6, "B": 4e-6, "C": 5e-6}
    assert inputs.activity == {"A": 7e-6, "C": 1e-5}
    assert (inputs.noise, inputs.activity) == reference(session, labels)


def test_only_the_last_20_analyses_count(alices_patient, session_of):
    session = session_of(alices_patient)
    analysed_with(session, "oldest.c3d", {"B": (9e-6, 9e-5)})  # 21st from the newest
    for k in range(20):
        analysed_with(session, f"r{k}.c3d", {"A": (float(f"{k + 1}e-6"), None)})
    inputs = live.live_inputs(session, ["A", "B"])
    assert inputs.noise == {"A": 2e-5}
    assert inputs.activity == {}
    assert (inputs.noise, inputs.activity) == reference(session, ["A", "B"])


def test_a_newest_document_with_every_channel_is_the_only_one_read(alices_patient, session_of):
    session = session_of(alices_patient)
    for k in range(5):
        analysed_with(session, f"r{k}.c3d", {"A": (float(f"{k + 1}e-6"), 2e-6), "B": (3e-6, None)})
    with CaptureQueriesContext(connection) as queries:
        inputs = live.live_inputs(session, ["A", "B"])
    assert inputs.noise == {"A": 5e-6, "B": 3e-6}
    assert inputs.activity == {"A": 2e-6}
    reads = [q["sql"] for q in queries.captured_queries if '"document"' in q["sql"]]
    assert len(reads) == 1
    assert "LIMIT 1" in reads[0]
