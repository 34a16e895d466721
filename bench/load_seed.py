"""Seeding for ``load.py`` and ``page_cpu.py`` (issue 17): the clinic "bench" with its staff,
patients and sessions (bulk inserts; a second run adds only what is missing), database sessions
for the staff, and the patients and sessions each may open."""

from __future__ import annotations

import datetime as dt
import random

CLINIC = "bench"


# ---------------------------------------------------------------------------------------------
# Seeding (Django ORM, bulk inserts)
# ---------------------------------------------------------------------------------------------


def seed(patients: int, sessions: int, heavy: int, staff: int) -> dict:
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from clinic.models import Clinic, User
    from clinic.roles import CLINIC_MANAGER, THERAPIST
    from patients.models import Patient
    from sessions.models import TherapySession

    clinic, _ = Clinic.objects.get_or_create(code=CLINIC, defaults={"name": "Bench Rehab"})
    managers = max(1, staff // 5)
    therapists = max(1, staff - managers)
    people = {THERAPIST: [], CLINIC_MANAGER: []}
    for role, count in ((THERAPIST, therapists), (CLINIC_MANAGER, managers)):
        group = Group.objects.get(name=role)
        for i in range(count):
            email = f"{role.split()[-1].lower()}-{i:03d}@bench.test"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(  # no password: signed in by sign_in()
                    email=email, password=None, full_name=f"Bench {role} {i}"
                )
                user.clinic = clinic
                user.save()
                user.groups.add(group)
            people[role].append(user)

    staff_ids = [u.pk for u in people[THERAPIST]]
    have = Patient.objects.filter(clinic=clinic).count()
    surnames = ["Aldersley", "Brockhurst", "Dunleavy", "Fenwick", "Haverstock", "Quenby"]
    firsts = ["Agatha", "Bertram", "Desmond", "Marigold", "Osric", "Perpetua", "Rosalind"]
    if have < patients:
        new = Patient.objects.bulk_create(
            Patient(
                clinic=clinic,
                code=f"B{i:06d}",
                mrn=f"BMRN-{i:06d}",
                first_name=firsts[i % len(firsts)],
                last_name=f"{surnames[i % len(surnames)]}{i}",
                date_of_birth=dt.date(1940 + i % 60, 1 + i % 12, 1 + i % 28),
                sex="FM"[i % 2],
            )
            for i in range(have, patients)
        )
        Patient.therapists.through.objects.bulk_create(
            Patient.therapists.through(patient_id=p.pk, user_id=staff_ids[n % len(staff_ids)])
            for n, p in enumerate(new, start=have)
        )
        print(f"seeded {len(new)} patients", flush=True)
    ids = list(Patient.objects.filter(clinic=clinic).order_by("code").values_list("pk", flat=True))
    heavy_id = ids[0]
    # Therapists: every bench therapist works with the heavy patient.
    Patient.objects.get(pk=heavy_id).therapists.add(*people[THERAPIST])
    have_sessions = TherapySession.objects.filter(patient__clinic=clinic).count()
    have_heavy = TherapySession.objects.filter(patient_id=heavy_id).count()
    now = timezone.now()
    rows = []
    for i in range(have_heavy, heavy):
        rows.append((heavy_id, now - dt.timedelta(days=heavy - i, hours=i % 7)))
    spread = max(0, sessions - have_sessions - len(rows))
    for i in range(spread):
        rows.append((ids[1 + i % (len(ids) - 1)], now - dt.timedelta(minutes=37 * i + 60)))
    for start in range(0, len(rows), 20000):
        TherapySession.objects.bulk_create(
            TherapySession(
                patient_id=patient_id,
                therapist_id=staff_ids[patient_id % len(staff_ids)],
                started_at=started,
                rpe=random.randint(0, 10),
            )
            for patient_id, started in rows[start : start + 20000]
        )
    if rows:
        print(f"seeded {len(rows)} sessions", flush=True)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("patients_patient", "therapy_sessions_therapysession"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    return {"clinic": clinic, "people": people, "heavy": heavy_id}


def sign_in(user) -> str:
    """A real database session for ``user`` (the cookie value), as a login would make."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def work_for(user, heavy_id) -> dict:
    """The patients and sessions this user may open (a sample), for realistic URLs."""
    from patients.models import Patient
    from sessions.models import TherapySession

    patients = list(
        Patient.objects.visible_to(user).order_by("?").values_list("pk", flat=True)[:200]
    )
    sessions = list(
        TherapySession.objects.filter(patient_id__in=patients[:50])
        .order_by("?")
        .values_list("pk", flat=True)[:100]
    )
    return {"patients": patients or [heavy_id], "sessions": sessions, "heavy": heavy_id}
