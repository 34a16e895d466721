"""The admin's "View on site" leads to the site named by SITE_URL, not example.com (issue 16)."""

from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.urls import reverse

from clinic.sites import sync_site_domain

pytestmark = pytest.mark.django_db


def test_the_current_site_takes_its_domain_from_site_url(settings):
    Site.objects.clear_cache()
    site = Site.objects.get_current()
    assert site.domain == urlsplit(settings.SITE_URL).netloc
    assert site.domain != "example.com"
    assert site.name == "Myoclinic"


def test_a_new_site_url_is_written_at_the_next_migrate(settings):
    settings.SITE_URL = "https://myoclinic.example.org"
    sync_site_domain(sender=None, apps=apps)
    Site.objects.clear_cache()
    assert Site.objects.get_current().domain == "myoclinic.example.org"


def test_view_on_site_opens_the_patient_page_on_our_domain(client, settings, zoe, alices_patient):
    Site.objects.clear_cache()
    client.force_login(zoe)
    change = client.get(reverse("admin:patients_patient_change", args=[alices_patient.pk]))
    content_type = ContentType.objects.get_for_model(alices_patient)
    link = reverse("admin:view_on_site", args=[content_type.pk, alices_patient.pk])
    assert link in change.content.decode()
    answer = client.get(link)
    assert answer.status_code == 302
    domain = urlsplit(settings.SITE_URL).netloc
    assert answer["Location"] == f"http://{domain}/patients/{alices_patient.pk}/"
    assert "example.com" not in answer["Location"]
