"""Read-only queries for clinic pages."""

import datetime as dt

import django_filters
from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from analysis.grading import standard_weights, weights_text
from analysis.selectors import session_scores
from clinic.access import Scope, can_see_identity, scope_of
from clinic.audit import entry_ids_for_patients, report_rows
from clinic.models import ApiToken, AuditEntry, Clinic, ClinicSettings, User
from clinic.roles import THERAPIST
from patients.models import Patient
from patients.selectors import emergency_accesses_to_acknowledge, patient_card
from sessions.models import Recording, TherapySession

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


class DashboardFilter(forms.Form):
    """A clinic-wide dashboard's filter: one therapist's patients (an unknown id is an error)."""

    therapist = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="All therapists"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = dashboard_therapists(user)


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


def _adherence_rows(patients, *, today, days) -> list[dict]:
    """Adherence over the last ``days`` days of each active patient (one query, one row per
    active patient; the sessions counted are those of the window only)."""
    since = _local_midnight(today - dt.timedelta(days=days - 1))
    until = _local_midnight(today + dt.timedelta(days=1))
    first = (
        TherapySession.objects.filter(patient=OuterRef("pk"), voided_at__isnull=True)
        .order_by("started_at")
        .values("started_at")[:1]
    )
    recent = (
        TherapySession.objects.filter(
            patient=OuterRef("pk"),
            voided_at__isnull=True,
            started_at__gte=since,
            started_at__lt=until,
        )
        .order_by()
        .values("patient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        patients.annotate(first_session=Subquery(first), recent=Coalesce(Subquery(recent), 0))
        .order_by()
        .values_list(
            "pk",
            "clinic_id",
            "treatment_start",
            "first_session",
            "recent",
            "protocol__sessions_per_week",
            "protocol__programme_weeks",
        )
    )
    # plain tuples, not model instances: a clinic's every active patient passes through here
    # (cards are built afterwards for the rows shown only, :func:`_cards_of`); the clinic's
    # defaults are looked up once per clinic, not per patient
    defaults = _protocol_defaults()
    result = []
    for pk, clinic_id, start, first_session, done, spw, weeks in rows:
        clinic_spw, clinic_weeks = defaults.get(clinic_id, defaults[None])
        spw = clinic_spw if spw is None else spw
        weeks = clinic_weeks if weeks is None else weeks
        if start is None and first_session is not None:
            start = timezone.localtime(first_session).date()
        expected = window_expected(start=start, spw=spw, weeks=weeks, today=today, days=days)
        result.append(
            {
                "pk": pk,
                "done": done,
                "expected": expected,
                "ratio": (done / expected) if expected else None,
            }
        )
    return result


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
    if clinic_wide:
        therapist_filter = DashboardFilter(params or None, user=user)
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
    todays_rows = list(todays[:DASHBOARD_DAY_LIST])
    week_rows = list(this_week[:DASHBOARD_DAY_LIST])
    recent_rows = list(sessions[:recent])
    missing_rows = list(missing[: recent + 1])  # one more says "more": no COUNT of them all
    scores = session_scores({s.pk: s for s in (*todays_rows, *week_rows, *recent_rows)}.values())

    adherence = _adherence_rows(patients, today=today, days=ADHERENCE_WINDOW_DAYS)
    behind = sorted(
        (row for row in adherence if row["expected"] and row["done"] < row["expected"]),
        key=lambda row: (row["ratio"], row["pk"]),
    )
    per_patient = sorted(
        (row for row in adherence if row["expected"]), key=lambda row: (row["ratio"], row["pk"])
    )
    by_therapist = []
    if clinic_wide:
        per_patient = per_patient[:PATIENT_ADHERENCE_LIST]
        by_therapist = _adherence_by_therapist(user, patients, adherence, chosen)
    else:
        per_patient = []
    cards = _cards_of(
        patients, {row["pk"] for row in (*behind[:recent], *per_patient)}, identity=identity
    )
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
        "todays_count": todays.count(),
        "week_sessions": _session_rows(week_rows, identity, scores),
        "week_count": this_week.count(),
        "recent_sessions": _session_rows(recent_rows, identity, scores),
        "missing_rounds": _session_rows(missing_rows[:recent], identity, {}),
        "missing_more": len(missing_rows) > recent,
        "behind": [{**row, "patient": cards[row["pk"]]} for row in behind[:recent]],
        "behind_count": len(behind),
        "adherence_days": ADHERENCE_WINDOW_DAYS,
        "clinic_wide": clinic_wide,
        "therapist_filter": therapist_filter,
        "therapist": chosen,
        "adherence_by_therapist": by_therapist,
        "adherence_by_patient": [{**row, "patient": cards[row["pk"]]} for row in per_patient],
        "adherence_patient_count": sum(1 for row in adherence if row["expected"]),
        "attention": [
            {"recording": r, "patient": patient_card(r.session.patient, identity=identity)}
            for r in attention[:recent]
        ],
    }


def _adherence_by_therapist(user, patients, adherence, chosen) -> list[dict]:
    """Sessions done and expected (last four weeks) over each therapist's active patients: one
    query of the assignments of the active patients."""
    by_patient = {row["pk"]: row for row in adherence}
    pairs = Patient.therapists.through.objects.filter(
        patient__in=patients.values("pk")
    ).values_list("user_id", "patient_id")
    staff = dashboard_therapists(user)
    if chosen is not None:
        staff = staff.filter(pk=chosen.pk)
    totals = {t.pk: {"therapist": t, "patients": 0, "done": 0, "expected": 0} for t in staff}
    for user_id, patient_id in pairs:
        slot = totals.get(user_id)
        row = by_patient.get(patient_id)
        if slot is None or row is None:
            continue
        slot["patients"] += 1
        slot["done"] += row["done"]
        slot["expected"] += row["expected"]
    rows = list(totals.values())
    for row in rows:
        row["ratio"] = (row["done"] / row["expected"]) if row["expected"] else None
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
