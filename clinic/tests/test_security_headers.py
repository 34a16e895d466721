"""Security headers: CSP with nonces and no 'unsafe-inline', frame denial, referrer policy,
nosniff, HSTS in production; templates hold nothing the CSP would have to allow inline."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from conftest import REPO_ROOT

TEMPLATES = REPO_ROOT / "templates"
# Inline code or style: a script without src, a style element or attribute, an on* handler,
# a javascript: URL.
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_hold_no_inline_script_style_or_handler():
    found = [
        f"{path.relative_to(REPO_ROOT)}: {what}"
        for path in TEMPLATES.rglob("*.html")
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert found == []


def test_our_script_tags_carry_the_nonce():
    tags = [
        tag
        for path in TEMPLATES.rglob("*.html")
        for tag in re.findall(r"<script[^>]*>", path.read_text())
    ]
    assert tags  # the session page's scripts at least
    assert all('nonce="{{ request.csp_nonce }}"' in tag for tag in tags)


@pytest.mark.django_db
def test_pages_send_the_security_headers(client, alice, alices_patient, session_of):
    session = session_of(alices_patient)
    client.force_login(alice)
    response = client.get(f"/sessions/{session.pk}/")
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert "unsafe-inline" not in policy
    assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9+/=]+'", directives["script-src"])
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    # The nonce of the header is the one the page's scripts carry, new for every response.
    nonce = directives["script-src"].split("'nonce-")[1].rstrip("'")
    assert f'nonce="{nonce}"' in response.content.decode()
    assert nonce not in client.get(f"/sessions/{session.pk}/")["Content-Security-Policy"]


@pytest.mark.django_db
def test_hsts_is_sent_over_https_with_the_production_values(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_settings_pass_check_deploy():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "p" * 20 + os.urandom(24).hex(),
        "ALLOWED_HOSTS": "myoclinic.example.org",
    }
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(REPO_ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert django_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["frame-ancestors"] == ["'none'"]
