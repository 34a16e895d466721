"""Changes made in admin land in the audit log (django-auditlog), which only superusers read."""

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from clinic.models import AuditChainHead, AuditEntry, AuditEntryPatient, Clinic, User
from patients.models import Patient
from sessions.models import AdherenceVersion, FirstSession, Recording, TherapySession

# The read trail itself: append-only, read through the access report and the clinic's audit page
# (not admin), and its own history (a change history of it would double every write).
# FirstSession and AdherenceVersion are derived data kept by database triggers (no one edits
# them; the history of the rows they follow covers every change that moves them).
NOT_IN_ADMIN = {AuditEntry, AuditEntryPatient, AuditChainHead, FirstSession, AdherenceVersion}


@pytest.mark.parametrize("app_label", ["clinic", "patients", "therapy_sessions"])
def test_every_model_of_the_records_apps_is_in_admin_and_audited(app_label):
    # A model added later without an admin or an audit trail fails here.
    for model in set(apps.get_app_config(app_label).get_models()) - NOT_IN_ADMIN:
        assert admin.site.is_registered(model), model
        assert auditlog.contains(model), model


def test_the_core_models_are_audited():
    for model in (Clinic, User, Patient, TherapySession, Recording):
        assert auditlog.contains(model), model


@pytest.mark.django_db
def test_a_password_change_is_audited_without_the_hash(client, zoe, bob):
    client.force_login(zoe)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[bob.pk]),
        {
            "usable_password": "true",
            "password1": "brand-new-secret-for-bob-7",
            "password2": "brand-new-secret-for-bob-7",
        },
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password("brand-new-secret-for-bob-7")
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_pk=str(bob.pk)
    )
    for entry in entries:
        assert "password" not in entry.changes_dict
        assert bob.password not in str(entry.changes)


@pytest.mark.django_db
def test_changes_made_in_admin_name_their_actor(client, zoe, alices_patient, bob):
    client.force_login(zoe)
    alices_patient.therapists.add(bob)  # outside a request: no actor
    entry = LogEntry.objects.filter(object_pk=str(alices_patient.pk)).latest("timestamp")
    assert entry.actor is None
    client.post(
        reverse("admin:patients_patient_changelist"),
        {
            "action": "void_selected",
            "_selected_action": [alices_patient.pk],
            "confirm_void": "yes",
            "reason": "test",
        },
    )
    entry = LogEntry.objects.filter(object_pk=str(alices_patient.pk)).latest("timestamp")
    assert entry.actor == zoe


@pytest.mark.django_db
def test_the_audit_log_search_works_with_email_logins(client, zoe, alices_patient):
    client.force_login(zoe)
    alices_patient.void(by=zoe, reason="audit search")
    response = client.get(reverse("admin:auditlog_logentry_changelist"), {"q": "zoe@admin"})
    assert response.status_code == 200
