"""Developer machine: the default when nothing is set (see manage.py).

DEBUG is off unless DJANGO_DEBUG=true: whoever tries `make run` sees the portal's own Chinese 403,
404 and 500 pages, never Django's English debug page. WhiteNoise serves the static files straight
from the apps (no collectstatic), with or without DEBUG.
"""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Webhooks to a receiver on this machine or the local network, for trying an integration out.
WEBHOOK_ALLOW_PRIVATE = True
