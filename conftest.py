"""Shared test set-up: the real regions and reference documents, and the external services.

Tests that need a service (Redis for `integration`, Debian's chromium for `browser`) skip with
the reason on a machine without it — except with CI=true, where nothing may skip.
"""
import os
import shutil
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from accounts.models import Region
from accounts.services import regions_load
from ledger.services import reference_load

ROOT = Path(__file__).resolve().parent
SEEDS = ROOT.parent / "shared" / "seeds"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require(available, reason):
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}（CI=true 时不得跳过）")
    pytest.skip(reason)


def load_reference_data():
    regions_load(path=settings.BASE_DIR / "fixtures" / "regions.csv")
    reference_load(directory=settings.BASE_DIR / "fixtures" / "reference")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_reference_data()


@pytest.fixture
def reference_data(django_db_blocker):
    """For transactional tests, whose flush empties the tables: load the data again if needed."""
    with django_db_blocker.unblock():
        if not Region.objects.exists():
            load_reference_data()


@pytest.fixture
def region():
    return lambda code: Region.objects.get(code=code)


@pytest.fixture
def period(db):
    """2022S1 on the national indicator set, opened as a province would open it."""
    from indicators.models import IndicatorSet
    from indicators.services import period_open

    return period_open(code="2022S1", indicator_set=IndicatorSet.objects.get(code="national-2021"))[0]


@pytest.fixture
def make_user(django_user_model):
    from accounts.services import user_save

    def make(username, role, code=None, **extra):
        return user_save(
            username=username, password="pw-for-tests-1", role=role,
            region=Region.objects.get(code=code) if code else None, **extra,
        )

    return make


@pytest.fixture
def seeds_dir():
    require(SEEDS.is_dir(), f"找不到原文目录 {SEEDS}（shared/ 应与仓库并列）")
    return SEEDS


@pytest.fixture(scope="session")
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        ok = True
    except redis.exceptions.RedisError:
        ok = False
    require(ok, f"Redis 不可用（{REDIS_URL}）")
    return REDIS_URL


@pytest.fixture
def celery_worker_redis(transactional_db, reference_data, redis_url):
    """A real Celery worker (in a thread of this process) consuming from a real Redis."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url", "result_backend")}
    app.conf.update(task_always_eager=False, broker_url=redis_url, result_backend=redis_url)
    forget_celery_connections(app)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=20) as worker:
            yield worker
    finally:
        app.conf.update(saved)
        forget_celery_connections(app)


def forget_celery_connections(app):
    """The app caches its broker pool and result backend: drop them so a changed URL takes effect."""
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
    app._backend_cache = None
    app._local = threading.local()


@pytest.fixture
def browser_page(live_server, reference_data):
    """A page of Debian's chromium driven by Playwright (never a downloaded browser)."""
    require(shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), f"找不到 chromium（{CHROMIUM}）")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # around it are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        context.close()
        browser.close()
        # ORM calls made while Playwright's loop ran opened their own connection: close it here,
        # in that same context, or PostgreSQL cannot drop the test database afterwards.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
