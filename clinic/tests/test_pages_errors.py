"""Friendly error pages in the site layout; the 500 page needs neither database nor request."""

import pytest
from django.template import engines
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_unknown_url_answers_the_friendly_404(client, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert 'href="#main"' in response.content.decode()


def test_a_missing_permission_answers_the_friendly_403(client, rita):
    client.force_login(rita)
    response = client.get(reverse("patients:create"))
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_the_500_page_renders_without_a_request_or_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        html = get_template("500.html").render()
    assert "Something went wrong" in html


def test_the_429_page_uses_the_layout():
    html = engines["django"].get_template("429.html").render({})
    assert "Too many attempts" in html
    assert 'class="skip-link"' in html


def test_an_expired_form_answers_the_friendly_csrf_page(alice):

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("patients:create"), {"code": "X"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
