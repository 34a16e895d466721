"""Personal API tokens: hashed, named, expiring, revocable; the account page and the command."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from analysis.tests.support import forget_token_failures
from clinic.models import ApiToken
from clinic.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db
THERAPISTS = "/api/v1/therapists/"


@pytest.fixture(autouse=True)
def _fresh_failures():
    forget_token_failures()
    yield
    forget_token_failures()


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_only_the_hash_is_stored_and_the_token_acts_as_its_user(alice, bob):
    row, key = api_token_create(user=alice, name="Ward tablet", expires_days=30)
    stored = ApiToken.objects.get(pk=row.pk)
    assert key not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert stored.prefix == key[:8]
    assert len(key) >= 40
    response = token_client(key).get(THERAPISTS)
    assert response.status_code == 200
    assert {t["email"] for t in response.json()["results"]} == {alice.email, bob.email}
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda row: ApiToken.objects.filter(pk=row.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        ),
        lambda row: api_token_revoke(user=row.user, token_id=row.pk),
        lambda row: type(row.user).objects.filter(pk=row.user_id).update(is_active=False),
    ],
    ids=["expired", "revoked", "inactive-user"],
)
def test_expired_revoked_or_inactive_tokens_answer_401(alice, spoil):
    row, key = api_token_create(user=alice, name="t")
    assert token_client(key).get(THERAPISTS).status_code == 200
    spoil(row)
    response = token_client(key).get(THERAPISTS)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid, expired or revoked token.",
        "code": "authentication_failed",
    }
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    "header", ["Token", "Token a b", "Token not-a-token", "Token " + "x" * 500, "Token é"]
)
def test_malformed_or_unknown_tokens_answer_401(alice, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
    assert client.get(THERAPISTS).status_code == 401


def test_anonymous_answers_401():
    assert APIClient().get(THERAPISTS).status_code == 401


def test_guessing_tokens_is_rate_limited_per_address(alice, settings):
    settings.API_TOKEN_FAILURES_PER_MINUTE = 3
    _, key = api_token_create(user=alice, name="t")
    for _ in range(3):
        assert token_client("wrong-token").get(THERAPISTS).status_code == 401
    blocked = token_client("wrong-token").get(THERAPISTS)
    assert blocked.status_code == 429
    assert 0 < int(blocked["Retry-After"]) <= 60
    assert blocked.json()["code"] == "throttled"
    # Even the right token waits: the address is blocked, not the token.
    assert token_client(key).get(THERAPISTS).status_code == 429
    # Another address is not.
    other = token_client(key)
    assert other.get(THERAPISTS, REMOTE_ADDR="10.9.8.7").status_code == 200


def test_revoking_needs_the_owner(alice, bob):
    row, _ = api_token_create(user=alice, name="t")
    with pytest.raises(ApiToken.DoesNotExist):
        api_token_revoke(user=bob, token_id=row.pk)
    row.refresh_from_db()
    assert row.revoked_at is None


def test_account_page_creates_shows_once_lists_and_revokes(client, alice, bob):
    api_token_create(user=bob, name="Bob's own")
    client.force_login(alice)
    url = reverse("clinic:api_tokens")
    page = client.post(url, {"name": "Ward 3 tablet", "expires_days": "30"})
    assert page.status_code == 200
    key = page.context["new_token"]
    assert key
    assert key in page.content.decode()
    assert token_client(key).get(THERAPISTS).status_code == 200
    listing = client.get(url).content.decode()
    assert "Ward 3 tablet" in listing
    assert key not in listing
    assert "Bob&#x27;s own" not in listing
    row = ApiToken.objects.get(user=alice)
    assert client.post(url, {"revoke": row.pk}).status_code == 302
    assert token_client(key).get(THERAPISTS).status_code == 401
    # Bob's token is not Alice's to revoke.
    bobs = ApiToken.objects.get(user=bob)
    assert client.post(url, {"revoke": bobs.pk}).status_code == 404
    assert client.post(url, {"revoke": "x"}).status_code == 404
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    # A name is required.
    assert client.post(url, {"name": " "}).context["form"].errors


def test_command_prints_the_token_once_as_its_last_line(alice):
    out = StringIO()
    call_command(
        "create_api_token",
        "--email",
        "ALICE@north.test",
        "--name",
        "HIS",
        "--expires-days",
        "7",
        stdout=out,
    )
    key = out.getvalue().strip().splitlines()[-1]
    row = ApiToken.objects.get(user=alice)
    assert row.name == "HIS"
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert timedelta(days=6, hours=23) < row.expires_at - timezone.now() <= timedelta(days=7)
    assert token_client(key).get(THERAPISTS).status_code == 200
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "--email", "nobody@x.test", "--name", "n")
    with pytest.raises(CommandError):
        call_command(
            "create_api_token", "--email", alice.email, "--name", "n", "--expires-days", "0"
        )


def test_the_browser_session_needs_csrf_for_writes_a_token_does_not(alice):
    body = {"code": "C1", "first_name": "Cora", "last_name": "Csrf"}
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get("/api/v1/patients/").status_code == 200
    refused = browser.post("/api/v1/patients/", body, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    _, key = api_token_create(user=alice, name="t")
    machine = APIClient(enforce_csrf_checks=True)
    machine.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert machine.post("/api/v1/patients/", body, format="json").status_code == 201
