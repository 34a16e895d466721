"""What a dashboard shows (issue 16, bounded for issue 17): the day's and week's sessions,
the latest, those missing rounds, recordings needing attention, and the adherence figures."""

import datetime as dt

from django import forms
from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from analysis.selectors import session_scores
from clinic.access import Scope, can_see_identity, scope_of
from clinic.models import ClinicSettings, User
from clinic.roles import THERAPIST
from clinic.selectors import dashboard_keys
from clinic.selectors.adherence import ADHERENCE_WINDOW_DAYS, _local_midnight, clinic_adherence
from clinic.selectors.kept_statements import statement_shape
from clinic.widgets import Select
from patients.models import Patient
from patients.selectors import emergency_accesses_to_acknowledge, patient_card
from sessions.models import Recording

DASHBOARD_LIST = 10  # rows of each dashboard list (the counts say how many there are)
DASHBOARD_DAY_LIST = 20  # sessions listed for today and for this week
PATIENT_ADHERENCE_LIST = 25  # a manager's per-patient adherence table (worst first)
# The columns a dashboard's session rows use (their patient card, therapist and score): the
# rest of the three tables (the therapist's password hash and login data, the session's
# notes and protocol fields) is not read.
SESSION_ROW_FIELDS = (
    "started_at",
    "rpe",
    "bfr_pressure_pct_aop",
    "patient__clinic_id",
    "patient__code",
    "patient__first_name",
    "patient__last_name",
    "patient__mrn",
    "patient__date_of_birth",
    "patient__sex",
    "patient__diagnosis",
    "patient__notes",
    "patient__is_active",
    "patient__voided_at",
    "patient__void_reason",
    "therapist__full_name",
    "therapist__email",
)


def _newest_setting(name: str, field: str):
    """The patient's clinic's newest settings value (a correlated subquery) or the default."""
    newest = (
        ClinicSettings.objects.filter(clinic=OuterRef(f"{field}clinic"))
        .order_by("-version")
        .values(name)[:1]
    )
    default = ClinicSettings._meta.get_field(name).default
    return Coalesce(
        f"{field}protocol__{name}", Subquery(newest), Value(default), output_field=IntegerField()
    )


def dashboard_therapists(user):
    """The therapists a clinic-wide dashboard may filter by (the clinic's; superusers: all)."""
    staff = User.objects.filter(groups__name=THERAPIST, is_active=True)
    if not user.is_superuser:
        staff = staff.filter(clinic_id=user.clinic_id)
    return staff.order_by("full_name", "email")


class DashboardFilter(forms.Form):
    """A clinic-wide dashboard's filter: one therapist's patients (an unknown id is an error).

    ``therapists`` (:func:`dashboard_therapists` of the user, already evaluated) fill the
    menu without a second query; a chosen id is still validated against it in SQL."""

    therapist = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="All therapists",
        widget=Select,
    )

    def __init__(self, *args, user, therapists=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["therapist"]
        if therapists is None:
            field.queryset = dashboard_therapists(user)
        else:
            field.queryset = therapists
            field.choices = [("", field.empty_label), *((t.pk, str(t)) for t in therapists)]


def _session_rows(sessions, identity, scores) -> list[dict]:
    return [
        {
            "session": s,
            "patient": patient_card(s.patient, identity=identity),
            "recordings": s.recording_count,
            "planned_rounds": s.planned_rounds,
            "missing_rounds": max(s.planned_rounds - s.recording_count, 0),
            "score": scores.get(s.pk),
        }
        for s in sessions
    ]


def _first(rows, n: int):
    """The first ``n`` of ``rows`` (ordered), chosen by their keys first: the same rows."""
    return rows.filter(pk__in=rows.values("pk")[:n])


def _cards_of(patients, pks, *, identity) -> dict:
    """Patient cards of the rows a dashboard shows (one query, whatever the clinic's size)."""
    if not pks:
        return {}
    return {p.pk: patient_card(p, identity=identity) for p in patients.filter(pk__in=pks)}


def dashboard_for(user, *, recent=DASHBOARD_LIST, params=None, today: dt.date | None = None):
    """Everything a dashboard shows, in a fixed number of queries whatever the clinic's size.

    For everyone: today's and this week's sessions (Monday to Sunday, the clinic's local days),
    the latest sessions with their score, sessions of the last four weeks with fewer recordings
    than the protocol's rounds, patients behind plan (fewer sessions in the last four weeks
    than their protocol expects there), recordings needing attention (failed, or stuck as the
    pipeline's sweeper sees it: ``Recording.objects.stuck``), and for managers the emergency
    accesses of the clinic not yet acknowledged. Those who see the whole clinic (managers,
    researchers, superusers) also get adherence per therapist and per patient, and may filter
    everything by therapist (``params["therapist"]``).

    Every list is capped; its count says how many there are. Patients come as cards
    (patients.selectors) so researchers see codes only.
    """
    today = today or timezone.localdate()
    identity = can_see_identity(user)
    clinic_wide = scope_of(user) in (Scope.CLINIC, Scope.ALL)
    therapist_filter = None
    chosen = None
    staff = []
    if clinic_wide:
        staff = dashboard_therapists(user)
        list(staff)  # the menu and the adherence rows: one query, its rows kept on the queryset
        therapist_filter = DashboardFilter(params or None, user=user, therapists=staff)
        if therapist_filter.is_valid():
            chosen = therapist_filter.cleaned_data["therapist"]
    patients = Patient.objects.visible_to(user).active().filter(is_active=True)
    if chosen is not None:
        patients = patients.filter(therapists=chosen)
    recordings_of = (
        Recording.objects.filter(session=OuterRef("pk"), voided_at__isnull=True)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    sessions = (
        dashboard_keys.live_sessions(user, chosen)
        .select_related("patient", "therapist")
        .only(*SESSION_ROW_FIELDS)
        .annotate(
            recording_count=Coalesce(Subquery(recordings_of), 0),
            planned_rounds=_newest_setting("rounds_per_session", "patient__"),
        )
        .order_by("-started_at", "-pk")
    )
    shape = statement_shape(user, chosen)
    week_start = today - dt.timedelta(days=today.weekday())
    tomorrow = _local_midnight(today + dt.timedelta(days=1))
    week_end = _local_midnight(week_start + dt.timedelta(days=7))
    week_from = _local_midnight(week_start)
    since = _local_midnight(today - dt.timedelta(days=ADHERENCE_WINDOW_DAYS - 1))
    # today is inside this week: the counts in one query, with the sessions after this week
    # (none, but for sessions planned ahead: then the latest are not this week's first)
    week_counts = dashboard_keys.week_counts(
        user,
        chosen,
        shape,
        week_start=week_from,
        week_end=week_end,
        today=_local_midnight(today),
        tomorrow=tomorrow,
    )
    recordings = Recording.objects.visible_to(user).filter(
        voided_at__isnull=True,
        session__voided_at__isnull=True,
        session__patient__voided_at__isnull=True,
    )
    if chosen is not None:
        recordings = recordings.filter(session__patient__therapists=chosen)
    attention = (
        recordings.needing_attention().select_related("session__patient").order_by("-created_at")
    )
    # (SQLite takes no LIMIT in a UNION's parts: there, each list is read on its own)
    if clinic_wide and connection.features.supports_slicing_ordering_in_compound:
        # This week's first rows and the missing rounds of a whole clinic in one query: their
        # keys first (two narrow top-Ns: PostgreSQL otherwise joins every patient of the
        # clinic to every session of the window before it keeps the first few), then only
        # those rows, joined and annotated, in their order. The week's are the first of them
        # in the week (each key of the other list there comes after them); those missing
        # rounds the first ones of the four weeks with fewer recordings than rounds (the
        # keys' condition, on the same annotations: none of the week's rows comes before
        # one of the keys without being one).
        keys = dashboard_keys.row_keys(
            user,
            chosen,
            shape,
            week_limit=DASHBOARD_DAY_LIST,
            recent=recent,
            recordings_of=recordings_of,
            week_start=week_from,
            week_end=week_end,
            since=since,
            tomorrow=tomorrow,
        )
        rows = [] if keys is None else list(sessions.filter(pk__in=RawSQL(*keys)))  # noqa: S611 - compiled by the ORM
        week_rows = [s for s in rows if week_from <= s.started_at < week_end][:DASHBOARD_DAY_LIST]
        missing_rows = [
            s
            for s in rows
            if since <= s.started_at < tomorrow and s.recording_count < s.planned_rounds
        ][: recent + 1]  # one more says "more": no COUNT of them all
    else:
        this_week = sessions.filter(started_at__gte=week_from, started_at__lt=week_end)
        week_rows = list(this_week[:DASHBOARD_DAY_LIST])
        if clinic_wide:
            keys = dashboard_keys.missing_keys(
                user, chosen, since=since, until=tomorrow, recordings_of=recordings_of
            )
            missing_rows = list(sessions.filter(pk__in=keys[: recent + 1]))
        else:
            missing = sessions.filter(
                started_at__gte=since,
                started_at__lt=tomorrow,
                recording_count__lt=F("planned_rounds"),
            )
            missing_rows = list(missing[: recent + 1])
    # Today's sessions are this week's after the ``later`` ones (same order): taken from the
    # week's rows when they all fit there (no session planned later this week: always),
    # otherwise queried.
    later, shown_today = week_counts["later"], min(week_counts["today"], DASHBOARD_DAY_LIST)
    if later + shown_today <= DASHBOARD_DAY_LIST:
        todays_rows = week_rows[later : later + shown_today]
    else:
        todays = sessions.filter(started_at__gte=_local_midnight(today), started_at__lt=tomorrow)
        todays_rows = list(todays[:DASHBOARD_DAY_LIST])
    # The latest sessions are this week's first ones (same order) when none comes after this
    # week and the week's rows hold enough of them: taken from there, otherwise queried.
    # Queried, the latest of a therapist's patients: the rows' keys first (a narrow top-N),
    # then only those rows joined and annotated, in one query (PostgreSQL otherwise joins
    # every session of the therapist's patients before it keeps the first few).
    if week_counts["beyond"] == 0 and recent <= len(week_rows) == min(
        week_counts["week"], DASHBOARD_DAY_LIST
    ):
        recent_rows = week_rows[:recent]
    else:
        recent_rows = list(sessions[:recent] if clinic_wide else _first(sessions, recent))
    scores = session_scores({s.pk: s for s in (*todays_rows, *week_rows, *recent_rows)}.values())

    rows, planned, behind_count, therapists, patient_count = clinic_adherence(
        user,
        patients,
        chosen=chosen,
        today=today,
        days=ADHERENCE_WINDOW_DAYS,
        limit=max(recent, PATIENT_ADHERENCE_LIST) if clinic_wide else recent,
        per_therapist=clinic_wide,
    )
    # lowest ratio first: those behind plan (ratio below 1) come first
    behind = [row for row in rows if row["done"] < row["expected"]][:recent]
    per_patient = rows[:PATIENT_ADHERENCE_LIST] if clinic_wide else []
    by_therapist = _adherence_by_therapist(staff, therapists, chosen) if clinic_wide else []
    cards = _cards_of(patients, {row["pk"] for row in (*behind, *per_patient)}, identity=identity)
    emergency = emergency_accesses_to_acknowledge(user)
    return {
        "emergency": [
            {"grant": g, "patient": patient_card(g.patient, identity=identity)}
            for g in emergency[:50]
        ],
        "patients": [patient_card(p, identity=identity) for p in patients.order_by("code")[:50]],
        "patient_count": patient_count,
        "today": today,
        "week_start": week_start,
        "todays_sessions": _session_rows(todays_rows, identity, scores),
        "todays_count": week_counts["today"],
        "week_sessions": _session_rows(week_rows, identity, scores),
        "week_count": week_counts["week"],
        "recent_sessions": _session_rows(recent_rows, identity, scores),
        "missing_rounds": _session_rows(missing_rows[:recent], identity, {}),
        "missing_more": len(missing_rows) > recent,
        "behind": [{**row, "patient": cards[row["pk"]]} for row in behind],
        "behind_count": behind_count,
        "adherence_days": ADHERENCE_WINDOW_DAYS,
        "clinic_wide": clinic_wide,
        "therapist_filter": therapist_filter,
        "therapist": chosen,
        "adherence_by_therapist": by_therapist,
        "adherence_by_patient": [{**row, "patient": cards[row["pk"]]} for row in per_patient],
        "adherence_patient_count": planned,
        "attention": [
            {"recording": r, "patient": patient_card(r.session.patient, identity=identity)}
            for r in attention[:recent]
        ],
    }


def _adherence_by_therapist(staff, therapists: dict, chosen) -> list[dict]:
    """Sessions done and expected (last four weeks) over each therapist's active patients,
    from the per-therapist sums of :func:`_adherence`; every therapist of the filter
    (``staff``: :func:`dashboard_therapists`, loaded) is listed, those without active patients
    with zeros."""
    if chosen is not None:
        staff = [therapist for therapist in staff if therapist.pk == chosen.pk]
    rows = []
    for therapist in staff:
        patients, done, expected = therapists.get(therapist.pk, (0, 0, 0))
        rows.append(
            {
                "therapist": therapist,
                "patients": patients,
                "done": done,
                "expected": expected,
                "ratio": (done / expected) if expected else None,
            }
        )
    return rows
