"""Live alerts (issue 15) in the session report: per live recording, a table of the alerts the
live analysis raised and stored with it (type, severity, time, channel, acknowledged by/when)."""

from datetime import UTC, datetime

import numpy as np
import pytest
from django.utils import timezone

from analysis.core.live_protocol import Hello
from analysis.pipeline.live_analysis import LiveAnalysis
from analysis.tests.support import analysed, live_inputs
from reports import services
from reports.session_report import recording_alerts
from reports.tests.support import attached_json, pdf_text, pdfa_problems, write_pngs

pytestmark = pytest.mark.django_db

RATE = 990.0


def live_alerts() -> list[dict]:
    """What the live path stores: a stream with a flat stretch (electrode off) and mains hum,
    run through the live analysis frame by frame; the therapist acknowledged the first alert."""
    rng = np.random.default_rng(0)
    quiet = rng.standard_normal(int(2 * RATE)) * 1e-5
    t = np.arange(int(3 * RATE)) / RATE
    hum = rng.standard_normal(t.size) * 1e-5 + 2e-4 * np.sin(2 * np.pi * 50 * t)
    x = np.concatenate([quiet, np.zeros(int(RATE)), quiet, hum]).astype("<f4").reshape(-1, 1)
    inputs = live_inputs()
    analysis = LiveAnalysis(Hello(("CH1 Raw",), RATE, ("V",)), inputs)
    for k in range(0, x.shape[0], 50):
        analysis.frame(k // 50, k, x[k : k + 50])
    analysis.finish(0, x.shape[0])
    first = analysis.alerts[0]
    analysis.acknowledge(first["id"], "Alice Therapist", "2026-11-30T10:00:05+00:00")
    return analysis.alerts


def test_a_live_recording_prints_its_alerts(session_of, alices_patient, alice):
    alerts = live_alerts()
    kinds = {a["type"] for a in alerts}
    assert {"signal_lost", "mains_hum"} <= kinds
    session = session_of(alices_patient, rpe=5)
    recording = analysed(session, "live-1.c3d", overall=70.0)
    recording.source = "live"
    recording.interrupted = True
    recording.live_alerts = alerts
    recording.save()
    uploaded = analysed(session, "round2.c3d", overall=80.0)

    rows = recording_alerts(recording)
    assert [r["t_s"] for r in rows] == sorted(a["t"] for a in alerts)
    assert rows[0]["acknowledged_by"] == "Alice Therapist"
    assert rows[0]["acknowledged_at"] == datetime(2026, 11, 30, 10, 0, 5, tzinfo=UTC)

    pdf = services.session_report_pdf(alice, session, use_cache=False).pdf
    write_pngs(pdf, "session-report-live-alerts")
    assert pdfa_problems(pdf) == []
    text = " ".join(pdf_text(pdf).split())  # table cells wrap: compare words, not lines
    assert "Live alerts · stream interrupted (partial recording)" in text
    assert text.count("Live alerts") == 1  # the uploaded round has no alert table
    assert "Electrode off / signal lost" in text
    assert "Mains hum" in text
    assert "CH1 Raw: flat signal (electrode off or signal lost)" in text
    acknowledged = timezone.localtime(rows[0]["acknowledged_at"]).strftime("%Y-%m-%d %H:%M")
    assert f"Alice Therapist, {acknowledged}" in text
    assert text.count("not acknowledged") == len(alerts) - 1
    # The archive's JSON keeps them as stored.
    data = attached_json(pdf, "session-results.json")
    by_id = {r["id"]: r for r in data["recordings"]}
    assert by_id[recording.pk]["live_alerts"] == alerts
    assert by_id[uploaded.pk]["live_alerts"] == []


def test_a_live_recording_without_alerts_says_so_and_bad_entries_are_skipped(
    session_of, alices_patient, alice
):
    session = session_of(alices_patient)
    recording = analysed(session, "live-1.c3d", overall=70.0)
    recording.source = "live"
    recording.live_alerts = ["not an alert", {"type": "saturation", "t": "x"}]
    recording.save()
    rows = recording_alerts(recording)
    assert [(r["type"], r["t_s"]) for r in rows] == [("Saturation", None)]
    recording.live_alerts = []
    recording.save()
    text = pdf_text(services.session_report_pdf(alice, session, use_cache=False).pdf)
    assert "No alert was raised during this live recording." in text
