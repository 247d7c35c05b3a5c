"""Settings of the benchmark's server (gunicorn started by `manage.py bench`, never deployed).

The production settings, plus what the bench needs: the SQL query count of each response in an
`X-Bench-Queries` header, the floor view at `/bench/floor/` (its own URL configuration: the
floor exists only here), static files served without a collected manifest, and no second factor
asked (the bench's accounts have none enrolled; its sessions are opened directly).
"""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE, STORAGES

MIDDLEWARE = ["config.bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "config.bench.urls"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
RELEVE_ENFORCE_MFA = False
SECURE_SSL_REDIRECT = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
