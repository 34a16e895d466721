"""Reads for the patient pages, and the one place that decides what a page shows of a patient.

Researchers lack ``patients.view_identifying_data``: every template renders a ``PatientCard``
built here, which carries names, MRN, birth date and free text only when the user may see them,
so a template cannot leak what it was never given.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Avg, Count, F, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from clinic.access import (
    age_band,
    can_see_identity,
    get_visible_or_404,
    hide_voided_from_non_voiders,
    require_perm,
)
from clinic.models import User
from patients.filters import PatientFilter
from patients.models import EmergencyAccess, MvcCalibration, Patient
from sessions.models import Recording, TherapySession

PAGE_SIZE = 25


@dataclass(frozen=True)
class PatientCard:
    """What a page may show of one patient; identity fields are empty without the permission."""

    pk: int
    code: str
    sex: str
    age_band: str
    is_active: bool
    is_voided: bool
    identity: bool
    name: str = ""
    mrn: str = ""
    date_of_birth: date | None = None
    diagnosis: str = ""
    notes: str = ""
    void_reason: str = ""

    @property
    def label(self) -> str:
        """ "P001 – Agatha Aldersley" for clinical staff, "P001" for researchers."""
        return f"{self.code} – {self.name}" if self.identity and self.name else self.code


# ``get_sex_display()`` without its per-call dict of the choices (a dashboard draws 100 cards)
_SEX_LABELS = {value: str(label) for value, label in Patient.Sex.choices}


def patient_card(patient: Patient, *, identity: bool) -> PatientCard:
    base = {
        "pk": patient.pk,
        "code": patient.code,
        "sex": _SEX_LABELS.get(patient.sex, patient.sex),
        "age_band": age_band(patient.date_of_birth),
        "is_active": patient.is_active,
        "is_voided": patient.is_voided,
        "identity": identity,
        "diagnosis": patient.diagnosis,
    }
    if identity:
        base.update(
            name=patient.full_name,
            mrn=patient.mrn,
            date_of_birth=patient.date_of_birth,
            notes=patient.notes,
            void_reason=patient.void_reason,
        )
    return PatientCard(**base)


def card_for(user, patient: Patient) -> PatientCard:
    """The card of ``patient`` as ``user`` may see it."""
    return patient_card(patient, identity=can_see_identity(user))


def patient_for(user, pk, *, perm: str | None = None, active_only: bool = False) -> Patient:
    """A patient in the user's scope (404), with ``perm`` (403).

    Voided patients answer 404 with ``active_only`` (nothing changes a voided record), and
    otherwise stay readable only to those who may void them.
    """
    queryset = Patient.objects.active() if active_only else Patient.objects.all()
    patient = get_visible_or_404(queryset, user=user, pk=pk)
    # Voided is out of scope for non-voiders: 404 before the permission's 403.
    hide_voided_from_non_voiders(user, patient=patient)
    if perm is not None:
        require_perm(user, perm)
    return patient


def patients_for_list(user, params):
    """The filter set and its queryset of visible patients, ready for pagination.

    ``params`` is always bound (an empty QueryDict too), so the defaults (voided hidden) apply.
    No join, no GROUP BY, no DISTINCT: the paginator's COUNT leaves the unused subquery out, and
    the page query counts sessions only for the rows it returns, so both cost in proportion to
    the patients, not to all their sessions. (No filter joins a many-valued relation more than
    once per row, hence no duplicates.)
    """
    filterset = PatientFilter(params, queryset=patients_listed(user), user=user)
    return filterset, filterset.qs


def therapist_ids_by_patient(patient_ids) -> dict[int, list[int]]:
    """The ids of each patient's assigned therapists (one query on the assignment table).

    Plain SQL on the assignment table, its names taken from the model: the API's patient list
    runs it on every page, and the ORM would compile the same two-column select each time."""
    ids = [int(pk) for pk in patient_ids]
    out: dict[int, list[int]] = {}
    if not ids:
        return out
    through = Patient.therapists.through
    q = connection.ops.quote_name
    patient = q(through._meta.get_field("patient").column)
    user = q(through._meta.get_field("user").column)
    # Names come from the model; the ids are parameters.
    sql = (
        f"SELECT {patient}, {user} FROM {q(through._meta.db_table)} "  # noqa: S608
        f"WHERE {patient} IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        for patient_id, user_id in cursor.fetchall():
            out.setdefault(patient_id, []).append(user_id)
    return out


def therapists_by_patient(patient_ids) -> dict[int, list[User]]:
    """Each patient's assigned therapists in the users' own order (name, email), one query
    for a page of patients: their names only, no prefetch machinery per patient."""
    out: dict[int, list[User]] = {}
    users = (
        User.objects.filter(assigned_patients__in=patient_ids)
        .annotate(assigned_to=F("assigned_patients"))
        .only("pk", "full_name", "email")
    )
    for user in users:
        out.setdefault(user.assigned_to, []).append(user)
    return out


@functools.cache
def _live_session_count():
    """A patient's sessions that are not void, as a subquery on the outer patient row.

    The same for every user and request, so built once: ``annotate`` resolves (copies) it
    against each query, and building it (a queryset filtered on ``OuterRef``, grouped and
    counted) was half the cost of ``patients_listed``."""
    sessions = (
        TherapySession.objects.filter(patient=OuterRef("pk"), voided_at__isnull=True)
        .order_by()
        .values("patient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(sessions), 0)


def patients_listed(user):
    """The visible patients with their session count, before the list's filters (the API's
    filter set applies its own). A page's therapists: ``therapists_by_patient`` (the list
    page) or ``therapist_ids_by_patient`` (the API), one query each for the page."""
    return (
        Patient.objects.visible_to(user)
        .annotate(session_count=_live_session_count())
        .order_by("code")
    )


def patient_sessions(patient, *, user):
    """A patient's session history, newest first; voided ones only for those who may void.

    Ready for pagination: ordered on the (patient, started_at) index, no join and no GROUP BY,
    each row's recording count a subquery evaluated for the rows of the page only.
    """
    recordings = (
        Recording.objects.active()
        .filter(session=OuterRef("pk"))
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    sessions = patient.sessions.select_related("therapist").annotate(
        recording_count=Coalesce(Subquery(recordings), 0)
    )
    if not user.has_perm("therapy_sessions.void_therapysession"):
        sessions = sessions.active()
    return sessions.order_by("-started_at", "-pk")


def patient_session_summary(patient, *, user) -> dict:
    """The figures above the session list, from aggregate queries (no row reaches Python).

    Counts, first and last session, mean RPE over the non-voided sessions, recordings of the
    non-voided sessions, and (for those who may void) how many sessions are void. Two
    aggregate queries.
    """
    live = Q(voided_at__isnull=True)
    figures = TherapySession.objects.filter(patient=patient).aggregate(
        sessions=Count("pk", filter=live),
        voided=Count("pk", filter=~live),
        first=Min("started_at", filter=live),
        last=Max("started_at", filter=live),
        mean_rpe=Avg("rpe", filter=live),
    )
    figures["recordings"] = (
        Recording.objects.active()
        .filter(session__patient=patient, session__voided_at__isnull=True)
        .count()
    )
    if not user.has_perm("therapy_sessions.void_therapysession"):
        figures["voided"] = None
    return figures


def patient_by_code(code: str, *, clinic_code: str | None = None, include_voided: bool = False):
    """The one patient with this code (in that clinic when given), for command-line tools.

    Codes are unique per clinic only, so a code shared by several clinics needs the clinic.
    Raises ``Patient.DoesNotExist`` / ``Patient.MultipleObjectsReturned`` with a message a
    command can print as is.
    """
    patients = Patient.objects.all() if include_voided else Patient.objects.active()
    patients = patients.filter(code=code)
    if clinic_code:
        patients = patients.filter(clinic__code=clinic_code)
    found = list(patients[:2])
    if not found:
        raise Patient.DoesNotExist(f"no patient with code {code}")
    if len(found) > 1:
        raise Patient.MultipleObjectsReturned(
            f"several clinics have a patient {code}: add --clinic CODE"
        )
    return found[0]


def _newest_per_muscle(calibrations) -> list[list[MvcCalibration]]:
    """The calibrations grouped per (side, muscle), newest first; groups in muscle order."""
    groups: dict[tuple[str, str], list] = {}
    for cal in calibrations.order_by("-created_at", "-pk"):
        groups.setdefault((cal.side, cal.muscle), []).append(cal)
    return [items for _, items in sorted(groups.items())]


def calibrations_by_muscle(patient) -> list[dict]:
    """Every MVC calibration of the patient per muscle, newest first; the newest one applies.

    The one home of the "newest calibration per muscle" rule: the pipeline's MVC values
    (``mvc_for``), the calibrations page and reports all read it from here.
    """
    rows = MvcCalibration.objects.filter(patient=patient).select_related("created_by")
    return [
        {"muscle_key": items[0].muscle_key, "current": items[0], "history": items}
        for items in _newest_per_muscle(rows)
    ]


def mvc_for(patient) -> dict:
    """The core's ``mvc`` mapping: {"<side> <muscle>": (value in volts, source)}."""
    rows = MvcCalibration.objects.filter(patient=patient).only(
        "side", "muscle", "value_v", "source", "created_at"
    )
    return {
        items[0].muscle_key: (float(items[0].value_v), items[0].source)
        for items in _newest_per_muscle(rows)
    }


def emergency_accesses_of(user):
    """The user's own emergency accesses not yet expired, soonest to end first."""
    return (
        EmergencyAccess.objects.filter(user=user)
        .active()
        .select_related("patient")
        .order_by("expires_at")
    )


def emergency_access_now(user, patient):
    """The access under which ``user`` sees ``patient`` now, if that is how they see it."""
    return (
        EmergencyAccess.objects.filter(user=user, patient=patient)
        .active()
        .order_by("-expires_at")
        .first()
    )


def emergency_accesses_to_acknowledge(user):
    """Every emergency access in the manager's clinic that no manager acknowledged yet."""
    if not user.has_perm("patients.acknowledge_emergencyaccess"):
        return EmergencyAccess.objects.none()
    return (
        EmergencyAccess.objects.visible_to(user)
        .unacknowledged()
        .select_related("user", "patient")
        .order_by("-started_at")
    )


def emergency_access_for_acknowledging(user, pk) -> EmergencyAccess:
    """One access of the manager's clinic (404 outside it), then the permission (403)."""
    return get_visible_or_404(
        EmergencyAccess.objects.select_related("patient"),
        user=user,
        perm="patients.acknowledge_emergencyaccess",
        pk=pk,
    )
