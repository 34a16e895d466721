"""Every kind of write the dashboard's adherence figures depend on, each checked against the
plain computation after the clinic's figures were kept in the cache (issue 17).

Used by ``test_dashboard_adherence_kept.py`` on PostgreSQL and, in a subprocess, on SQLite:
importable without pytest fixtures.
"""

import datetime as dt

from django.db.models import F
from django.utils import timezone

from clinic.models import ClinicSettings
from clinic.tests.adherence_world import compare, dashboard_adherence
from patients.models import Patient, PatientProtocol
from sessions.models import AdherenceVersion, TherapySession


def _planned_patient(world, today, code):
    """A new active patient of the manager's clinic, four days into a programme, assigned to
    the first therapist, with one session in the window."""
    manager, therapist = world["manager"], world["therapists"][0]
    patient = Patient.objects.create(
        clinic_id=manager.clinic_id,
        code=code,
        first_name="Kept",
        last_name=code,
        mrn=f"MRN-{code}",
        date_of_birth=dt.date(1970, 1, 1),
        sex="M",
        treatment_start=today - dt.timedelta(days=4),
    )
    patient.therapists.set([therapist])
    return patient


def writes(world, today):
    """(name, write) pairs; each write changes the figures the manager's dashboard shows."""
    manager = world["manager"]
    clinic_id = manager.clinic_id
    other = world["therapists"][1]
    noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    state = {}

    def new_patient():
        state["patient"] = _planned_patient(world, today, "KEPT1")

    def new_session():
        state["session"] = TherapySession.objects.create(
            patient=state["patient"], started_at=noon - dt.timedelta(days=1)
        )

    def void_session():
        state["session"].voided_at = timezone.now()
        state["session"].save(update_fields=["voided_at"])

    def unvoid_session():
        TherapySession.objects.filter(pk=state["session"].pk).update(voided_at=None)

    def move_session_out_of_the_window():
        TherapySession.objects.filter(pk=state["session"].pk).update(
            started_at=noon - dt.timedelta(days=60)
        )

    def move_session_back():
        TherapySession.objects.filter(pk=state["session"].pk).update(
            started_at=noon - dt.timedelta(days=2)
        )

    def reassign_session_to_another_patient():
        state["second"] = _planned_patient(world, today, "KEPT2")
        TherapySession.objects.filter(pk=state["session"].pk).update(patient=state["second"])

    def bulk_sessions():
        TherapySession.objects.bulk_create(
            TherapySession(patient=state["patient"], started_at=noon - dt.timedelta(hours=h))
            for h in (1, 2, 3)
        )

    def bulk_void():
        TherapySession.objects.filter(patient=state["patient"]).update(voided_at=timezone.now())

    def delete_sessions():
        TherapySession.objects.filter(patient=state["second"]).delete()

    def reassign_patient():
        state["patient"].therapists.set([other])

    def unassign_patient():
        state["patient"].therapists.clear()

    def later_start():
        Patient.objects.filter(pk=state["patient"].pk).update(
            treatment_start=F("treatment_start") + dt.timedelta(days=2)
        )

    def deactivate_patient():
        Patient.objects.filter(pk=state["second"].pk).update(is_active=False)

    def void_patient():
        Patient.objects.filter(pk=state["patient"].pk).update(voided_at=timezone.now())

    def protocol():
        patient = _planned_patient(world, today, "KEPT3")
        state["protocol"] = PatientProtocol.objects.create(patient=patient, sessions_per_week=1)

    def protocol_changed():
        PatientProtocol.objects.filter(pk=state["protocol"].pk).update(sessions_per_week=7)

    def protocol_removed():
        PatientProtocol.objects.filter(pk=state["protocol"].pk).delete()

    def clinic_settings():
        newest = ClinicSettings.objects.filter(clinic_id=clinic_id).order_by("-version").first()
        ClinicSettings.objects.create(
            clinic_id=clinic_id,
            version=(newest.version if newest else 0) + 1,
            sessions_per_week=6,
            programme_weeks=12,
        )

    return [
        (fn.__name__, fn)
        for fn in (
            new_patient,
            new_session,
            void_session,
            unvoid_session,
            move_session_out_of_the_window,
            move_session_back,
            reassign_session_to_another_patient,
            bulk_sessions,
            bulk_void,
            delete_sessions,
            reassign_patient,
            unassign_patient,
            later_start,
            deactivate_patient,
            void_patient,
            protocol,
            protocol_changed,
            protocol_removed,
            clinic_settings,
        )
    ]


def version_of(clinic_id):
    return AdherenceVersion.objects.filter(clinic_id=clinic_id).values_list("version", flat=True)[0]


def check_every_write(world, today) -> int:
    """For each write: the manager's figures (kept in the cache by a first look) change, equal
    the plain computation for every viewer, and the clinic's version changed. How many writes
    were checked."""
    manager = world["manager"]
    checked = 0
    for name, write in writes(world, today):
        before = dashboard_adherence(manager, today=today)
        assert dashboard_adherence(manager, today=today) == before  # kept: the same figures
        version = version_of(manager.clinic_id)
        write()
        assert version_of(manager.clinic_id) != version, name
        after = dashboard_adherence(manager, today=today)
        assert after != before, name
        compare(world, today)
        checked += 1
    return checked
