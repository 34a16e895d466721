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
