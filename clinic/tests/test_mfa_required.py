"""Two-factor authentication (allauth TOTP) required of every account with MFA_REQUIRED on:
a user without an authenticator sets one up before anything else (pages, admin, API,
websockets); a user with one gives a real TOTP code at every login, site and admin."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.urls import reverse

from analysis.tests.support import login_session
from clinic.middleware import CLOSE_MFA_REQUIRED
from config.asgi import application
from conftest import PASSWORD

SETUP_URL = reverse("mfa_activate_totp")
LOGIN_URL = reverse("account_login")
MFA_CODE_URL = reverse("mfa_authenticate")
REAUTH_URL = reverse("account_reauthenticate")


def totp_now(secret: str) -> str:
    """The code an authenticator app shows now for ``secret`` (allauth's own HOTP helpers)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def password_login(client, email, next_url=None):
    data = {"login": email, "password": PASSWORD}
    url = LOGIN_URL + (f"?next={next_url}" if next_url else "")
    return client.post(url, data)


def open_setup(client):
    """The setup page; allauth first asks for the password again (its reauthentication)."""
    response = client.get(SETUP_URL)
    if response.status_code == 302 and response["Location"].startswith(REAUTH_URL):
        client.post(response["Location"], {"password": PASSWORD})
        response = client.get(SETUP_URL)
    assert response.status_code == 200
    return client.session[SECRET_SESSION_KEY]


@pytest.fixture
def mfa_required(settings):
    settings.MFA_REQUIRED = True


@pytest.fixture
def alices_secret(alice):
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    return secret


@pytest.mark.django_db
def test_without_the_setting_a_user_without_a_device_works_as_before(client, alice):
    assert django_settings.MFA_REQUIRED is False  # the test settings' default
    password_login(client, alice.email)
    assert client.get("/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_required")
def test_a_user_without_a_device_can_only_set_one_up(client, alice, alices_patient):
    assert password_login(client, alice.email)["Location"] == "/"
    for url in ("/", alices_patient.get_absolute_url(), reverse("patients:list"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == SETUP_URL
    api = client.get("/api/")
    assert api.status_code == 403
    assert "two-factor" in api.json()["detail"]
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(SETUP_URL)["Location"].startswith(REAUTH_URL)
    open_setup(client)


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_required")
def test_setting_up_with_a_real_code_opens_the_site(client, alice):
    password_login(client, alice.email)
    secret = open_setup(client)

    wrong = client.post(SETUP_URL, {"code": "000000" if totp_now(secret) != "000000" else "1"})
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=alice).exists()

    done = client.post(SETUP_URL, {"code": totp_now(secret)})
    assert done.status_code == 302
    assert done["Location"] == reverse("mfa_view_recovery_codes")
    types = set(Authenticator.objects.filter(user=alice).values_list("type", flat=True))
    assert types == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    assert client.get("/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_required")
def test_a_user_with_a_device_needs_the_code_at_login(client, alice, alices_secret):
    response = password_login(client, alice.email)
    assert response["Location"] == MFA_CODE_URL
    # Password alone does not sign in.
    assert client.get("/")["Location"].startswith(LOGIN_URL)

    assert client.post(MFA_CODE_URL, {"code": "12345x"}).status_code == 200
    assert client.get("/")["Location"].startswith(LOGIN_URL)

    signed_in = client.post(MFA_CODE_URL, {"code": totp_now(alices_secret)})
    assert signed_in.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_required")
def test_the_admin_login_asks_for_the_code_too(client, zoe):
    secret = generate_totp_secret()
    TOTP.activate(zoe, secret)
    admin_login = client.get(client.get("/admin/")["Location"])
    assert admin_login["Location"] == f"{LOGIN_URL}?next=%2Fadmin%2F"  # the admin's is allauth's

    assert password_login(client, zoe.email, next_url="/admin/")["Location"] == MFA_CODE_URL
    assert client.get("/admin/").status_code == 302  # not signed in on a password alone
    done = client.post(MFA_CODE_URL, {"code": totp_now(secret)})
    assert done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_required")
def test_an_administrator_without_a_device_sets_one_up_before_the_admin(client, zoe):
    password_login(client, zoe.email, next_url="/admin/")
    assert client.get("/admin/")["Location"] == SETUP_URL
    assert client.get("/admin/clinic/user/")["Location"] == SETUP_URL


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_required")
def test_the_device_cannot_be_removed_while_required(client, alice, alices_secret):
    password_login(client, alice.email)
    client.post(MFA_CODE_URL, {"code": totp_now(alices_secret)})
    client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=alice, type=Authenticator.Type.TOTP).exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_required")
def test_a_recovery_code_signs_in_when_the_phone_is_lost(client, alice):
    password_login(client, alice.email)
    client.post(SETUP_URL, {"code": totp_now(open_setup(client))})
    codes = (
        Authenticator.objects.get(user=alice, type=Authenticator.Type.RECOVERY_CODES)
        .wrap()
        .get_unused_codes()
    )
    client.logout()
    password_login(client, alice.email)
    assert client.post(MFA_CODE_URL, {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_websockets_close_for_a_user_without_a_device(
    settings, alice, alices_patient, session_of
):
    settings.MFA_REQUIRED = True
    session = await database_sync_to_async(session_of)(alices_patient)
    cookie = await database_sync_to_async(login_session)(alice)
    ws = WebsocketCommunicator(
        application,
        f"/ws/sessions/{session.pk}/status/",
        [(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    await ws.connect()
    message = await ws.receive_output(timeout=5)
    assert (message["type"], message["code"]) == ("websocket.close", CLOSE_MFA_REQUIRED)
    await ws.disconnect()

    await database_sync_to_async(TOTP.activate)(alice, generate_totp_secret())
    ws = WebsocketCommunicator(
        application,
        f"/ws/sessions/{session.pk}/status/",
        [(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    await ws.disconnect()


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_required")
def test_guessing_codes_is_rate_limited(client, alice, alices_secret):
    """Five wrong codes (allauth's login_failed limit, per user): then even the right one fails."""
    password_login(client, alice.email)
    right = totp_now(alices_secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert client.post(MFA_CODE_URL, {"code": wrong}).status_code == 200
    refused = client.post(MFA_CODE_URL, {"code": right})
    assert refused.status_code == 200
    assert b"Too many" in refused.content
    assert client.get("/")["Location"].startswith(LOGIN_URL)
