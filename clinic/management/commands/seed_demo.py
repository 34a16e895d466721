"""`manage.py seed_demo`: a demo clinic with staff, patients and sessions; idempotent.

The data are fictitious and deterministic (fixed names, a seeded random generator per patient,
dates anchored on each patient's stored treatment start), so a second run finds every row by its
natural key and writes nothing. The seed is a list of steps (``STEPS``) that share one
``DemoData``; later steps (e.g. recordings) are added by appending a function to that list.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from analysis.demo import seed_recordings
from clinic.models import Clinic, User
from clinic.roles import CLINIC_MANAGER, RESEARCHER, THERAPIST
from clinic.services import clinic_ensure, staff_ensure
from patients.models import Patient
from sessions.models import TherapySession

DEFAULT_PASSWORD = "demo-password-2026"  # noqa: S105 - the documented demo password
DEMO_CLINIC_CODE = "demo"
DEMO_CLINIC_NAME = "Demo Rehabilitation Centre"


@dataclass(frozen=True)
class DemoAccount:
    key: str
    email: str
    full_name: str
    roles: tuple[str, ...] = ()
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def label(self) -> str:
        if self.is_superuser:
            return "Administrator (superuser)"
        return ", ".join(self.roles) + (" + admin site" if self.is_staff else "")


ACCOUNTS = (
    DemoAccount("therapist", "therapist@demo.myoclinic.org", "Tessa Lindqvist", (THERAPIST,)),
    DemoAccount("therapist2", "therapist2@demo.myoclinic.org", "Tomas Okafor", (THERAPIST,)),
    DemoAccount(
        "manager", "manager@demo.myoclinic.org", "Mara Delacroix", (CLINIC_MANAGER,), is_staff=True
    ),
    DemoAccount("researcher", "researcher@demo.myoclinic.org", "Ravi Anand", (RESEARCHER,)),
    DemoAccount(
        "admin", "admin@demo.myoclinic.org", "Demo Administrator", is_staff=True, is_superuser=True
    ),
)


@dataclass(frozen=True)
class DemoPatient:
    code: str
    first_name: str
    last_name: str
    sex: str
    born: dt.date
    diagnosis: str
    therapists: tuple[str, ...]
    uses_bfr: bool


# Invented people: any resemblance to real persons is accidental.
PATIENTS = (
    DemoPatient(
        "D001",
        "Hollis",
        "Quenby",
        "M",
        dt.date(1941, 3, 12),
        "Hip fracture, after surgery",
        ("therapist",),
        True,
    ),
    DemoPatient(
        "D002",
        "Marigold",
        "Fenwick",
        "F",
        dt.date(1938, 7, 2),
        "Deconditioning after pneumonia",
        ("therapist",),
        False,
    ),
    DemoPatient(
        "D003",
        "Osric",
        "Tallowby",
        "M",
        dt.date(1950, 11, 23),
        "Total knee replacement",
        ("therapist",),
        True,
    ),
    DemoPatient(
        "D004",
        "Perpetua",
        "Ashgrove",
        "F",
        dt.date(1946, 1, 30),
        "Sarcopenia",
        ("therapist", "therapist2"),
        False,
    ),
    DemoPatient(
        "D005",
        "Wendell",
        "Pimbury",
        "M",
        dt.date(1944, 5, 8),
        "ICU-acquired weakness",
        ("therapist2",),
        True,
    ),
    DemoPatient(
        "D006",
        "Clementine",
        "Orrick",
        "F",
        dt.date(1952, 9, 17),
        "Anterior cruciate ligament reconstruction",
        ("therapist2",),
        True,
    ),
    DemoPatient(
        "D007",
        "Barnaby",
        "Yelverton",
        "M",
        dt.date(1935, 12, 4),
        "Deconditioning after hospital stay",
        ("therapist2",),
        False,
    ),
    DemoPatient(
        "D008",
        "Rosalind",
        "Haverstock",
        "X",
        dt.date(1957, 4, 21),
        "Knee osteoarthritis",
        ("therapist",),
        False,
    ),
)


@dataclass
class DemoData:
    """What the steps share: the password, the rows made so far and a tally of writes."""

    password: str
    clinic: Clinic | None = None
    staff: dict[str, User] = field(default_factory=dict)
    patients: list[Patient] = field(default_factory=list)
    sessions: list[TherapySession] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)


def _rng(*parts) -> random.Random:
    # Demo values, not secrets: a seeded generator keeps every run identical.
    return random.Random(":".join(str(p) for p in ("myoclinic-demo", *parts)))  # noqa: S311


def seed_clinic(demo: DemoData) -> None:
    demo.clinic, created = clinic_ensure(code=DEMO_CLINIC_CODE, name=DEMO_CLINIC_NAME)
    demo.created["clinics"] += created


def seed_staff(demo: DemoData) -> None:
    for account in ACCOUNTS:
        existed = User.objects.filter(email__iexact=account.email).exists()
        user, changed = staff_ensure(
            email=account.email,
            full_name=account.full_name,
            clinic=None if account.is_superuser else demo.clinic,
            roles=account.roles,
            password=demo.password,
            is_staff=account.is_staff,
            is_superuser=account.is_superuser,
        )
        demo.staff[account.key] = user
        if not existed:
            demo.created["staff accounts"] += 1
        elif changed:
            demo.updated["staff accounts"] += 1


def seed_patients(demo: DemoData) -> None:
    """Patients are created once with their therapists; later runs leave edits alone."""
    today = timezone.localdate()
    for spec in PATIENTS:
        rng = _rng(spec.code)
        patient, created = Patient.objects.get_or_create(
            clinic=demo.clinic,
            code=spec.code,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "sex": spec.sex,
                "date_of_birth": spec.born,
                "mrn": f"DEMO-{spec.code}",
                "diagnosis": spec.diagnosis,
                "treatment_start": today - dt.timedelta(days=rng.randint(21, 35)),
                "planned_sessions": 10,
            },
        )
        if created:
            patient.therapists.set([demo.staff[key] for key in spec.therapists])
            demo.created["patients"] += 1
        demo.patients.append(patient)


def seed_sessions(demo: DemoData) -> None:
    """3-6 sessions per patient, every 2-3 days from the patient's stored treatment start."""
    by_code = {spec.code: spec for spec in PATIENTS}
    tz = timezone.get_current_timezone()
    for patient in demo.patients:
        spec = by_code[patient.code]
        start = patient.treatment_start or timezone.localdate() - dt.timedelta(days=28)
        therapist = demo.staff[spec.therapists[0]]
        rng = _rng(patient.code, "sessions")
        day = start
        for index in range(rng.randint(3, 6)):
            started_at = dt.datetime.combine(day, dt.time(9 + index % 6, 30), tzinfo=tz)
            rpe = rng.randint(2, 8)
            bfr = Decimal(str(round(rng.uniform(45.0, 55.0), 1))) if spec.uses_bfr else None
            session, created = TherapySession.objects.get_or_create(
                patient=patient,
                started_at=started_at,
                defaults={
                    "therapist": therapist,
                    "rpe": rpe,
                    "bfr_pressure_pct_aop": bfr,
                    "notes": f"Demo session {index + 1}: 3 game rounds, both quadriceps.",
                },
            )
            demo.created["therapy sessions"] += created
            demo.sessions.append(session)
            day += dt.timedelta(days=rng.choice((2, 2, 3)))


# The order matters: each step uses what the previous ones put on DemoData. A new step (the
# recording pipeline's `seed_recordings(demo)`, which attaches files to `demo.sessions`) is one
# function appended here; it must find its rows by natural key so that reruns stay no-ops.
STEPS = [seed_clinic, seed_staff, seed_patients, seed_sessions, seed_recordings]


class Command(BaseCommand):
    help = "Create (or bring back) the demo clinic, its staff, patients and sessions."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"Password of every demo account (default: {DEFAULT_PASSWORD}).",
        )

    def handle(self, *args, password, **options):
        # Known passwords and a known superuser have no place on a real deployment.
        if not getattr(settings, "SEED_DEMO_ALLOWED", True):
            raise CommandError("seed_demo is disabled here (SEED_DEMO_ALLOWED is off).")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("Password rejected: " + " ".join(exc.messages)) from exc

        demo = DemoData(password=password)
        with transaction.atomic():
            for step in STEPS:
                step(demo)

        self._report(demo)

    def _report(self, demo: DemoData) -> None:
        out = self.stdout
        out.write(f"Demo clinic: {demo.clinic.name}")
        width = max(len(a.email) for a in ACCOUNTS)
        out.write(f"{'Account':<{width}}  {'Password':<{len(demo.password)}}  Role")
        for account in ACCOUNTS:
            out.write(f"{account.email:<{width}}  {demo.password}  {account.label}")
        parts = [f"created {n} {what}" for what, n in demo.created.items() if n]
        parts += [f"updated {n} {what}" for what, n in demo.updated.items() if n]
        if parts:
            out.write(self.style.SUCCESS("Demo data: " + "; ".join(parts) + "."))
        else:
            out.write(self.style.SUCCESS("Nothing to change: the demo data were already there."))
