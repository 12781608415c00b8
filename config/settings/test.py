"""Unit tests: Celery runs eagerly here and only here (integration tests start a real worker)."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default="memory://")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Worker and live-server threads must not keep connections open past a test (PostgreSQL
# refuses to drop the test database while any session remains).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Login lockout off by default (the test client's login() passes no request, which django-axes
# refuses); tests/accounts/test_security.py turns it on where it is exercised.
AXES_ENABLED = False
# The suite's force_login users give no second factor; tests/accounts/test_two_factor.py turns it on.
OTP_REQUIRED = False
# Celery runs eagerly here, with no worker to answer a ping: readiness leaves that check out
# (tests/portal/test_operations.py turns it on where it is exercised).
HEALTH_CHECK_CELERY = False
# The demo password (Demo#2026) is 9 characters; production keeps its 10.
PASSWORD_MIN_LENGTH = 9
# A real HTTP receiver on the loopback receives webhooks in tests; production refuses such targets.
WEBHOOK_ALLOW_PRIVATE = True
