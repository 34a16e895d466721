"""A clinic network whose adherence figures exercise every rule, and the dashboard's adherence
computed the plain way (every active patient through Python, :func:`window_expected` per
patient: what the dashboard did before the database computed it), to compare with.

Used by ``test_dashboard_adherence_sql.py`` on PostgreSQL and, in a subprocess, on SQLite (the
embedded demo's database): importable without pytest fixtures.
"""

import datetime as dt
import random

from django.contrib.auth.models import Group
from django.utils import timezone

from clinic.models import Clinic, ClinicSettings, User
from clinic.roles import CLINIC_MANAGER, THERAPIST
from clinic.selectors import (
    ADHERENCE_WINDOW_DAYS,
    DASHBOARD_LIST,
    PATIENT_ADHERENCE_LIST,
    dashboard_for,
    dashboard_therapists,
    window_expected,
)
from patients.models import Patient, PatientProtocol
from sessions.models import TherapySession


def _staff(email, clinic, role):
    user = User.objects.create_user(email=email, password=None, full_name=email.split("@")[0])
    user.clinic = clinic
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def build_world(today: dt.date, *, patients=90, seed=7) -> dict:
    """Two clinics (one with two settings versions, one with none), three therapists and a
    manager in the first; patients with and without a treatment start (then the local day of
    their first session counts, sessions near local midnight included), started before, in
    and after the window, programmes that ended, protocols with and without their own sessions
    per week and weeks, voided sessions and voided or inactive patients, ties of ratio."""
    rng = random.Random(seed)
    north = Clinic.objects.create(name="Adherence North", code="adh-north")
    south = Clinic.objects.create(name="Adherence South", code="adh-south")
    ClinicSettings.objects.create(clinic=north, version=1, sessions_per_week=2, programme_weeks=3)
    ClinicSettings.objects.create(clinic=north, version=2, sessions_per_week=3, programme_weeks=8)
    therapists = [_staff(f"adh-t{i}@north.test", north, THERAPIST) for i in range(3)]
    south_therapist = _staff("adh-t@south.test", south, THERAPIST)
    manager = _staff("adh-m@north.test", north, CLINIC_MANAGER)
    admin = User.objects.create_superuser(email="adh-admin@x.test", password=None)
    tz = timezone.get_current_timezone()
    now = timezone.now()
    for i in range(patients):
        clinic = north if i % 5 else south
        start = None if i % 3 == 0 else today - dt.timedelta(days=rng.randint(-10, 150))
        patient = Patient.objects.create(
            clinic=clinic,
            code=f"ADH{i:03d}",
            first_name="Ada",
            last_name=f"Herence{i}",
            mrn=f"ADH-{i:03d}",
            date_of_birth=dt.date(1960, 1, 1),
            sex="F",
            treatment_start=start,
            is_active=i % 17 != 5,
        )
        staff = [south_therapist] if clinic is south else rng.sample(therapists, rng.randint(0, 2))
        patient.therapists.set(staff)
        if i % 4 == 1:
            PatientProtocol.objects.create(
                patient=patient,
                sessions_per_week=rng.choice([None, 1, 3, 5, 7]),
                programme_weeks=rng.choice([None, 1, 2, 6, 52]),
            )
        for _ in range(rng.choice([0, 0, 1, 2, 4, 8, 15])):
            days_ago = rng.randint(0, 200 if i % 2 else 35)
            # some sessions a few minutes either side of local midnight
            local = dt.datetime.combine(
                today - dt.timedelta(days=days_ago),
                rng.choice([dt.time(0, 3), dt.time(10, 0), dt.time(23, 57)]),
            )
            started = min(timezone.make_aware(local, tz), now)
            TherapySession.objects.create(
                patient=patient,
                therapist=staff[0] if staff else None,
                started_at=started,
                voided_at=now if rng.random() < 0.1 else None,
            )
        if i % 29 == 7:
            patient.voided_at = now
            patient.save(update_fields=["voided_at"])
    return {"manager": manager, "admin": admin, "therapists": therapists}


def plain_adherence(user, *, today: dt.date, chosen=None, recent=DASHBOARD_LIST) -> dict:
    """The dashboard's adherence figures computed in Python from every active patient."""
    days = ADHERENCE_WINDOW_DAYS
    patients = Patient.objects.visible_to(user).active().filter(is_active=True)
    if chosen is not None:
        patients = patients.filter(therapists=chosen)
    since = today - dt.timedelta(days=days - 1)
    rows = []
    for patient in patients.select_related("clinic"):
        live = patient.sessions.filter(voided_at__isnull=True).order_by("started_at")
        days_done = [timezone.localtime(s.started_at).date() for s in live]
        start = patient.treatment_start or (days_done[0] if days_done else None)
        newest = ClinicSettings.objects.filter(clinic=patient.clinic).order_by("-version").first()
        protocol = PatientProtocol.objects.filter(patient=patient).first()

        def setting(name, protocol=protocol, newest=newest):
            own = getattr(protocol, name, None) if protocol else None
            if own is not None:
                return own
            if newest is not None:
                return getattr(newest, name)
            return ClinicSettings._meta.get_field(name).default

        expected = window_expected(
            start=start,
            spw=setting("sessions_per_week"),
            weeks=setting("programme_weeks"),
            today=today,
            days=days,
        )
        done = sum(1 for day in days_done if since <= day <= today)
        rows.append({"pk": patient.pk, "done": done, "expected": expected})
    planned = sorted(
        (row for row in rows if row["expected"]),
        key=lambda row: (row["done"] / row["expected"], row["pk"]),
    )
    behind = [row for row in planned if row["done"] < row["expected"]]
    staff = dashboard_therapists(user)
    if chosen is not None:
        staff = staff.filter(pk=chosen.pk)
    by_patient = {row["pk"]: row for row in rows}
    per_therapist = []
    for therapist in staff:
        mine = [by_patient[p.pk] for p in therapist.assigned_patients.all() if p.pk in by_patient]
        per_therapist.append(
            (
                therapist.pk,
                len(mine),
                sum(row["done"] for row in mine),
                sum(row["expected"] for row in mine),
            )
        )
    return {
        "behind": [(r["pk"], r["done"], r["expected"]) for r in behind[:recent]],
        "behind_count": len(behind),
        "per_patient": [(r["pk"], r["done"], r["expected"]) for r in planned],
        "planned": len(planned),
        "per_therapist": per_therapist,
    }


def dashboard_adherence(user, *, today: dt.date, chosen=None) -> dict:
    """The same figures as the dashboard gives them (its context)."""
    params = {"therapist": str(chosen.pk)} if chosen is not None else None
    context = dashboard_for(user, params=params, today=today)
    for row in (*context["behind"], *context["adherence_by_patient"]):
        assert row["patient"].pk == row["pk"]
        assert row["ratio"] == row["done"] / row["expected"]
    return {
        "behind": [(r["pk"], r["done"], r["expected"]) for r in context["behind"]],
        "behind_count": context["behind_count"],
        "per_patient": [
            (r["pk"], r["done"], r["expected"]) for r in context["adherence_by_patient"]
        ],
        "planned": context["adherence_patient_count"],
        "per_therapist": [
            (r["therapist"].pk, r["patients"], r["done"], r["expected"])
            for r in context["adherence_by_therapist"]
        ],
        "clinic_wide": context["clinic_wide"],
    }


def compare(world: dict, today: dt.date) -> int:
    """Assert the dashboard's figures equal the plain ones for every viewer of the world (the
    manager, with and without a therapist filter, the superuser, each therapist); the number of
    patients with sessions planned that were compared."""
    compared = 0
    viewers = [(world["manager"], None), (world["admin"], None)]
    viewers += [(world["manager"], t) for t in world["therapists"]]
    viewers += [(t, None) for t in world["therapists"]]
    for user, chosen in viewers:
        got = dashboard_adherence(user, today=today, chosen=chosen)
        want = plain_adherence(user, today=today, chosen=chosen)
        if got.pop("clinic_wide"):
            want["per_patient"] = want["per_patient"][:PATIENT_ADHERENCE_LIST]
        else:
            want["per_patient"], want["per_therapist"] = [], []
        assert got == want, (user.email, chosen, got, want)
        compared += want["planned"]
    return compared
