"""The admin has no login of its own: it is the site's rate-limited allauth login."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from conftest import PASSWORD


@pytest.fixture
def fresh_rate_limits():
    # Rate-limit counters live in the cache (Redis); start and end every test with none.
    cache.clear()
    yield
    cache.clear()


def test_the_admin_login_redirects_to_the_site_login(client):
    response = client.get(reverse("admin:login") + "?next=/admin/patients/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=%2Fadmin%2Fpatients%2F"


@pytest.mark.django_db
def test_a_staff_member_logs_in_through_the_site_and_reaches_the_admin(client, zoe):
    response = client.post(
        reverse("account_login") + "?next=/admin/",
        {"login": zoe.email, "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_five_failed_logins_for_one_account_are_rate_limited(client, zoe, fresh_rate_limits):
    login = reverse("account_login")
    for _ in range(5):
        response = client.post(login, {"login": zoe.email, "password": "wrong"})
        assert response.status_code == 200
    # Even the right password is refused now: the account is locked for a while.
    response = client.post(login, {"login": zoe.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_failed_logins_for_one_account_do_not_lock_another(client, zoe, carol, fresh_rate_limits):
    login = reverse("account_login")
    for _ in range(5):
        client.post(login, {"login": zoe.email, "password": "wrong"})
    response = client.post(login, {"login": carol.email, "password": PASSWORD})
    assert response.status_code == 302


def _fail_logins(client, count, *, forwarded_for):
    login = reverse("account_login")
    responses = []
    for i in range(count):
        # A different account each time: only the per-address limit (10/m/ip) can bite.
        responses.append(
            client.post(
                login,
                {"login": f"nobody{i}@example.org", "password": "wrong"},
                HTTP_X_FORWARDED_FOR=forwarded_for(i),
            )
        )
    return responses


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_does_not_escape_the_address_limit(
    client, settings, fresh_rate_limits
):
    # Behind one proxy of ours: the client's own X-Forwarded-For values come first, the proxy
    # appends the address it saw. Rotating the spoofed part must not give fresh limits.
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    responses = _fail_logins(client, 11, forwarded_for=lambda i: f"198.51.100.{i}, 203.0.113.7")
    assert [r.status_code for r in responses[:10]] == [200] * 10
    assert responses[10].status_code == 429


@pytest.mark.django_db
def test_clients_behind_the_proxy_have_limits_of_their_own(client, settings, fresh_rate_limits):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    _fail_logins(client, 10, forwarded_for=lambda i: "203.0.113.7")
    # Another client address (as the proxy saw it) is not locked out by the first one's failures.
    other = _fail_logins(client, 1, forwarded_for=lambda i: "203.0.113.8")
    assert other[0].status_code == 200
