"""allauth in the site layout: email login, errors, rate limit, password reset/change, TOTP."""

import re
import time

import pytest
import redis
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from clinic.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def forget_rate_limits():
    """Delete allauth's attempt counters only: the same Redis database holds the task queue."""
    with redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]) as client:
        keys = list(client.scan_iter(match=cache.make_key("allauth:rl:*")))
        if keys:
            client.delete(*keys)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth counts attempts in the cache (Redis): each test starts with none.
    forget_rate_limits()
    yield
    forget_rate_limits()


def current_code(secret):

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def login(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def open_totp_activation(client):
    """allauth asks for the password again before adding an authenticator; answer it."""
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert client.get(response.url).status_code == 200  # the reauthentication page renders
    again = client.post(response.url, {"password": PASSWORD})
    assert again.status_code == 302
    return client.get(reverse("mfa_activate_totp"))


def test_the_login_page_uses_the_site_layout_and_offers_no_signup(client):
    body = client.get(reverse("account_login")).content.decode()
    assert 'class="skip-link"' in body
    assert "/static/css/app.css" in body
    assert "sign up" not in body.lower()


def test_it_logs_in_by_email_and_lands_on_the_dashboard(client, alice):
    response = login(client, "ALICE@north.test")
    assert response.status_code == 302
    assert response.url == reverse("clinic:dashboard")
    assert client.get(reverse("clinic:dashboard")).status_code == 200


def test_a_wrong_password_re_renders_the_form_with_an_error(client, alice):
    response = login(client, "alice@north.test", "wrong password")
    assert response.status_code == 200
    body = response.content.decode()
    assert "not correct" in body
    assert 'name="login"' in body


def test_repeated_failures_eventually_answer_429(client, alice):
    statuses = [login(client, "alice@north.test", f"nope {i}").status_code for i in range(8)]
    assert statuses[0] == 200
    assert statuses[-1] == 429
    assert "Too many attempts" in login(client, "alice@north.test", "again").content.decode()


def test_signup_answers_closed(client):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert "Sign up is closed" in response.content.decode()
    client.post(reverse("account_signup"), {"email": "x@y.test", "password1": "a" * 12})

    assert not User.objects.filter(email="x@y.test").exists()


def test_logout_is_a_post_and_ends_the_session(client, alice):
    client.force_login(alice)
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get(reverse("clinic:dashboard")).status_code == 302


def test_password_reset_mails_a_link_that_sets_a_new_password(client, alice):
    response = client.post(reverse("account_reset_password"), {"email": "alice@north.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    new = "an entirely new passphrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": new, "password2": new},
    )
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_password_change_shows_field_errors_then_works(client, alice):
    login(client, "alice@north.test")
    url = reverse("account_change_password")
    bad = client.post(url, {"oldpassword": "wrong", "password1": "x", "password2": "y"})
    assert bad.status_code == 200
    assert "errorlist" in bad.content.decode() or "not correct" in bad.content.decode().lower()
    new = "another long passphrase 77"
    good = client.post(url, {"oldpassword": PASSWORD, "password1": new, "password2": new})
    assert good.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)


@pytest.mark.parametrize("persona", ["alice", "carol", "rita", "dave", "zoe"])
def test_totp_activation_is_reachable_for_every_role(client, persona, request):
    user = request.getfixturevalue(persona)
    login(client, user.email)
    response = open_totp_activation(client)
    assert response.status_code == 200
    assert "Authenticator" in response.content.decode()


def test_once_totp_is_active_login_asks_for_the_code(client, alice):
    login(client, "alice@north.test")
    open_totp_activation(client)
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)})
    assert response.status_code == 302
    assert alice.authenticator_set.filter(type="totp").exists()

    client.post(reverse("account_logout"))
    response = login(client, "alice@north.test")
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert client.get(reverse("clinic:dashboard")).status_code == 302  # not logged in yet
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    done = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert done.status_code == 302
    assert client.get(reverse("clinic:dashboard")).status_code == 200


def test_the_two_factor_pages_use_the_site_layout(client, alice):
    login(client, "alice@north.test")
    body = client.get(reverse("mfa_index")).content.decode()
    assert 'class="skip-link"' in body
    assert "Authenticator App" in body
