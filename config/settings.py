"""Relève settings: one module, every value read from the environment.

Embedded defaults are for development (`make run`): SQLite, a filesystem Celery broker, email
printed to the console. Production sets DEBUG=false, SECRET_KEY, DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Not django.contrib.sites: its label would clash with our `sites` app.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "simple_history",
    "dsfr",
    "widget_tweaks",
    # Ours, in the order imports flow.
    "accounts",
    "sites",
    "volunteers",
    "vacations",
    "continuity",
    "feedback",
    "reports",
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.replica.ReplicaPinMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.nul.RejectNulMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "accounts.middleware.MFARequiredMiddleware",
]

ROOT_URLCONF = "config.urls"
# A refused form (CSRF) gets the site's 403 page, in the user's language, with a way back.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker, beat and web server share the embedded database: wait for locks instead of
    # failing at once, and let WAL allow readers during a write.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# An optional read replica for dashboards, reports and exports (config/replica.py).
# `DATABASE_REPLICA_URL=mirror` (the tests' setting, pyproject) makes it the default database's
# test mirror: the same connection settings, Django's TEST MIRROR.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL == "mirror":
    DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
elif DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"].update(
        {key: DATABASES["default"][key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")
         if key in DATABASES["default"]}
    )  # fmt: skip
DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
# The deployed release (e.g. the git commit): what the API schema is cached by (config/schema.py).
RELEVE_RELEASE = env.str("RELEVE_RELEASE", default="")
# After a change, a user reads the primary this long (seconds): longer than the replica's lag.
RELEVE_REPLICA_PIN_SECONDS = env.int("RELEVE_REPLICA_PIN_SECONDS", default=30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits live here: it must be shared by every process) ----------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    # Object permissions: each app's `rules.py` (asked through `accounts.permissions`).
    "rules.permissions.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str(
    "ACCOUNT_EMAIL_VERIFICATION", default="optional" if DEBUG else "mandatory"
)
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# A doctor who just created an account goes straight on to the (short) volunteer profile.
ACCOUNT_SIGNUP_REDIRECT_URL = "volunteer_profile"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Relève] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Failed sign-ins, counted by `accounts.adapter` for the login page and the API token endpoint
# alike, per account and per address separately: an account is locked after 5 failures in 5
# minutes (even for the right password); an address after 60 failures in 5 minutes, whatever
# the accounts (a spray); the attempts an account's lock refuses don't count against the
# address, so 30 wrong passwords on one account don't lock its colleagues behind the same NAT
# out. `login` bounds every sign-in POST of the page per address (high enough for a NAT).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/key",
    "login_failed_address": "60/5m/ip",
    "login": "120/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Relève"
# Roles that handle health data or validate others must use a second factor.
RELEVE_MFA_REQUIRED_ROLES = (
    "national_manager",
    "ars_manager",
    "territory_manager",
    "course_nurse",
    "medical_assistant",
)
RELEVE_ENFORCE_MFA = env.bool("RELEVE_ENFORCE_MFA", default=not DEBUG)
# How long an API token lives (accounts.ApiToken); a new one is asked for after that.
RELEVE_TOKEN_TTL = timedelta(days=env.int("RELEVE_TOKEN_TTL_DAYS", default=90))
if RELEVE_TOKEN_TTL.days < 1:
    raise ImproperlyConfigured("RELEVE_TOKEN_TTL_DAYS must be at least 1.")

# --- Who runs this instance (the footer's legal pages, config/pages.py) --------------------
# Empty values show a placeholder naming the setting: each instance states its own operator.
RELEVE_OPERATOR_NAME = env.str("RELEVE_OPERATOR_NAME", default="")
RELEVE_OPERATOR_ADDRESS = env.str("RELEVE_OPERATOR_ADDRESS", default="")
RELEVE_PUBLICATION_DIRECTOR = env.str("RELEVE_PUBLICATION_DIRECTOR", default="")
RELEVE_HOST_NAME = env.str("RELEVE_HOST_NAME", default="")
RELEVE_HOST_ADDRESS = env.str("RELEVE_HOST_ADDRESS", default="")
RELEVE_CONTACT_EMAIL = env.str("RELEVE_CONTACT_EMAIL", default="")
RELEVE_DPO_EMAIL = env.str("RELEVE_DPO_EMAIL", default="")
# How long personal data is kept (the personal data page states it).
RELEVE_RETENTION_ACCOUNT_MONTHS = env.int("RELEVE_RETENTION_ACCOUNT_MONTHS", default=36)
RELEVE_RETENTION_FOLLOW_UP_MONTHS = env.int("RELEVE_RETENTION_FOLLOW_UP_MONTHS", default=12)
# RGAA compliance: "non" until an audit says otherwise ("partial" or "full", with its rate,
# e.g. "75 %").
RELEVE_ACCESSIBILITY_STATUS = env.str("RELEVE_ACCESSIBILITY_STATUS", default="non")
RELEVE_ACCESSIBILITY_RATE = env.str("RELEVE_ACCESSIBILITY_RATE", default="")
RELEVE_ACCESSIBILITY_DECLARED_ON = date.fromisoformat(
    env.str("RELEVE_ACCESSIBILITY_DECLARED_ON", default="2026-12-03")
)
if RELEVE_ACCESSIBILITY_STATUS not in ("non", "partial", "full"):
    raise ImproperlyConfigured("RELEVE_ACCESSIBILITY_STATUS must be non, partial or full.")

# --- Email ----------------------------------------------------------------------------------
# Development prints messages (console) or keeps them as files under var/mail
# (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend); docker-compose has Mailpit.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
# Seconds each SMTP step may take: a send that hangs fails instead of outliving its lease.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
if "EMAIL_URL" in env:
    _email = env.email_url("EMAIL_URL")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = _email.get("EMAIL_PORT", 25)
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
    EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH", EMAIL_FILE_PATH)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Relève <ne-pas-repondre@releve.localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A worker's claim on a message it is sending (accounts.delivery.deliver): past this, a
# worker that died mid-send is presumed dead and the message is sent again. It must outlast the
# longest send (a few SMTP steps of EMAIL_TIMEOUT each), or a slow send would go out twice.
RELEVE_NOTIFICATION_LEASE = timedelta(
    seconds=env.int("RELEVE_NOTIFICATION_LEASE_SECONDS", default=600)
)
if RELEVE_NOTIFICATION_LEASE.total_seconds() < 3 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        "RELEVE_NOTIFICATION_LEASE_SECONDS must be at least 3 × EMAIL_TIMEOUT."
    )

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Paris"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = BASE_DIR / "var" / "media"

# --- Security (production values whenever DEBUG is off) -------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): our own origin only, no inline script or style (the
# pages' scripts and styles are static files; the API docs relax styles for themselves).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# A pasted document bigger than any field allows must reach the form or serializer, which
# names the field in its error, instead of being cut off with a bare 400 page.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call answers 401 with a WWW-Authenticate header.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "config.nul.JSONParser",
        "config.nul.FormParser",
        "config.nul.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Relève API",
    "DESCRIPTION": "Coordination of volunteer GPs' days in priority territories (API v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Two "status" fields share no values with the others: name their enums (schema warning W001).
    "ENUM_NAME_OVERRIDES": {
        "LegStatusEnum": "continuity.models.ExamLeg.Status",
        "IncidentStatusEnum": "feedback.models.Incident.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.document_errors",
    ],
}

# --- Celery ---------------------------------------------------------------------------------
# Production: Redis. Embedded default: kombu's filesystem transport, which needs no server and
# still runs a real worker and beat (messages are files under var/celery/).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")
CELERY_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "celery")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # A task a dead worker had taken (acks_late) is given to another one after this many
    # seconds; the message it was sending is re-claimed only once its lease is over.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one registry of periodic jobs (also run by `manage.py run_job <name>`); times in Paris.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "accounts.tasks.heartbeat", "schedule": 300.0},
    "requeue_notifications": {"task": "accounts.tasks.requeue_notifications", "schedule": 300.0},
    "vacation_reminders": {
        "task": "vacations.tasks.vacation_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    "call_for_volunteers": {
        "task": "vacations.tasks.call_for_volunteers",
        "schedule": crontab(hour=9, minute=0),
    },
    "monthly_statements": {
        "task": "vacations.tasks.monthly_statements",
        "schedule": crontab(day_of_month=1, hour=8, minute=0),
    },
    # Each side of a done day asked for its feedback, then reminded once (feedback.services).
    "feedback_requests": {
        "task": "feedback.tasks.feedback_requests",
        "schedule": crontab(minute="*/15"),
    },
    "overdue_exams": {"task": "continuity.tasks.overdue_exams", "schedule": crontab(minute=5)},
    "escalate_tasks": {
        "task": "continuity.tasks.escalate_tasks",
        "schedule": crontab(minute="*/15"),
    },
    "weekly_digest": {
        "task": "reports.tasks.weekly_digest",
        "schedule": crontab(day_of_week=1, hour=8, minute=0),
    },
    "monthly_summary": {
        "task": "reports.tasks.monthly_summary",
        "schedule": crontab(day_of_month=1, hour=7, minute=0),
    },
}

# --- Relève rules ---------------------------------------------------------------------------
RELEVE_MAX_DAYS_PER_MONTH = 2
RELEVE_DAY_INDEMNITY = "200.00"
RELEVE_HALF_DAY_INDEMNITY = "100.00"
# Travel by car is refunded per kilometre (round trip, as the volunteer enters it) at this rate,
# in euros: the tax administration's mileage scale for a 5 CV car (0.636 EUR/km in 2025) is the
# usual reference; the ARS may set its own. Read when the expense is entered (its amount is
# stored): changing the rate never changes an expense already entered.
RELEVE_KM_RATE = env("RELEVE_KM_RATE", default="0.636")
# A period's usual hours (Paris time): the start is when a volunteer is expected unless the
# day's preparation sets the arrival time (the reminders tell it); the calendar feeds show both.
# (Host sites' sheets hold no opening hours yet: these are everyone's.)
RELEVE_USUAL_HOURS = {
    "day": ("08:30", "18:30"),
    "am": ("08:30", "12:30"),
    "pm": ("13:30", "18:30"),
}
# Continuity of care: days until a result is expected, per kind of exam.
RELEVE_EXAM_EXPECTED_DAYS = {
    "biology": 3,
    "imaging": 7,
    "pathology": 15,
    "ecg": 2,
    "specialist": 30,
    "other": 7,
}
# Follow-up task deadlines: an abnormal result within hours, a normal one within working days;
# after an escalation, the new assignee has this long before the next level.
RELEVE_TASK_URGENT_HOURS = 24
RELEVE_TASK_NORMAL_WORKING_DAYS = 3
RELEVE_ESCALATION_HOURS = {"urgent": 24, "normal": 72}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs each rendering step at INFO.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
