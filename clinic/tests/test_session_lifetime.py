"""Sessions end after inactivity (SESSION_IDLE_TIMEOUT) and after SESSION_COOKIE_AGE however
busy; a user signs out every other session of theirs from the Sessions page."""

import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from clinic.middleware import LAST_SEEN_KEY, SIGNED_IN_KEY
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("account_login")


def sign_in(client, user):
    response = client.post(LOGIN_URL, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def shift_session(client, key, seconds_ago):
    session = client.session
    session[key] = int(time.time()) - seconds_ago
    session.save()


def test_an_idle_session_ends(client, settings, alice):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    sign_in(client, alice)
    shift_session(client, LAST_SEEN_KEY, 31 * 60)

    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next=/patients/"
    # Signed out for good, not only redirected once.
    assert client.get("/")["Location"].startswith(LOGIN_URL)


def test_a_session_in_use_stays_and_its_expiry_follows_the_last_request(client, settings, alice):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    sign_in(client, alice)
    shift_session(client, LAST_SEEN_KEY, 29 * 60)

    assert client.get("/").status_code == 200
    assert abs(client.session[LAST_SEEN_KEY] - time.time()) < 5
    # The stored session dies with inactivity too (websockets, a copied cookie).
    row = Session.objects.get(session_key=client.session.session_key)
    assert abs(row.expire_date.timestamp() - (time.time() + 30 * 60)) < 10


def test_a_busy_session_still_ends_after_the_cookie_age(client, settings, alice):
    settings.SESSION_IDLE_TIMEOUT = 30 * 60
    settings.SESSION_COOKIE_AGE = 8 * 3600
    sign_in(client, alice)
    shift_session(client, SIGNED_IN_KEY, 8 * 3600 + 1)
    assert client.get("/")["Location"].startswith(LOGIN_URL)


def test_zero_turns_the_idle_limit_off(client, settings, alice):
    settings.SESSION_IDLE_TIMEOUT = 0
    sign_in(client, alice)
    shift_session(client, LAST_SEEN_KEY, 10 * 3600)
    assert client.get("/").status_code == 200


def test_signing_out_every_other_session(client, alice, bob):
    laptop, phone, bobs = client, Client(), Client()
    sign_in(laptop, alice)
    sign_in(phone, alice)
    sign_in(bobs, bob)

    page = laptop.get(reverse("usersessions_list"))
    assert page.status_code == 200
    assert laptop.post(reverse("usersessions_list")).status_code == 302

    assert phone.get("/")["Location"].startswith(LOGIN_URL)
    assert laptop.get("/").status_code == 200  # the session that asked stays
    assert bobs.get("/").status_code == 200  # nobody else's
