"""`manage.py seed_demo`: the demo accounts work, and a second run changes nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from clinic.access import Scope, scope_of
from clinic.models import Clinic, User
from patients.models import Patient
from sessions.models import TherapySession

DEMO_PASSWORD = "demo-password-2026"


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Every demo row and the columns a rerun could touch."""
    return {
        "clinics": list(Clinic.objects.values_list("pk", "name")),
        "users": list(
            User.objects.order_by("pk").values_list(
                "pk", "email", "password", "clinic_id", "is_staff", "is_superuser"
            )
        ),
        "groups": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
        "patients": list(Patient.objects.order_by("pk").values_list("pk", "code", "updated_at")),
        "assignments": sorted(Patient.therapists.through.objects.values_list("pk", flat=True)),
        "sessions": list(
            TherapySession.objects.order_by("pk").values_list("pk", "started_at", "updated_at")
        ),
    }


@pytest.mark.django_db
def test_it_prints_every_demo_account_with_its_password():
    out = seed()
    for email in (
        "therapist@demo.myoclinic.org",
        "therapist2@demo.myoclinic.org",
        "manager@demo.myoclinic.org",
        "researcher@demo.myoclinic.org",
        "admin@demo.myoclinic.org",
    ):
        assert email in out
    assert DEMO_PASSWORD in out


@pytest.mark.django_db
def test_the_demo_therapist_logs_in_and_sees_only_assigned_patients(client):
    seed()
    assert client.login(email="therapist@demo.myoclinic.org", password=DEMO_PASSWORD)
    therapist = User.objects.get(email="therapist@demo.myoclinic.org")
    visible = set(Patient.objects.visible_to(therapist).values_list("code", flat=True))
    assert visible
    assert visible < set(Patient.objects.values_list("code", flat=True))
    assert TherapySession.objects.visible_to(therapist).exists()


@pytest.mark.django_db
def test_the_roles_match_the_accounts():
    seed()
    clinic = Clinic.objects.get(name="Demo Rehabilitation Centre")
    manager = User.objects.get(email="manager@demo.myoclinic.org")
    researcher = User.objects.get(email="researcher@demo.myoclinic.org")
    admin = User.objects.get(email="admin@demo.myoclinic.org")
    assert manager.clinic == clinic
    assert manager.is_staff
    assert not manager.is_superuser
    assert manager.has_perm("clinic.add_user")
    assert scope_of(researcher) is Scope.CLINIC
    assert not researcher.has_perm("patients.view_identifying_data")
    assert admin.is_superuser
    assert admin.clinic is None


@pytest.mark.django_db
def test_it_makes_patients_with_three_to_six_sessions_and_plausible_values():
    seed()
    patients = Patient.objects.filter(clinic__code="demo")
    assert 6 <= patients.count() <= 10
    for patient in patients:
        sessions = patient.sessions.all()
        assert 3 <= len(sessions) <= 6
        assert patient.therapists.exists()
        for session in sessions:
            assert 0 <= session.rpe <= 10
            assert session.bfr_pressure_pct_aop is None or 45 <= session.bfr_pressure_pct_aop <= 55
            assert session.therapist in patient.therapists.all()


@pytest.mark.django_db
def test_running_it_twice_changes_nothing():
    seed()
    before = snapshot()
    out = seed()
    assert snapshot() == before
    assert "Nothing to change" in out


@pytest.mark.django_db
def test_a_rerun_restores_a_changed_password_and_lost_role():
    seed()
    therapist = User.objects.get(email="therapist@demo.myoclinic.org")
    therapist.set_password("something-else-entirely-42")
    therapist.save()
    therapist.groups.clear()
    out = seed()
    therapist.refresh_from_db()
    assert therapist.check_password(DEMO_PASSWORD)
    assert therapist.groups.filter(name="Therapist").exists()
    assert "updated 1 staff accounts" in out


@pytest.mark.django_db
def test_the_password_option_sets_every_demo_password():
    out = seed("--password", "another-demo-secret-77")
    assert "another-demo-secret-77" in out
    for user in User.objects.filter(email__endswith="@demo.myoclinic.org"):
        assert user.check_password("another-demo-secret-77")


@pytest.mark.django_db
def test_it_rejects_a_weak_password_without_writing_anything():
    with pytest.raises(CommandError, match="Password rejected"):
        seed("--password", "123")
    assert not User.objects.exists()


@pytest.mark.django_db
@override_settings(SEED_DEMO_ALLOWED=False)
def test_it_refuses_to_run_where_demo_data_are_disabled():
    # Production: known passwords and a known superuser must never appear there.
    with pytest.raises(CommandError, match="disabled"):
        seed()
    assert not Clinic.objects.exists()
