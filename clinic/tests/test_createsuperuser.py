"""`createsuperuser --noinput` works from the environment alone; the superuser needs no clinic."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from clinic.models import User

ADMIN_PASSWORD = "an-administrator-password-31"


@pytest.mark.django_db
def test_it_creates_a_superuser_without_clinic_from_the_environment(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.org")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", ADMIN_PASSWORD)
    call_command("createsuperuser", interactive=False, verbosity=0)

    user = User.objects.get()
    assert user.email == "root@example.org"
    assert user.is_superuser
    assert user.is_staff
    assert user.clinic is None
    # Through the site's login (the admin's goes there too), then into the admin.
    response = client.post(
        reverse("account_login"), {"login": "root@example.org", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_it_refuses_an_email_that_is_already_taken(monkeypatch, zoe):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", zoe.email)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", ADMIN_PASSWORD)
    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", interactive=False, verbosity=0)
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_it_needs_an_email(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    with pytest.raises(CommandError, match="--email"):
        call_command("createsuperuser", interactive=False, verbosity=0)
    assert not User.objects.exists()
