from django.apps import AppConfig
from django.db.models.signals import post_migrate

from clinic.sites import sync_site_domain


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic and staff"

    def ready(self):
        # After django.contrib.sites has created its example.com row (INSTALLED_APPS order).
        post_migrate.connect(sync_site_domain, sender=self, dispatch_uid="clinic-site-domain")
