"""Read-only queries for clinic pages."""

import datetime as dt
import sqlite3

import django_filters
from django import forms
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe

from analysis.grading import standard_weights, weights_text
from analysis.selectors import session_scores
from clinic.access import Scope, can_see_identity, scope_of
from clinic.audit import entry_ids_for_patients, report_rows
from clinic.models import ApiToken, AuditEntry, Clinic, ClinicSettings, User
from clinic.roles import THERAPIST
from patients.models import Patient
from patients.selectors import emergency_accesses_to_acknowledge, patient_card
from sessions.models import FirstSession, Recording, TherapySession

DASHBOARD_LIST = 10  # rows of each dashboard list (the counts say how many there are)
DASHBOARD_DAY_LIST = 20  # sessions listed for today and for this week
ADHERENCE_WINDOW_DAYS = 28  # "behind plan" and the per-therapist figures look at 4 weeks
PATIENT_ADHERENCE_LIST = 25  # a manager's per-patient adherence table (worst first)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


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


def window_expected(*, start, spw: int, weeks: int, today: dt.date, days: int) -> int:
    """Sessions the plan expects within the last ``days`` days up to ``today``: the part of the
    window inside the programme (from ``start`` for ``weeks`` weeks), at ``spw`` a week (the
    rounding of ``EffectiveProtocol.expected_sessions_by``)."""
    if start is None:
        return 0
    first = max(start, today - dt.timedelta(days=days - 1))
    last = min(today, start + dt.timedelta(days=weeks * 7 - 1))
    if last < first:
        return 0
    return (((last - first).days + 1) * spw + 6) // 7


def dashboard_therapists(user):
    """The therapists a clinic-wide dashboard may filter by (the clinic's; superusers: all)."""
    staff = User.objects.filter(groups__name=THERAPIST, is_active=True)
    if not user.is_superuser:
        staff = staff.filter(clinic_id=user.clinic_id)
    return staff.order_by("full_name", "email")


def _attrs_html(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html`` in Python (the same bytes)."""
    return "".join(
        f" {conditional_escape(name)}" + ("" if value is True else f'="{_as_text(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


def _as_text(value) -> str:
    """``{{ value|stringformat:'s' }}``: autoescaped unless already safe."""
    return conditional_escape(value) if isinstance(value, SafeData) else escape(str(value))


class FlatSelect(forms.Select):
    """Django's ``Select`` with its templates (select.html, one select_option.html and
    attrs.html include per option) written out in Python: the same HTML byte for byte, for a
    menu of every therapist of a clinic drawn on each dashboard. Option groups fall back to
    the templates."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = widget["optgroups"]
        if any(group_name for group_name, _, _ in groups):
            return super().render(name, value, attrs, renderer)
        options = "".join(
            f'\n  <option value="{_as_text(option["value"])}"{_attrs_html(option["attrs"])}>'
            f"{conditional_escape(option['label'])}</option>\n"
            for _, choices, _ in groups
            for option in choices
        )
        return mark_safe(  # noqa: S308 - every part above is escaped
            f'<select name="{conditional_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>'
            f"{options}\n</select>"
        )


class DashboardFilter(forms.Form):
    """A clinic-wide dashboard's filter: one therapist's patients (an unknown id is an error).

    ``therapists`` (:func:`dashboard_therapists` of the user, already evaluated) fill the
    menu without a second query; a chosen id is still validated against it in SQL."""

    therapist = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="All therapists",
        widget=FlatSelect,
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


class DayNumber(Func):
    """A date as a whole number of days (since 1970-01-01): SQL then adds, subtracts and
    compares days with integer arithmetic, the same on PostgreSQL and SQLite."""

    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "(%(expressions)s - DATE '1970-01-01')"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)


def _clinic_default(index: int, defaults: dict):
    """The patient's clinic's default (``_protocol_defaults``) as a CASE on its clinic: the
    few clinics' values go into the SQL, not a settings subquery per patient."""
    fallback = Value(defaults[None][index])
    whens = [
        When(clinic_id=clinic_id, then=Value(values[index]))
        for clinic_id, values in defaults.items()
        if clinic_id is not None
    ]
    return Case(*whens, default=fallback, output_field=IntegerField()) if whens else fallback


def _plan_inputs(patients, *, today, days):
    """One row per patient of ``patients``: (pk, programme start as a day number, sessions per
    week, programme weeks, sessions done in the last ``days`` days up to ``today``), as SQL.

    The start here is ``treatment_start`` (else NULL: :func:`_adherence` takes the local day of
    the first live session from ``FirstSession``, which the database keeps); sessions per week
    and programme weeks come from the patient's protocol, else the clinic's newest settings,
    else the model defaults. The sessions done are counted once for all patients from the
    window's sessions (one range of the ``started_at`` index, joined by patient): no probe
    patient by patient."""
    since = _local_midnight(today - dt.timedelta(days=days - 1))
    until = _local_midnight(today + dt.timedelta(days=1))
    recent = (
        TherapySession.objects.filter(
            voided_at__isnull=True, started_at__gte=since, started_at__lt=until
        )
        .order_by()
        .values("patient")
        .annotate(n=Count("pk"))
        .values_list("patient", "n")
    )
    defaults = _protocol_defaults()
    rows = (
        patients.annotate(
            adh_start=DayNumber("treatment_start"),
            adh_spw=Coalesce(
                "protocol__sessions_per_week",
                _clinic_default(0, defaults),
                output_field=IntegerField(),
            ),
            adh_weeks=Coalesce(
                "protocol__programme_weeks",
                _clinic_default(1, defaults),
                output_field=IntegerField(),
            ),
        )
        .order_by()
        .values_list("pk", "adh_start", "adh_spw", "adh_weeks")
    )
    inputs, params = rows.query.sql_with_params()
    counted, counted_params = recent.query.sql_with_params()
    return inputs, counted, (*params, *counted_params)


# Adherence per patient from the rows of :func:`_plan_inputs` ("i": the patients, "w": the
# window's sessions counted per patient, "f": the first live session of each patient; the CTE
# "p", materialized so each patient's start is converted once): the window's days inside the
# programme at ``spw`` a week, rounded up as :func:`window_expected` does. Plain SQL, the same
# on PostgreSQL and SQLite.
_ADHERENCE_SQL = """
WITH i (pk, start, spw, weeks) AS (%(inputs)s),
w (pk, n) AS (%(counted)s),
p (pk, start, spw, weeks, done) AS %(materialized)s (
    SELECT i.pk, COALESCE(i.start, %(first_day)s), i.spw, i.weeks, COALESCE(w.n, 0)
    FROM i LEFT JOIN w ON w.pk = i.pk LEFT JOIN %(first)s f ON f.patient_id = i.pk
),
d AS (
    SELECT pk, done, spw, start,
        CASE WHEN start > %s THEN start ELSE %s END AS first_day,
        CASE WHEN start + 7 * weeks - 1 < %s THEN start + 7 * weeks - 1 ELSE %s END AS last_day
    FROM p
),
a AS (
    SELECT pk, done,
        CASE WHEN start IS NULL OR last_day < first_day THEN 0
            ELSE ((last_day - first_day + 1) * spw + 6) / 7 END AS expected
    FROM d
)
"""

# The rows a dashboard shows (lowest adherence first), each with how many patients have
# sessions planned and how many of them are behind plan (window counts over every row).
_ADHERENCE_ROWS_SQL = """
SELECT pk, done, expected, COUNT(*) OVER (),
    SUM(CASE WHEN done < expected THEN 1 ELSE 0 END) OVER ()
FROM a WHERE expected > 0
ORDER BY CAST(done AS DOUBLE PRECISION) / expected, pk
LIMIT %s
"""

# Per therapist: active patients, sessions done and planned over their assigned patients.
_ADHERENCE_THERAPISTS_SQL = """
SELECT t.{user}, COUNT(*), SUM(a.done), SUM(a.expected), 0
FROM {through} t INNER JOIN a ON a.pk = t.{patient}
GROUP BY t.{user}
"""


def _first_day_sql(column: str) -> tuple[str, tuple]:
    """SQL of the local day (in the current time zone, as ``TruncDate``) of a datetime column,
    as a day number (:class:`DayNumber`)."""
    day, params = connection.ops.datetime_cast_date_sql(
        column, (), timezone.get_current_timezone_name()
    )
    if connection.vendor == "sqlite":
        return f"CAST(julianday({day}) - 2440587.5 AS INTEGER)", tuple(params)
    return f"({day} - DATE '1970-01-01')", tuple(params)


def _sqlite_version() -> tuple[int, ...]:
    return sqlite3.sqlite_version_info


def _adherence(patients, *, today, days, limit, per_therapist):
    """Adherence over the last ``days`` days of ``patients``, computed by the database.

    Returns the ``limit`` patients with sessions planned in the window with the lowest ratio
    of sessions done to planned (then by pk) as ``{"pk", "done", "expected", "ratio"}`` rows,
    how many patients have sessions planned, how many of them are behind plan, and with
    ``per_therapist`` {therapist id: (patients, done, expected)} over every patient. Only
    those rows come to Python, whatever the number of patients or sessions: one query.
    """
    inputs, counted, params = _plan_inputs(patients, today=today, days=days)
    today_n = (today - dt.date(1970, 1, 1)).days
    window = [today_n - days + 1, today_n - days + 1, today_n, today_n]
    # SQLite before 3.35 (Django accepts 3.31) knows no MATERIALIZED: the hint is left out
    hint = "" if connection.vendor == "sqlite" and _sqlite_version() < (3, 35) else "MATERIALIZED"
    first_day, first_params = _first_day_sql("f.started_at")
    head = (
        _ADHERENCE_SQL.replace("%(materialized)s", hint)
        .replace("%(inputs)s", inputs)
        .replace("%(counted)s", counted)
        .replace("%(first)s", connection.ops.quote_name(FirstSession._meta.db_table))
        .replace("%(first_day)s", first_day)
    )
    sql = head + _ADHERENCE_ROWS_SQL
    args = [*params, *first_params, *window, limit]
    through = Patient.therapists.through._meta
    if per_therapist:
        quote = connection.ops.quote_name
        names = {
            "through": quote(through.db_table),
            "user": quote(through.get_field("user").column),
            "patient": quote(through.get_field("patient").column),
        }
        sql = (
            # names from the models' metadata, values as parameters
            f"{head} SELECT 0, * FROM ({_ADHERENCE_ROWS_SQL}) r UNION ALL "  # noqa: S608
            f"SELECT 1, * FROM ({_ADHERENCE_THERAPISTS_SQL.format(**names)}) t"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        fetched = cursor.fetchall()
    if not per_therapist:
        fetched = [(0, *row) for row in fetched]
    rows, planned, behind, therapists = [], 0, 0, {}
    for kind, pk, first, second, third, fourth in fetched:
        if kind == 1:  # therapist id, patients, done, expected
            therapists[pk] = (int(first), int(second or 0), int(third or 0))
            continue
        done, expected = int(first), int(second)
        planned, behind = int(third), int(fourth)
        rows.append({"pk": pk, "done": done, "expected": expected, "ratio": done / expected})
    rows.sort(key=lambda row: (row["ratio"], row["pk"]))  # a union keeps no order
    return rows, planned, behind, therapists


def _protocol_defaults() -> dict:
    """(sessions per week, programme weeks) of each clinic's newest settings, and under
    ``None`` the model's defaults for a clinic that never saved any (one small query)."""
    fields = ("sessions_per_week", "programme_weeks")
    defaults = {None: tuple(ClinicSettings._meta.get_field(f).default for f in fields)}
    newest = ClinicSettings.objects.order_by("clinic_id", "-version").values_list(
        "clinic_id", *fields
    )
    for clinic_id, spw, weeks in newest:
        defaults.setdefault(clinic_id, (spw, weeks))
    return defaults


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
    live = {"voided_at__isnull": True, "patient__voided_at__isnull": True}
    recordings_of = (
        Recording.objects.filter(session=OuterRef("pk"), voided_at__isnull=True)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    sessions = (
        TherapySession.objects.visible_to(user)
        .filter(**live)
        .select_related("patient", "therapist")
        .annotate(
            recording_count=Coalesce(Subquery(recordings_of), 0),
            planned_rounds=_newest_setting("rounds_per_session", "patient__"),
        )
        .order_by("-started_at", "-pk")
    )
    if chosen is not None:
        sessions = sessions.filter(patient__therapists=chosen)
    week_start = today - dt.timedelta(days=today.weekday())
    tomorrow = _local_midnight(today + dt.timedelta(days=1))
    todays = sessions.filter(started_at__gte=_local_midnight(today), started_at__lt=tomorrow)
    this_week = sessions.filter(
        started_at__gte=_local_midnight(week_start),
        started_at__lt=_local_midnight(week_start + dt.timedelta(days=7)),
    )
    # today is inside this week: the counts in one query
    week_counts = this_week.order_by().aggregate(
        week=Count("pk"),
        today=Count(
            "pk", filter=Q(started_at__gte=_local_midnight(today), started_at__lt=tomorrow)
        ),
        later=Count("pk", filter=Q(started_at__gte=tomorrow)),
    )
    since = _local_midnight(today - dt.timedelta(days=ADHERENCE_WINDOW_DAYS - 1))
    missing = sessions.filter(
        started_at__gte=since, started_at__lt=tomorrow, recording_count__lt=F("planned_rounds")
    )
    recordings = Recording.objects.visible_to(user).filter(
        voided_at__isnull=True,
        session__voided_at__isnull=True,
        session__patient__voided_at__isnull=True,
    )
    if chosen is not None:
        recordings = recordings.filter(session__patient__therapists=chosen)
    attention = (
        recordings.filter(
            Q(status=Recording.Status.FAILED) | Q(pk__in=recordings.stuck().values("pk"))
        )
        .select_related("session__patient")
        .order_by("-created_at")
    )
    week_rows = list(this_week[:DASHBOARD_DAY_LIST])
    # Today's sessions are this week's after the ``later`` ones (same order): taken from the
    # week's rows when they all fit there (no session planned later this week: always),
    # otherwise queried.
    later, shown_today = week_counts["later"], min(week_counts["today"], DASHBOARD_DAY_LIST)
    if later + shown_today <= DASHBOARD_DAY_LIST:
        todays_rows = week_rows[later : later + shown_today]
    else:
        todays_rows = list(todays[:DASHBOARD_DAY_LIST])
    recent_rows = list(sessions[:recent])
    missing_rows = list(missing[: recent + 1])  # one more says "more": no COUNT of them all
    scores = session_scores({s.pk: s for s in (*todays_rows, *week_rows, *recent_rows)}.values())

    rows, planned, behind_count, therapists = _adherence(
        patients,
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
        "patient_count": patients.count(),
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


def clinics_for_choice():
    """Every clinic, for a superuser choosing whose settings to edit."""
    return Clinic.objects.order_by("name")


def clinic_or_404(clinic_id) -> Clinic:
    try:
        return Clinic.objects.get(pk=int(clinic_id))
    except (Clinic.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found.") from exc


def settings_versions(clinic) -> list[ClinicSettings]:
    """Every settings version of the clinic, newest (the one that applies) first.

    Each carries ``weights_label``: its score weights in words ("standard" when it set none).
    """
    versions = list(
        ClinicSettings.objects.filter(clinic=clinic)
        .select_related("created_by")
        .order_by("-version")
    )
    for version in versions:
        own = version.scoring_weights or {}
        text = weights_text({**standard_weights(), **own})
        version.weights_label = text if own else f"standard ({text})"
    return versions


def api_tokens_of(user) -> list:
    """The user's own API tokens, newest first (never anyone else's)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-pk"))


AUDIT_PAGE_SIZE = 50


def audit_entries_for(user):
    """The entries a manager may read: their clinic's staff and patients (superusers: all)."""
    if user.is_superuser:
        return AuditEntry.objects.order_by("-seq")
    if user.clinic_id is None:
        return AuditEntry.objects.none()
    patients = Patient.objects.filter(clinic_id=user.clinic_id).values("pk")
    return AuditEntry.objects.filter(
        Q(clinic_id=user.clinic_id) | Q(patient_id__in=patients)
    ).order_by("-seq")


def date_range_widget():
    """Two date inputs, each with its own accessible name (one label cannot name both)."""
    widget = django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    for subwidget, name in zip(widget.widgets, ("From date", "To date"), strict=True):
        subwidget.attrs["aria-label"] = name
    return widget


class AuditEntryFilter(django_filters.FilterSet):
    """Filters of the clinic's audit page; invalid values are form errors, never a 500."""

    user = django_filters.ModelChoiceFilter(
        label="User", field_name="actor", queryset=User.objects.none(), empty_label="Anyone"
    )
    patient = django_filters.CharFilter(
        label="Patient code", method="filter_patient", widget=forms.TextInput
    )
    action = django_filters.ChoiceFilter(choices=AuditEntry.Action.choices, empty_label="Any")
    purpose = django_filters.ChoiceFilter(choices=AuditEntry.Purpose.choices, empty_label="Any")
    date = django_filters.DateFromToRangeFilter(
        label="Date (from, to)",
        field_name="created_at",
        widget=date_range_widget(),
    )

    class Meta:
        model = AuditEntry
        fields: list[str] = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        staff = (
            User.objects.all()
            if user.is_superuser
            else User.objects.filter(clinic_id=user.clinic_id)
        )
        self.filters["user"].queryset = staff.order_by("full_name", "email")

    def filter_patient(self, queryset, name, value):
        ids = list(
            Patient.objects.visible_to(self.user)
            .filter(code__iexact=value.strip())
            .values_list("pk", flat=True)
        )
        return queryset.filter(pk__in=entry_ids_for_patients(ids))


def audit_page(user, params, page_number):
    """The filter set, one page of entries as report rows, and the codes of their patients."""
    filterset = AuditEntryFilter(params, queryset=audit_entries_for(user), user=user)
    entries = filterset.qs if filterset.is_valid() else AuditEntry.objects.none()
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(page_number)
    shown = {pk for entry in page.object_list for pk in entry.patient_id_list}
    codes = dict(Patient.objects.visible_to(user).filter(pk__in=shown).values_list("pk", "code"))
    rows = []
    for entry, row in zip(page.object_list, report_rows(page.object_list), strict=True):
        ids = entry.patient_id_list
        row["patient"] = (
            codes.get(ids[0], f"#{ids[0]}") if len(ids) == 1 else f"{len(ids)} patients"
        )
        row["patient_ids"] = ids
        rows.append(row)
    return filterset, page, rows
