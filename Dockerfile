# syntax=docker/dockerfile:1
#
# Relève: one image for the web server (gunicorn), the Celery worker and Celery beat.
# Build: docker build -t releve .   (the services and their commands are in docker-compose.yml)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Shared libraries and fonts WeasyPrint needs to render the PDF reports.
# No gettext: the compiled .mo files are committed. No browser: Playwright is a test-only tool.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fontconfig \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged user the processes run as; the source tree stays owned by root (read-only to it).
RUN groupadd --system --gid 10001 releve \
    && useradd --system --uid 10001 --gid releve --create-home --home-dir /home/releve \
        --shell /usr/sbin/nologin releve

# Dependencies first, from pyproject.toml alone, so that this layer is rebuilt only when the pins
# change. The project declares no packages (it runs from its source tree): installing it installs
# the pinned dependencies only. Built out of /app so that no build/ or *.egg-info is left there.
COPY pyproject.toml /tmp/releve-src/
RUN pip install --no-cache-dir /tmp/releve-src && rm -rf /tmp/releve-src

WORKDIR /app
COPY . /app

# Static files (whitenoise serves them). The settings refuse to start without a SECRET_KEY when
# DEBUG is off: these values exist for this build step only, they are not in the image's
# environment. The database is not touched by collectstatic.
RUN DEBUG=false \
    SECRET_KEY=build-only-not-secret \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    python manage.py collectstatic --noinput

USER releve

EXPOSE 8000

# /healthz answers 200 when the database is up, 503 otherwise (urlopen raises on both a 5xx and a
# refused connection). slim has no curl. X-Forwarded-Proto keeps SECURE_SSL_REDIRECT from sending
# the probe to https:// when the settings trust that header (they must, behind the TLS proxy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'X-Forwarded-Proto': 'https'}), timeout=3)"]

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
