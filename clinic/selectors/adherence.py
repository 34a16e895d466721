"""The dashboard's adherence figures, computed by the database (issue 17): sessions done and
planned in the last four weeks of every active patient in scope, ranked, summed per therapist."""

import datetime as dt
import sqlite3

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, Func, IntegerField, Max, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.access import Scope, scope_of
from clinic.models import ClinicSettings
from patients.models import EmergencyAccess, Patient
from sessions.models import AdherenceVersion, FirstSession, TherapySession

ADHERENCE_WINDOW_DAYS = 28  # "behind plan" and the per-therapist figures look at 4 weeks
CACHE_FORMAT = 2  # part of the key: a change of what is kept leaves the old entries unread


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


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


def _emergency_state(user):
    """(active, newest) of the therapist's emergency accesses: how many are open now and the
    newest one's id (0 for none). A therapist's own patients change with assignments (which
    change the clinic's version) and with these accesses, which open and lapse without any
    write to the clinic's data."""
    grants = EmergencyAccess.objects.filter(user=user).aggregate(
        active=Count("pk", filter=Q(expires_at__gt=timezone.now())), newest=Max("pk")
    )
    return grants["active"], grants["newest"] or 0


def clinic_adherence(user, patients, *, chosen, today, days, limit, per_therapist):
    """:func:`_adherence` of ``patients`` and how many they are, for a dashboard, kept in the
    cache under the clinic's ``AdherenceVersion`` (per clinic, therapist filter and day for
    those who see a whole clinic; per therapist for a therapist's own patients), so the cost
    no longer grows with the clinic's size once computed.

    The version is read before the figures are computed: figures kept under a version are
    those of that version's writes or newer ones, and every write after it (committed) has
    given the clinic a new version: a dashboard never shows figures older than the data it
    could read. A therapist's figures are kept only while no emergency access of theirs is
    open (one widens their patients until it lapses, with no write) and only when no access
    was granted to them while they were computed (the newest access's id, read before and
    after, is part of the key). A superuser's every clinic, a clinic without a version yet,
    or ``DASHBOARD_CACHE_SECONDS = 0``: computed each time."""

    def compute():
        figures = _adherence(
            patients, today=today, days=days, limit=limit, per_therapist=per_therapist
        )
        return (*figures, patients.count())

    seconds = settings.DASHBOARD_CACHE_SECONDS
    scope = scope_of(user)
    if not seconds or scope not in (Scope.CLINIC, Scope.ASSIGNED):
        return compute()
    emergency = None
    if scope is Scope.ASSIGNED:
        emergency = _emergency_state(user)
        if emergency[0]:
            return compute()
    version = (
        AdherenceVersion.objects.filter(clinic_id=user.clinic_id)
        .values_list("version", flat=True)
        .first()
    )
    if version is None:
        return compute()
    key = ":".join(
        str(part)
        for part in (
            "dashboard-adherence",
            CACHE_FORMAT,
            user.clinic_id,
            version,
            f"therapist-{user.pk}-{emergency[1]}" if emergency else "clinic",
            chosen.pk if chosen is not None else "",
            today.isoformat(),
            timezone.get_current_timezone_name(),
            days,
            limit,
            int(per_therapist),
        )
    )
    kept = cache.get(key)
    if kept is None:
        kept = compute()
        if emergency is None or _emergency_state(user) == emergency:
            cache.set(key, kept, timeout=seconds)
    return kept
