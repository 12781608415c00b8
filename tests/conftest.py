"""Shared test set-up: the real regions and reference documents, and the external services.

Tests that need a service (Redis for `integration`, Debian's chromium for `browser`) skip with
the reason on a machine without it — except with CI=true, where nothing may skip.
"""

import itertools
import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from rest_framework.test import APIClient

from accounts.models import Region
from accounts.services import api_token_create, regions_load
from ledger import services as ledger_services
from ledger.models import Ledger
from ledger.reference import reference_load
from tests.helpers import forget_celery_connections

ROOT = Path(__file__).resolve().parents[1]
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
    from indicators.services import period_open

    return period_open(code="2022S1")[0]


TOKEN_COMPANIES = itertools.count(1)  # each supply-company token's company has a name of its own


def company_for_tests(name, *areas):
    """A supply company of its own for a test user, serving ``areas`` (one level, one province)."""
    from accounts.models import Company

    province = Region.objects.get(code=areas[0].path[:6])
    company = Company.objects.create(name=f"{name}供电公司", code=f"test-{name}", province=province)
    company.service_area.set(areas)
    return company


@pytest.fixture
def make_user(django_user_model):
    from accounts.services import user_save

    def make(username, role, code=None, **extra):
        extra.setdefault("must_change_password", False)  # a ready account, not one an administrator just set
        if role == "supply_company" and "company" not in extra:
            extra["company"] = company_for_tests(username, Region.objects.get(code=code))
        return user_save(
            username=username,
            password="pw-for-tests-1",
            role=role,
            region=Region.objects.get(code=code) if code else None,
            **extra,
        )

    return make


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded and generated files go to a folder of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


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
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
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


# --- shared by the API tests of several apps: a province administrator and its tokens ----------


@pytest.fixture
def admin(make_user):
    return make_user("p", "province", "510000", last_name="省能源局")


@pytest.fixture
def client_for(admin):
    """``client_for(code, access="write", role=None)``: an APIClient holding a new token of that region."""
    cache.clear()  # throttle counts from earlier tests

    def make(code, access="write", role=None):
        where = Region.objects.get(code=code)
        # A supply-company token writes 附件3 for a company serving its region.
        company = company_for_tests(f"token-{next(TOKEN_COMPANIES)}", where) if role == "supply_company" else None
        token, secret = api_token_create(user=admin, name=f"政务平台{code}", region=where, access=access, role=role, company=company)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        client.token, client.secret = token, secret
        return client

    return make


# --- shared by the ledger tests and the bad-input corpus: 四川's ledger and a breakdown ----------


@pytest.fixture
def people(make_user):
    """One user per level of 四川 (成都市, 锦江区), a neighbour county and another province."""
    return {
        "province": make_user("sc", "province", "510000", last_name="省能源局"),
        "city": make_user("cd", "city", "510100", last_name="成都审核员"),
        "county": make_user("jj", "county", "510104", last_name="锦江填报员"),
        "neighbour": make_user("qy", "county", "510105"),
        "other_city": make_user("my", "city", "510700"),
        "chongqing": make_user("cq", "province", "500000"),
    }


@pytest.fixture
def ledger(people):
    """四川's 2022 ledger, adapted from the national one."""
    return ledger_services.ledger_adapt(
        user=people["province"],
        region=Region.objects.get(code="510000"),
        year=2022,
        source=Ledger.objects.get(code="national-2021"),
    )


@pytest.fixture
def item3(ledger):
    return ledger.items.get(number=3)


@pytest.fixture
def chain(people, item3):
    """Item 3 given to 成都市, which gave it to 锦江区."""
    city_part = ledger_services.assignment_create(
        user=people["province"],
        item=item3,
        region=Region.objects.get(code="510100"),
        responsible_unit="成都市发改委",
        lead=True,
    )
    county_part = ledger_services.assignment_create(
        user=people["city"],
        item=item3,
        parent=city_part,
        region=Region.objects.get(code="510104"),
        responsible_unit="锦江区发改局",
        contact="张三",
        phone="028-12345678",
        milestone=date(2022, 9, 30),
    )
    return city_part, county_part
