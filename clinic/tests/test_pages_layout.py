"""The base layout: landmarks, skip link, one stylesheet, logout as POST, no inline code."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_dashboard_has_landmarks_skip_link_and_one_local_stylesheet(client, alice):
    client.force_login(alice)
    body = client.get(reverse("clinic:dashboard")).content.decode()
    assert '<a class="skip-link" href="#main">' in body
    assert '<main id="main"' in body
    assert 'aria-label="Main"' in body
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', body) == ["/static/css/app.css"]
    assert "http://" not in body
    assert "https://" not in body


def test_it_logs_out_through_a_post_form_only(client, alice):
    client.force_login(alice)
    body = client.get(reverse("clinic:dashboard")).content.decode()
    assert re.search(r'<form method="post" action="/accounts/logout/"', body)


def test_pages_carry_no_inline_scripts_or_styles(client, carol, alices_patient):
    # CSP is script-src/style-src 'self': an inline script or style= would be blocked silently.
    client.force_login(carol)
    for url in [
        reverse("clinic:dashboard"),
        reverse("patients:list"),
        reverse("patients:detail", args=[alices_patient.pk]),
        reverse("patients:edit", args=[alices_patient.pk]),
        reverse("account_login"),
        reverse("mfa_index"),
    ]:
        body = client.get(url).content.decode()
        assert " style=" not in body, url
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", body), url
        assert "<style" not in body, url


def test_the_admin_link_shows_for_staff_users_only(client, alice, zoe):
    client.force_login(alice)
    assert reverse("admin:index") not in client.get(reverse("clinic:dashboard")).content.decode()
    client.force_login(zoe)
    assert reverse("admin:index") in client.get(reverse("clinic:dashboard")).content.decode()


def test_the_stylesheet_is_served_from_static(client):

    path = finders.find("css/app.css")
    assert path is not None
    css = open(path, encoding="utf-8").read()
    assert "@media print" in css
    assert ":focus-visible" in css


def test_pages_are_served_under_the_strict_content_security_policy(client, alice):
    client.force_login(alice)
    policy = client.get(reverse("patients:list"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
