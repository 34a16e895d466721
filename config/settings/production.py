"""Production settings: everything secure by default; `manage.py check --deploy` passes.

Behind a TLS-terminating proxy set `SECURE_PROXY_SSL_HEADER_ENABLED=true` (it trusts
`X-Forwarded-Proto`); `SECURE_SSL_REDIRECT` can be turned off when the proxy redirects itself.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

DEBUG = False
if SECRET_KEY.startswith("insecure-") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random value of at least 50 characters.")

# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
if env.bool("SECURE_PROXY_SSL_HEADER_ENABLED", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}
# Two-factor authentication (TOTP) is required of every account.
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=True)
# `manage.py seed_demo` writes accounts with published passwords: never on a real deployment
# unless explicitly allowed (a demo server).
SEED_DEMO_ALLOWED = env.bool("SEED_DEMO_ALLOWED", default=False)
