# Myoclinic: one image for the web (Daphne), the Celery worker and Celery beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    NUMBA_CACHE_DIR=/app/.numba-cache

# WeasyPrint needs Pango, HarfBuzz and a font; nothing else comes from Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 1000 myoclinic \
    && useradd --system --uid 1000 --gid myoclinic --home-dir /app --shell /usr/sbin/nologin myoclinic

WORKDIR /app
COPY requirements/ requirements/
RUN pip install -r requirements/production.txt

COPY --chown=myoclinic:myoclinic . .
# Static files are collected and the numeric core's kernels compiled (into NUMBA_CACHE_DIR)
# at build time; the key only satisfies the settings' checks.
RUN SECRET_KEY=build-only-not-secret-build-only-not-secret-build-only \
    MYOCLINIC_VAR_DIR=/tmp/build-var STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput -v 0 \
    && python -c "from analysis.core.precompile import compile_all; compile_all()" \
    && mkdir -p /data/media \
    && chown -R myoclinic:myoclinic /data /app/staticfiles "$NUMBA_CACHE_DIR"

USER 1000:1000
ENV STATIC_ROOT=/app/staticfiles MEDIA_ROOT=/data/media MYOCLINIC_VAR_DIR=/data/var
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"]
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "config.asgi:application"]
