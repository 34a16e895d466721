"""Settings shared by every environment.

Everything comes from environment variables (django-environ). With no environment at all the
application runs on its embedded defaults: SQLite, the in-memory channel layer, the locmem cache
and Celery tasks run in-process. `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis.
Every variable is listed in README.md.
"""

from pathlib import Path

from .database import *  # noqa: F403 - DATABASES, connection pool, prepared statements, JIT
from .environment import BASE_DIR, VAR_DIR, env
from .rendered import *  # noqa: F403 - dashboards, charts, reports kept rendered
from .security import *  # noqa: F403 - authentication, allauth, sessions and cookies, CSP

# GENERAL
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env("SECRET_KEY", default="insecure-embedded-default-change-me-" + "x" * 24)
# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
TIME_ZONE = env("TIME_ZONE", default="Europe/Brussels")
# British English formats (dates "4 Mar 2026", input "04/03/2026") from Django's en_GB locale.
# The site has one language and Django's and allauth's en_GB catalogs translate nothing, so the
# translation machinery is off: it looked up the active language (a context-local) for every
# date, number and form field rendered, 10-20 % of a page's CPU (issue 17). Same text.
LANGUAGE_CODE = "en-gb"
USE_I18N = False
USE_TZ = True
SITE_ID = 1
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# The secret key of the researchers' pseudonyms (HMAC-SHA256 of each patient's id, docs/exports.md).
# Empty: derived from SECRET_KEY. Set it in production and keep it: a new key (or, unset, a new
# SECRET_KEY) gives every patient a new pseudonym, so exports no longer link across time.
RESEARCH_PSEUDONYM_KEY = env("RESEARCH_PSEUDONYM_KEY", default="")

# APPS
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "django.contrib.postgres",  # pg_trgm for the patient search; inert on SQLite
]
THIRD_PARTY_APPS = [
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Each login's session (browser, address, time), listed on the account's Sessions page,
    # where the user signs out every other session at once.
    "allauth.usersessions",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "channels",
    "pgtrigger",
]
LOCAL_APPS = [
    "clinic",
    "patients",
    "sessions.apps.TherapySessionsConfig",
    "analysis",
    "reports",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# AUTHENTICATION AND SECURITY: config/settings/security.py (the user model, backends, allauth,
# two-factor, sessions and cookies, the Content Security Policy)

# MIDDLEWARE
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clinic.middleware.NoStoreForStaffMiddleware",
    "clinic.middleware.AuditUnavailableMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "clinic.middleware.MfaRequiredMiddleware",
    # Puts the signed-in user on django-auditlog's entries (who changed what).
    "auditlog.middleware.AuditlogMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

# TEMPLATES
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.access",
            ],
        },
    },
]

# STATIC AND PRIVATE FILES
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
# Recordings live in "private" storage: it has no public URL; downloads go through views that
# check access and write an audit entry. With AWS_STORAGE_BUCKET_NAME set, S3-compatible object
# storage (django-storages) replaces the local folder so that several machines share it.
STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    PRIVATE_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "location": "private",
        },
    }
else:
    PRIVATE_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(MEDIA_ROOT) / "private"), "base_url": None},
    }
STORAGES = {
    "default": PRIVATE_STORAGE,
    "private": PRIVATE_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Upload limit for one recording (bytes); the request body limit follows it.
RECORDING_MAX_UPLOAD_BYTES = env.int("RECORDING_MAX_UPLOAD_MB", default=50) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# REDIS, CACHE, CHANNEL LAYER, CELERY
# ------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    # Django's Redis backend keeping its redis-py client (config/redis_cache.py): a new
    # client per operation cost as much CPU as the round trip.
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCache",  # Django's, keeping its client
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "myoclinic",
        }
    }
    # Pub/sub layer: measured to deliver every frame up to CPU saturation, where the default
    # list-based core layer silently dropped 10-55 % of frames (../shared/TESTING.md).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "myoclinic"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Without a broker, tasks run in-process so the embedded application works on its own.
CELERY_TASK_ALWAYS_EAGER = not bool(REDIS_URL) and env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=True
)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

# EMAIL
# ------------------------------------------------------------------------------
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Myoclinic <no-reply@myoclinic.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# EMERGENCY ACCESS (break-the-glass, patients.EmergencyAccess)
# ------------------------------------------------------------------------------
# How long a therapist's emergency access to a patient not assigned to them lasts (hours).
EMERGENCY_ACCESS_HOURS = env.float("EMERGENCY_ACCESS_HOURS", default=4.0)

# ADMIN
# ------------------------------------------------------------------------------
ADMIN_URL = env("ADMIN_URL", default="admin/")

# DJANGO REST FRAMEWORK
# ------------------------------------------------------------------------------
# REST API (docs/api.md): personal tokens for machines, the session for the browser.
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clinic.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["clinic.api.base.ApiModelPermissions"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "clinic.api.base.Pagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "clinic.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "user": env("API_THROTTLE_USER", default="3000/minute"),
        # POST /api/v1/analyze/ (a C3D read in a child process per request), per user.
        "analyze": env("API_THROTTLE_ANALYZE", default="10/minute"),
    },
    # Throttles key on the address our own proxies added, like the login rate limits.
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Invalid API tokens allowed per client address and minute before 429 (clinic/api/auth.py).
API_TOKEN_FAILURES_PER_MINUTE = env.int("API_TOKEN_FAILURES_PER_MINUTE", default=20)
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "Myoclinic API",
    "DESCRIPTION": (
        "Clinical records and EMG analysis for biofeedback rehabilitation. Authenticate with a "
        "personal API token (`Authorization: Token <token>`, created on the account page or "
        "with `manage.py create_api_token`). Errors: `{detail, code, errors}`; see docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI from the installed drf-spectacular-sidecar assets: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RecordingStatusEnum": "sessions.models.Recording.Status",
        "RecordingSourceEnum": "sessions.models.Recording.Source",
    },
}

# ANALYSIS
# ------------------------------------------------------------------------------
# Limits of the isolated C3D reader (a child process per file).
C3D_READER_MAX_MEMORY_MB = env.int("C3D_READER_MAX_MEMORY_MB", default=1024)
C3D_READER_TIMEOUT_S = env.float("C3D_READER_TIMEOUT_S", default=20.0)

# RECORDING PIPELINE (sessions/uploads.py, analysis/pipeline/, analysis/tasks.py)
# ------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late
# A recording whose analysis was claimed this many times without finishing (the worker was
# killed or timed out each time) ends `failed` instead of being redelivered forever.
# Live streams (docs/live-protocol.md, docs/live-deployment.md). The spool must be shared by
# every Daphne process a device may reconnect to (or route a session's device to one process).
LIVE_SPOOL_DIR = env("LIVE_SPOOL_DIR", default=str(Path(MEDIA_ROOT) / "live-spool"))
LIVE_INGEST_TOKEN_MAX_AGE_S = env.int("LIVE_INGEST_TOKEN_MAX_AGE_S", default=4 * 3600)
LIVE_IDLE_TIMEOUT_S = env.float("LIVE_IDLE_TIMEOUT_S", default=30.0)
LIVE_RESUME_GRACE_S = env.float("LIVE_RESUME_GRACE_S", default=60.0)
LIVE_DEVICE_LEASE_S = env.int("LIVE_DEVICE_LEASE_S", default=20)
LIVE_SYNC_EVERY_S = env.float("LIVE_SYNC_EVERY_S", default=1.0)
LIVE_MAX_FRAME_BYTES = env.int("LIVE_MAX_FRAME_BYTES", default=256 * 1024)
LIVE_VIEWER_QUEUE = env.int("LIVE_VIEWER_QUEUE", default=100)
LIVE_VIEWER_WINDOW = env.int("LIVE_VIEWER_WINDOW", default=40)
# The live page offers "replay a stored recording live" (the demo: no device needed).
LIVE_DEMO_REPLAY = env.bool("LIVE_DEMO_REPLAY", default=False)

RECORDING_MAX_ATTEMPTS = env.int("RECORDING_MAX_ATTEMPTS", default=3)
# Hard and soft time limits of one analysis task (seconds).
RECORDING_TASK_TIME_LIMIT_S = env.int("RECORDING_TASK_TIME_LIMIT_S", default=180)
RECORDING_TASK_SOFT_TIME_LIMIT_S = env.int("RECORDING_TASK_SOFT_TIME_LIMIT_S", default=150)
# The sweeper re-enqueues a recording pending this long since it was last enqueued (the
# broker was down at upload time), or processing longer than the hard limit plus this margin.
RECORDING_PENDING_STUCK_AFTER_S = env.int("RECORDING_PENDING_STUCK_AFTER_S", default=60)
RECORDING_PROCESSING_STUCK_MARGIN_S = env.int("RECORDING_PROCESSING_STUCK_MARGIN_S", default=60)
# Stateless analysis (nothing stored): a shorter limit, since someone waits for the answer.
STATELESS_ANALYSIS_TIMEOUT_S = env.float("STATELESS_ANALYSIS_TIMEOUT_S", default=20.0)
# https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-recordings": {
        "task": "analysis.tasks.requeue_stuck_recordings",
        "schedule": env.float("RECORDING_SWEEP_EVERY_S", default=60.0),
    },
    "stop-abandoned-live-streams": {
        "task": "analysis.tasks.stop_abandoned_live_streams",
        "schedule": env.float("RECORDING_SWEEP_EVERY_S", default=60.0),
    },
}

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every rendering step at INFO (and parses CSS at import): noise.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# AUDIT: django-auditlog keeps the history of the models the apps register, not of every model
AUDITLOG_INCLUDE_ALL_MODELS = False
