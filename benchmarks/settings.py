"""Settings of a benchmark run: the shared base (DEBUG off, as in production) with its own files.

``benchmarks/run.py`` points DATABASE_URL at its own database before Django starts.
"""

from config.settings.base import *  # noqa: F401,F403
from config.settings.base import VAR_DIR

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
MEDIA_ROOT = VAR_DIR / "bench" / "media"
# No collectstatic in a benchmark: plain static storage, as the test settings have.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# benchmarks/load.py --faults queues its compiles on the deployment's Redis; otherwise in process.
CELERY_BROKER_URL = env("BENCHMARK_BROKER_URL", default="memory://")  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
