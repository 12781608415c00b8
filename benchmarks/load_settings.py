"""Settings of the load test (benchmarks/load.py): production, served over plain http on loopback.

Production marks the session and CSRF cookies Secure, so a client speaking http to 127.0.0.1 never
sends them back and every login and POST fails. The load test runs gunicorn on 127.0.0.1 only,
without TLS; everything else is production as deployed (DEBUG off, the manifest static storage,
the same middleware and password hasher). The environment still has to give DJANGO_SECRET_KEY,
DJANGO_ALLOWED_HOSTS=127.0.0.1, DJANGO_SECURE_SSL_REDIRECT=false and DATABASE_URL.
"""

from config.settings.production import *  # noqa: F401,F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# kombu sweeps for unacknowledged messages every 10 s × 10 calls by default; the fault run checks the
# redelivery of a killed worker's compile within a 30 s visibility timeout, so it sweeps every call.
if CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "unacked_restore_throttle": 1}  # noqa: F405
