"""Who may sign in, how, and for how long, and what the browser is told to allow.

Authentication (the user model, backends, password rules), django-allauth (email login, rate
limits, TOTP and when it is required), the session and cookie rules and the Content Security
Policy, in one place for whoever reviews the site's security. Part of ``base`` (imported there);
``production`` makes the cookies secure and adds HSTS and the TLS redirect on top.
"""

from csp.constants import NONCE

from .environment import env

# AUTHENTICATION
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/auth/customizing/
AUTH_USER_MODEL = "clinic.User"
AUTHENTICATION_BACKENDS = [
    # Permissions and group names in one query per request; authenticates nobody.
    "clinic.backends.RolePermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "clinic:dashboard"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: email login, no public signup, TOTP for everyone
# https://docs.allauth.org/en/latest/account/configuration.html
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "clinic.adapters.ClinicAccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PREVENT_ENUMERATION = True
# Rate limits are enforced by allauth through the cache (Redis when configured), for the site and
# for the admin, whose login view is routed through allauth's.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("LOGIN_RATE_LIMIT", default="10/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
}
# The per-address limits key on the client address. Behind N reverse proxies, the address is the
# one the outermost of *ours* appended to X-Forwarded-For (the N-th from the right); anything to
# its left is whatever the client sent. Daphne therefore runs without --proxy-headers (which takes
# the leftmost, spoofable, value). 0 = no proxy: the socket's address.
# https://docs.allauth.org/en/latest/common/configuration.html
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Myoclinic"
MFA_ADAPTER = "clinic.adapters.ClinicMFAAdapter"
# Every account must set up TOTP before anything else (clinic.middleware.MfaRequiredMiddleware,
# pages, API, admin and websockets). On in production settings; off here for the demo.
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=False)

# SESSIONS, COOKIES, BROWSER
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# The longest a session lives however busy (seconds), and the inactivity after which it ends
# (clinic.middleware.IdleTimeoutMiddleware; 0 = no idle limit).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
# django-csp 4: everything from our own origin, and our scripts carry this response's nonce
# (`<script nonce="{{ request.csp_nonce }}" src=...>`); no 'unsafe-inline' anywhere, no inline
# script, style element, style attribute or event handler in templates/, no CDN.
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
