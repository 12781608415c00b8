# The portal's image: web (gunicorn), Celery worker and beat, and the one-shot migrate service
# all run it (docker-compose.yml). Settings: config.settings.production, from the environment.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STATIC_ROOT=/app/staticfiles
# procps: pgrep for beat's healthcheck; postgresql-client (15, the db service's major version):
# pg_dump and pg_restore for `manage.py backup` and `restore`.
RUN apt-get update && apt-get install -y --no-install-recommends procps postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install .
# Static files collected at build with the base settings (production refuses to start without its
# secrets, which a build must never see); the migrate service collects again into nginx's volume.
RUN DJANGO_SETTINGS_MODULE=config.settings.base python manage.py collectstatic --noinput
RUN useradd --create-home --uid 1000 portal && chown -R portal /app
USER portal
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
