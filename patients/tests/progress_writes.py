"""Every kind of write the progress page's weekly trend figures depend on, each checked
against the figures computed afresh after the patient's figures were kept in the cache under
its ``ProgressVersion`` (issue 17).

Used by ``test_progress_trends_kept.py`` on PostgreSQL and, in a subprocess, on SQLite (the
embedded demo's database): importable without pytest fixtures.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test import override_settings
from django.utils import timezone

from analysis.models import ChannelResult, ProgressVersion, RecordingAnalysis
from analysis.tests.support import analysed
from clinic.models import Clinic
from patients.models import Patient
from patients.progress import CHART_MAX_POINTS, progress_charts, progress_table, session_span
from sessions.models import Recording, TherapySession

WEEKS = 36  # two sessions a week: past a chart's worth, drawn per week


def build_patient(code="TREND1", clinic=None):
    """A patient of ``clinic`` (else a new clinic) with two sessions a week for ``WEEKS``
    weeks, the last four analysed (two weeks with scores and channel results), and another
    patient of the clinic."""
    clinic = clinic or Clinic.objects.create(name=f"Trends {code}", code=f"T{code}")
    patients = [
        Patient.objects.create(
            clinic=clinic,
            code=f"{code}{suffix}",
            first_name="Trend",
            last_name=suffix,
            mrn=f"MRN-{code}{suffix}",
            date_of_birth=dt.date(1970, 1, 1),
            sex="F",
        )
        for suffix in ("A", "B")
    ]
    start = timezone.now() - dt.timedelta(weeks=WEEKS)
    sessions = TherapySession.objects.bulk_create(
        TherapySession(
            patient=patients[0], started_at=start + dt.timedelta(weeks=w, days=3 * d), rpe=3 + d
        )
        for w in range(WEEKS)
        for d in range(2)
    )
    for session in sessions[-4:]:
        analysed(session, f"trend{session.pk}.c3d")
    return patients[0], patients[1]


def version_of(patient):
    return ProgressVersion.objects.filter(patient=patient).values_list("version", flat=True).first()


def _figures(patient, span):
    """The weekly points, their drawings and the first two pages of the scored table."""
    charts = progress_charts(patient, span=span)
    pages = [
        list(progress_table(patient, number, span=span, chart=charts).object_list)
        for number in (1, 2)
    ]
    drawings = [str(chart) for chart in charts["charts"]]
    return charts["chart_unit"], charts["chart_points"], drawings, pages


def kept_and_fresh(patient):
    """The page's trend figures and table rows as kept (read from the cache, or computed and
    kept) and as computed afresh (no cache), from the same aggregate the page reads."""
    span = session_span(patient, with_version=True)
    assert span["n"] > CHART_MAX_POINTS
    assert span["version"] is not None
    kept = _figures(patient, span)
    with override_settings(CHART_CACHE_SECONDS=0):
        fresh = _figures(patient, span)
    return kept, fresh


def writes(patient, other):
    """(name, write) pairs: every kind of write to what the weekly figures are computed from."""

    def latest(n=1):
        """The patient's ``n`` newest sessions (a queryset that can be updated)."""
        newest = TherapySession.objects.filter(patient=patient).order_by("-started_at")
        return TherapySession.objects.filter(pk__in=list(newest.values_list("pk", flat=True)[:n]))

    def new_session():
        TherapySession.objects.create(patient=patient, started_at=timezone.now(), rpe=9)

    def bulk_sessions():
        TherapySession.objects.bulk_create(
            TherapySession(patient=patient, started_at=timezone.now() - dt.timedelta(days=d))
            for d in (1, 2)
        )

    def recordings():
        return Recording.objects.filter(session__patient=patient, voided_at__isnull=True)

    def analyses():
        return RecordingAnalysis.objects.filter(
            recording__session__patient=patient, recording__voided_at__isnull=True, is_current=True
        )

    def channels():
        return ChannelResult.objects.filter(analysis__in=analyses().values("pk"))

    def move_recording():
        first = TherapySession.objects.filter(patient=patient).order_by("started_at")[3]
        Recording.objects.filter(pk=recordings()[0].pk).update(session=first)

    def no_longer_current():
        analyses().filter(pk__in=analyses().values("pk")[:1]).update(is_current=False)

    def new_analysis():
        session = TherapySession.objects.filter(patient=patient).order_by("started_at")[5]
        analysed(session, "late.c3d")

    return [
        ("a new session", new_session),
        ("sessions inserted in bulk", bulk_sessions),
        ("a session's RPE", lambda: latest().update(rpe=10)),
        (
            "a session's BFR pressure",
            lambda: TherapySession.objects.filter(pk__in=recordings().values("session_id")).update(
                bfr_pressure_pct_aop=Decimal("95.0")
            ),
        ),
        (
            "a session moved",
            lambda: latest().update(started_at=F("started_at") - dt.timedelta(weeks=9)),
        ),
        ("a session voided", lambda: latest().update(voided_at=timezone.now())),
        (
            "a session unvoided",
            lambda: TherapySession.objects.filter(patient=patient).update(voided_at=None),
        ),
        ("a session to another patient", lambda: latest().update(patient=other)),
        (
            "a session back from another patient",
            lambda: TherapySession.objects.filter(patient=other).update(patient=patient),
        ),
        (
            "a session deleted",
            lambda: (
                TherapySession.objects.filter(patient=patient)
                .order_by("started_at")[:1]
                .get()
                .delete()
            ),
        ),
        ("a new analysis", new_analysis),
        (
            "a recording voided",
            lambda: Recording.objects.filter(pk=recordings()[0].pk).update(
                voided_at=timezone.now()
            ),
        ),
        ("a recording moved", move_recording),
        (
            "an analysis rescored",
            lambda: analyses().update(score_overall=F("score_overall") / 2, score_symmetry=12.5),
        ),
        ("an analysis no longer current", no_longer_current),
        (
            "an analysis's other scores",
            lambda: analyses().update(score_compliance=33.5, score_game=44.5),
        ),
        ("an analysis's parameters", lambda: analyses().update(parameters={})),
        ("a channel's compliance", lambda: channels().update(compliance=12.5)),
        ("a channel's MDF slope", lambda: channels().update(mdf_slope_pct_per_min=-7.25)),
        ("a channel's muscle", lambda: channels().update(muscle="soleus")),
        (
            "a channel's side and label",
            lambda: channels().update(side="", label=Concat("label", Value(" X"))),
        ),
        ("channel results deleted", lambda: channels().filter(muscle="soleus").delete()),
        ("analyses deleted", lambda: analyses().delete()),
    ]


def check_every_write(patient, other) -> int:
    """Keep the figures, make each write, and check that the patient has a new version and
    that the kept figures are those computed afresh; the number of writes checked."""
    kept, fresh = kept_and_fresh(patient)
    assert kept == fresh
    checked = 0
    for name, write in writes(patient, other):
        version = version_of(patient)
        write()
        assert version_of(patient) != version, f"{name}: the patient kept its version"
        kept, fresh = kept_and_fresh(patient)
        assert kept == fresh, f"{name}: stale figures kept"
        assert kept_and_fresh(patient)[0] == fresh, name  # read back
        checked += 1
    return checked


def check_writes_not_read(patient) -> None:
    """Writes to what the figures do not read (a session's notes, a recording's attempts, the
    patient's name) keep
    the patient's version: the kept figures stay in use."""
    version = version_of(patient)
    TherapySession.objects.filter(patient=patient).update(notes="unrelated")
    Recording.objects.filter(session__patient=patient).update(attempts=F("attempts") + 1)
    Patient.objects.filter(pk=patient.pk).update(first_name="Renamed")
    assert version_of(patient) == version
