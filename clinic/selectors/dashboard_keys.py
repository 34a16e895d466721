"""The dashboard's narrow queries (issue 17): the week's counts and the keys of the rows it
lists, each a top-N or a count over one index range, so the rows themselves are read and joined
only for the few shown. The counts and keys of a whole clinic are compiled once per shape
(``clinic.selectors.kept_statements``)."""

from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from clinic.models import ClinicSettings
from clinic.selectors.kept_statements import kept_statement
from patients.models import Patient, PatientProtocol
from sessions.models import TherapySession


def missing_keys(user, chosen, *, since, until, recordings_of):
    """The keys of the sessions missing rounds in ``dashboard_for`` (same filter, same order)
    with every condition a probe of the session's own row (its patient voided, its
    recordings, its protocol's or clinic's rounds): PostgreSQL walks the window newest first
    and stops at the rows wanted, instead of joining every patient of the clinic to every
    session of the window first."""
    default = ClinicSettings._meta.get_field("rounds_per_session").default
    protocol_rounds = PatientProtocol.objects.filter(patient_id=OuterRef("patient_id"))
    clinic_rounds = ClinicSettings.objects.filter(clinic__patients=OuterRef("patient_id"))
    keys = (
        TherapySession.objects.visible_to(user)
        .filter(voided_at__isnull=True, started_at__gte=since, started_at__lt=until)
        .exclude(Exists(Patient.objects.filter(pk=OuterRef("patient_id"), voided_at__isnull=False)))
        .annotate(
            done_rounds=Coalesce(Subquery(recordings_of), 0),
            rounds=Coalesce(
                Subquery(protocol_rounds.values("rounds_per_session")[:1]),
                Subquery(clinic_rounds.order_by("-version").values("rounds_per_session")[:1]),
                Value(default),
                output_field=IntegerField(),
            ),
        )
        .filter(done_rounds__lt=F("rounds"))
    )
    if chosen is not None:
        keys = keys.filter(patient__therapists=chosen)
    return keys.order_by("-started_at", "-pk").values("pk")


def live_sessions(user, chosen):
    """The sessions in ``user``'s scope, neither they nor their patient voided, of the chosen
    therapist's patients if one is chosen; no join, annotation or order."""
    sessions = TherapySession.objects.visible_to(user).filter(
        voided_at__isnull=True, patient__voided_at__isnull=True
    )
    if chosen is not None:
        sessions = sessions.filter(patient__therapists=chosen)
    return sessions


def week_counts(user, chosen, shape, *, week_start, week_end, today, tomorrow) -> dict:
    """This week's, today's, the rest of this week's and later sessions (counted in one
    statement, kept compiled per shape)."""

    def build(*, week_start, week_end, today, tomorrow):
        return (
            live_sessions(user, chosen)
            .filter(started_at__gte=week_start)
            .order_by()
            .annotate(one=Value(1))
            .values("one")  # no GROUP BY: one row of counts, as ``aggregate`` gives
            .annotate(
                week=Count("pk", filter=Q(started_at__lt=week_end)),
                today=Count("pk", filter=Q(started_at__gte=today, started_at__lt=tomorrow)),
                later=Count("pk", filter=Q(started_at__gte=tomorrow, started_at__lt=week_end)),
                beyond=Count("pk", filter=Q(started_at__gte=week_end)),
            )
        )

    window = {"week_start": week_start, "week_end": week_end, "today": today, "tomorrow": tomorrow}
    statement = kept_statement("week-counts", shape, build, window)
    if statement is None:
        return dict.fromkeys(("week", "today", "later", "beyond"), 0)
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
    return dict(zip(names, row, strict=True))


def row_keys(
    user, chosen, shape, *, week_limit, recent, recordings_of, week_start, week_end, since, tomorrow
):
    """The keys of this week's first ``week_limit`` rows and of the first ``recent + 1``
    sessions missing rounds (:func:`missing_keys`), in one statement kept compiled per shape:
    the rows of both lists are then read in one query. None when there are none whatever the
    data."""

    def build(*, week_start, week_end, since, tomorrow):
        week = (
            live_sessions(user, chosen)
            .filter(started_at__gte=week_start, started_at__lt=week_end)
            .order_by("-started_at", "-pk")
            .values("pk")[:week_limit]
        )
        missing = missing_keys(
            user, chosen, since=since, until=tomorrow, recordings_of=recordings_of
        )
        return week.union(missing[: recent + 1])

    window = {"week_start": week_start, "week_end": week_end, "since": since, "tomorrow": tomorrow}
    return kept_statement(f"row-keys-{week_limit}-{recent}", shape, build, window)
