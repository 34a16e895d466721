"""The sites framework's domain follows ``SITE_URL`` (issue 16).

The admin's "View on site" and allauth's emails build absolute links from the current Site;
left alone it says example.com. After every ``migrate`` the Site of ``SITE_ID`` takes the host
(and port) of ``SITE_URL``, and the name Myoclinic.
"""

from urllib.parse import urlsplit

from django.conf import settings

SITE_NAME = "Myoclinic"


def site_domain() -> str:
    """The host[:port] of ``SITE_URL`` ("127.0.0.1:8000" for the embedded default)."""
    return urlsplit(settings.SITE_URL).netloc or "localhost"


def sync_site_domain(sender, apps=None, using="default", **kwargs) -> None:
    """post_migrate: write ``SITE_URL``'s domain on the Site of ``SITE_ID``."""
    if apps is None:
        return
    try:
        site_model = apps.get_model("sites", "Site")
    except LookupError:
        return
    site_model.objects.using(using).update_or_create(
        pk=settings.SITE_ID, defaults={"domain": site_domain(), "name": SITE_NAME}
    )
