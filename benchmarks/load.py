#!/usr/bin/env python
"""Load test: 200 county clerks opening, ticking and submitting at once, on gunicorn and PostgreSQL.

    python benchmarks/load.py [--quick] [--users N] [--ramp S] [--hard-stop S]
                              [--database-url postgres://portal:portal@127.0.0.1:5432/postgres] [--keep] [--doc|--no-doc]

Everything runs on loopback (127.0.0.1) only:

1. a dedicated PostgreSQL database ``load_…`` on the given server: migrations, regions, reference
   documents, one open period (the current year), and one county user per county (the first N
   counties of a few provinces), all with the same password;
2. ``collectstatic`` into var/load/static, then gunicorn (``--workers 4 --threads 2``) on a free port of
   127.0.0.1 with ``benchmarks.load_settings`` (production, secure-cookie flags off for plain http);
3. N simulated clerks (threads, each its own httpx client and cookies), started evenly within
   ``--ramp`` seconds. Each does a fixed sequence, never a loop: GET /login/, POST the login (CSRF),
   GET its sheet, POST a save of all 31 indicators (CSRF + version), GET the sheet again (the
   redirect), POST 保存并上报 with the new version, GET the sheet and read 已上报. Every request has a
   timeout and the whole run a hard stop; a clerk stops at its first failure;
4. gunicorn is stopped (its own process group, SIGTERM then SIGKILL) in a ``finally``, also on Ctrl-C;
5. verification in the database: N × 31 check-marks in the period, one per (county, indicator), each
   with the value its clerk sent; N submissions, all 已上报; audit entries: N × 31 填报 and N 上报;
6. p50/p95/p99 per request kind and overall, throughput and errors printed, and for a full run
   written to docs/benchmarks.md (section 负载测试, between its markers); the database is dropped.

Exit status 0 only when there were no errors and every check passed.
"""

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import DOC, _pg_admin, machine  # noqa: E402

LOAD_DIR = ROOT / "var" / "load"
HOST = "127.0.0.1"  # never any other address
DEFAULT_SERVER = "postgres://portal:portal@127.0.0.1:5432/postgres"
PROVINCES = ("510000", "500000", "640000", "110000")  # 四川 183 县, 重庆, 宁夏, 北京: first N counties by code
PASSWORD = "Load#Test-2026"
USERNAME = "load_{code}"
FULL_USERS, QUICK_USERS = 200, 20
REQUEST_TIMEOUT = 60.0
KINDS = ("GET /login/", "POST /login/", "GET 填报页", "POST 保存", "POST 上报")


# --- the database ------------------------------------------------------------------------------------


def database_create(server_url):
    """A new database ``load_…`` on the server of ``server_url``; returns (its URL, drop function)."""
    parts = urlparse(server_url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit("--database-url 只接受 postgres://")
    if parts.hostname != HOST:
        raise SystemExit(f"负载测试只在本机回环地址 {HOST} 上运行，而 --database-url 指向 {parts.hostname}。")
    name = f"load_{datetime.now():%Y%m%d_%H%M%S}_{os.getpid()}"
    admin = _pg_admin(server_url)
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()

    def drop():
        from django.db import connections

        connections.close_all()
        admin = _pg_admin(server_url)
        with admin.cursor() as cursor:
            # gunicorn is stopped before; any connection it left is ended so the drop cannot hang.
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name])
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()

    return urlunparse(parts._replace(path=f"/{name}")), drop


def setup(users, out):
    """Migrate, load regions and reference, open the current year's period, create the county users.

    Returns (period, [(username, county code)], {indicator number: value sent}).
    """
    import io

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Region, User
    from accounts.services import user_save
    from indicators.models import IndicatorSet
    from indicators.services import period_open

    sink = io.StringIO()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False, stdout=sink)
    call_command("load_regions", stdout=sink)
    call_command("load_reference", stdout=sink)
    out(f"迁移并导入区域与参考文件：{time.perf_counter() - started:.1f} 秒")

    today = timezone.localdate()
    period, _copied = period_open(code=str(today.year), indicator_set=IndicatorSet.objects.get(code="national-2021"))

    counties = []
    for province in PROVINCES:
        path = Region.objects.get(code=province).path
        counties += list(Region.objects.filter(level="county", path__startswith=path).order_by("code"))
        if len(counties) >= users:
            break
    counties = counties[:users]
    if len(counties) < users:
        raise SystemExit(f"只有 {len(counties)} 个县，少于 {users} 个用户。")
    started = time.perf_counter()
    # The first through the service (validation, hashing as deployed); the others share its hash —
    # the same password, so the same hash verifies — instead of 0.4 s of PBKDF2 each.
    first = user_save(
        username=USERNAME.format(code=counties[0].code),
        password=PASSWORD,
        role="county",
        region=counties[0],
        last_name=f"{counties[0].name}填报员",
    )
    rest = []
    for county in counties[1:]:
        user = User(
            username=USERNAME.format(code=county.code),
            role="county",
            region=county,
            last_name=f"{county.name}填报员",
            password=first.password,
            is_active=True,
        )
        user.full_clean()
        rest.append(user)
    User.objects.bulk_create(rest)
    assert first.check_password(PASSWORD) and make_password  # the shared hash is the real one
    out(f"建立 {len(counties)} 个县级用户：{time.perf_counter() - started:.1f} 秒（报告期 {period.code}）")
    return period, [(USERNAME.format(code=c.code), c.code) for c in counties], sheet_values(period, today)


def sheet_values(period, today):
    """What every clerk sends for each indicator (form fields), the same for all counties:
    odd numbers (and encouraging ones) done last month, even numbers expected next June."""
    from indicators.models import Indicator

    last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    expected = date(today.year + 1, 6, 1)
    values = {}
    for indicator in Indicator.objects.filter(indicator_set=period.indicator_set_id, level="county").order_by("number"):
        done = indicator.number % 2 == 1 or indicator.encouraging
        values[indicator.number] = {
            "status": "done" if done else "not_done",
            "done_month": last_month if done else None,
            "expected_month": None if done else expected,
            "note": f"负载测试 第{indicator.number}项",
        }
    return values


def form_fields(values, version, action):
    data = {"version": str(version), "action": action}
    for n, v in values.items():
        data[f"status_{n}"] = v["status"]
        data[f"done_month_{n}"] = f"{v['done_month']:%Y-%m}" if v["done_month"] else ""
        data[f"expected_month_{n}"] = f"{v['expected_month']:%Y-%m}" if v["expected_month"] else ""
        data[f"note_{n}"] = v["note"]
    return data


# --- gunicorn ------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_env(database_url):
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.load_settings",
            "DJANGO_SECRET_KEY": "load-test-only-" + os.urandom(16).hex(),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "STATIC_ROOT": str(LOAD_DIR / "static"),
            "MEDIA_ROOT": str(LOAD_DIR / "media"),
            "CELERY_BROKER_URL": "memory://",  # nothing here queues jobs; never a real broker
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


class Server:
    """gunicorn in its own process group on 127.0.0.1:port; stop() ends that group only."""

    def __init__(self, database_url, workers, threads, out):
        self.env = server_env(database_url)
        self.port = free_port()
        self.workers, self.threads, self.out = workers, threads, out
        self.process = None
        self.log_path = LOAD_DIR / "gunicorn.log"

    def collectstatic(self):
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=300,
        )

    def start(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "config.wsgi:application",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                "120",
                "--backlog",
                "2048",
                "--access-logfile",
                "-",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn 退出（{self.process.returncode}），见 {self.log_path}")
            try:
                if httpx.get(f"{self.base}/login/", timeout=5).status_code == 200:
                    self.out(f"gunicorn 已就绪：{self.base}（{self.workers} 个进程 × {self.threads} 个线程，pid {self.process.pid}）")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn 60 秒内未就绪，见 {self.log_path}")

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        finally:
            self.log.close()
        self.out(f"gunicorn 已停止（退出码 {self.process.returncode}）")


# --- the clerks --------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int | None
    ok: bool
    started: float


@dataclass
class Outcome:
    username: str
    samples: list = field(default_factory=list)
    error: str = ""
    submitted: bool = False


CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
STATE_RE = re.compile(r'class="state state-(\w+)"')


class Stop(Exception):
    pass


class Clerk:
    """One county user's fixed sequence of seven requests; stops at the first unexpected answer."""

    def __init__(self, base, username, county, period_code, values, deadline, stop, timeout=REQUEST_TIMEOUT):
        self.base, self.username, self.values, self.timeout = base, username, values, timeout
        self.sheet_url = f"/periods/{period_code}/sheet/{county}/"
        self.deadline, self.stop = deadline, stop
        self.outcome = Outcome(username)

    def request(self, client, kind, method, url, expect, data=None):
        if self.stop.is_set():
            raise Stop("已中止")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Stop("超过总时限")
        headers = {"Origin": self.base, "Referer": self.base + url} if method == "POST" else {}
        started = time.monotonic()
        status, text = None, ""
        try:
            response = client.request(method, url, data=data, headers=headers, timeout=min(self.timeout, left))
            status, text = response.status_code, response.text
            location = response.headers.get("location", "")
        except Exception as exc:  # noqa: BLE001 — a network error is a result of the test
            self.outcome.samples.append(Sample(kind, time.monotonic() - started, None, False, started))
            raise Stop(f"{kind}：{type(exc).__name__} {exc}") from None
        ok = status == expect
        self.outcome.samples.append(Sample(kind, time.monotonic() - started, status, ok, started))
        if not ok:
            snippet = re.sub(r"\s+", " ", text)[:200]
            raise Stop(f"{kind}：HTTP {status}（应为 {expect}）{snippet}")
        return text, location

    def run(self, delay):
        import httpx

        time.sleep(max(0.0, delay))
        try:
            with httpx.Client(base_url=self.base, follow_redirects=False) as client:
                page, _ = self.request(client, "GET /login/", "GET", "/login/", 200)
                token = CSRF_RE.search(page).group(1)
                _, location = self.request(
                    client,
                    "POST /login/",
                    "POST",
                    "/login/",
                    302,
                    {
                        "csrfmiddlewaretoken": token,
                        "username": self.username,
                        "password": PASSWORD,
                        "next": self.sheet_url,
                    },
                )
                if location != self.sheet_url:
                    raise Stop(f"登录后转到 {location}，应为 {self.sheet_url}")
                page, _ = self.request(client, "GET 填报页", "GET", self.sheet_url, 200)
                for action in ("save", "submit"):
                    token, version = CSRF_RE.search(page).group(1), VERSION_RE.search(page).group(1)
                    data = {"csrfmiddlewaretoken": token, **form_fields(self.values, version, action)}
                    _, location = self.request(client, "POST 保存" if action == "save" else "POST 上报", "POST", self.sheet_url, 302, data)
                    page, _ = self.request(client, "GET 填报页", "GET", location or self.sheet_url, 200)
                    if action == "save" and VERSION_RE.search(page).group(1) == version:
                        raise Stop(f"保存后版本仍为 {version}")
                state = STATE_RE.search(page)
                self.outcome.submitted = bool(state and state.group(1) == "submitted")
                if not self.outcome.submitted:
                    raise Stop(f"上报后状态为 {state.group(1) if state else '（页面无状态）'}")
        except Stop as exc:
            self.outcome.error = str(exc)
        except Exception as exc:  # noqa: BLE001 — e.g. a page without the form: recorded, never raised
            self.outcome.error = f"{type(exc).__name__}: {exc}"
        return self.outcome


def load(base, accounts, period_code, values, *, ramp, hard_stop, out, timeout=REQUEST_TIMEOUT):
    """Start every clerk within ``ramp`` seconds; wait at most ``hard_stop`` seconds in all."""
    stop = threading.Event()
    started = time.monotonic()
    deadline = started + hard_stop
    clerks = [Clerk(base, username, county, period_code, values, deadline, stop, timeout) for username, county in accounts]
    step = ramp / max(1, len(clerks) - 1) if len(clerks) > 1 else 0
    threads = [
        threading.Thread(target=c.run, args=(i * step - (time.monotonic() - started),), daemon=True, name=c.username)
        for i, c in enumerate(clerks)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(0.0, deadline + 15 - time.monotonic()))
    finally:
        stop.set()  # Ctrl-C or the hard stop: no clerk sends another request
    elapsed = time.monotonic() - started
    for t, c in zip(threads, clerks):
        if t.is_alive() and not c.outcome.error:
            c.outcome.error = "超过总时限仍未结束"
    return [c.outcome for c in clerks], elapsed


# --- figures ------------------------------------------------------------------------------------------


def percentile(sorted_values, p):
    """Nearest-rank percentile of a sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-p * len(sorted_values) // 100))
    return sorted_values[int(rank) - 1]


@dataclass
class Figures:
    users: int
    elapsed: float
    rows: list  # (kind, count, errors, p50, p95, p99, max, mean)
    requests: int
    errors: int
    failed_users: list
    statuses: dict
    first_to_last: float


def figures(outcomes, elapsed):
    samples = [s for o in outcomes for s in o.samples]
    rows = []
    for kind in (*KINDS, "全部"):
        chosen = samples if kind == "全部" else [s for s in samples if s.kind == kind]
        times = sorted(s.seconds for s in chosen)
        rows.append(
            (
                kind,
                len(chosen),
                sum(not s.ok for s in chosen),
                percentile(times, 50),
                percentile(times, 95),
                percentile(times, 99),
                times[-1] if times else float("nan"),
                statistics.fmean(times) if times else float("nan"),
            )
        )
    statuses = {}
    for s in samples:
        statuses[s.status or "网络错误"] = statuses.get(s.status or "网络错误", 0) + 1
    span = (max(s.started + s.seconds for s in samples) - min(s.started for s in samples)) if samples else 0.0
    return Figures(
        users=len(outcomes),
        elapsed=elapsed,
        rows=rows,
        requests=len(samples),
        errors=sum(not s.ok for s in samples),
        failed_users=[(o.username, o.error) for o in outcomes if o.error],
        statuses=statuses,
        first_to_last=span,
    )


def verify(period, accounts, values):
    """The database after the run: (description, passed) for each check."""
    from django.db.models import Count

    from accounts.models import Region
    from indicators.models import AuditAction, AuditEntry, Checkmark, Submission, SubmissionState

    n, k = len(accounts), len(values)
    regions = Region.objects.filter(code__in=[code for _u, code in accounts])
    marks = Checkmark.objects.filter(period=period)
    doubled = marks.values("region_id", "indicator_id").annotate(c=Count("id")).filter(c__gt=1).count()
    wrong = 0
    for mark in marks.select_related("indicator").iterator(chunk_size=2000):
        v = values[mark.indicator.number]
        if (mark.status, mark.done_month, mark.expected_month, mark.note) != (v["status"], v["done_month"], v["expected_month"], v["note"]):
            wrong += 1
    per_county = marks.values("region_id").annotate(c=Count("id"))
    counties_full = sum(1 for row in per_county if row["c"] == k)
    submissions = Submission.objects.filter(period=period)
    audit = AuditEntry.objects.filter(period=period)
    audit_set = audit.filter(action=AuditAction.SET).count()
    audit_submit = audit.filter(action=AuditAction.SUBMIT).count()
    audit_other = audit.exclude(action__in=[AuditAction.SET, AuditAction.SUBMIT, AuditAction.CARRY]).count()
    checks = [
        (f"填报（Checkmark）共 {marks.count()} 条，应为 {n} × {k} = {n * k}", marks.count() == n * k),
        (
            f"每个县 {k} 条的县：{counties_full} 个，应为 {n}；全部属于这 {n} 个县",
            counties_full == n and not marks.exclude(region__in=regions).exists(),
        ),
        (f"同一县同一指标重复的：{doubled} 组，应为 0", doubled == 0),
        (f"与所填内容不符的：{wrong} 条，应为 0", wrong == 0),
        (
            f"填报状态（Submission）共 {submissions.count()} 条，其中已上报 {submissions.filter(state=SubmissionState.SUBMITTED).count()} 条，应均为 {n}",
            submissions.count() == n and submissions.filter(state=SubmissionState.SUBMITTED).count() == n,
        ),
        (
            f"每县版本号为 1（只保存了一次）：{submissions.filter(version=1).count()} 个，应为 {n}",
            submissions.filter(version=1).count() == n,
        ),
        (f"操作记录（AuditEntry）“填报” {audit_set} 条，应为 {n * k}", audit_set == n * k),
        (f"操作记录“上报” {audit_submit} 条，应为 {n}；其他操作 {audit_other} 条，应为 0", audit_submit == n and audit_other == 0),
    ]
    if apps_has("axes"):
        from axes.models import AccessAttempt

        failed = AccessAttempt.objects.count()
        checks.append((f"django-axes 记录的登录失败：{failed} 次，应为 0", failed == 0))
    return checks


def apps_has(label):
    from django.apps import apps

    return apps.is_installed(label)


def axes_description():
    from django.conf import settings

    if not apps_has("axes"):
        return "django-axes 未安装"
    return (
        f"django-axes 已启用（{settings.AXES_FAILURE_LIMIT} 次失败锁定，按 {settings.AXES_LOCKOUT_PARAMETERS}）"
        if getattr(settings, "AXES_ENABLED", True)
        else "django-axes 已安装但关闭"
    )


def _ms(seconds):
    return "—" if seconds != seconds else f"{seconds * 1000:.0f} ms"


def render(f, checks, info, args, setup_seconds):
    m = info
    lines = [
        f"### {'快速模式，' if args.quick else ''}{f.users} 个县级用户同时填报",
        "",
        f"- 日期：{m['date']}",
        f"- 机器：{m['cpu']}，{m['cores']} 核，内存 {m['ram']}；{m['os']}；压测客户端与服务器、数据库在同一台机器上",
        f"- 软件：Python {m['python']}，Django {m['django']}，gunicorn {m['gunicorn']}（{args.workers} 个进程 × {args.threads} 个线程，"
        f"同步线程模式），{m['database']}；客户端 httpx {m['httpx']}，每个用户一个线程；{m['axes']}",
        f"- 开始时的负载（1/5/15 分钟平均）：{m['load']}；结束时：{' / '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- 准备（建库、迁移、区域、参考文件、报告期、用户、collectstatic）：{setup_seconds:.0f} 秒，不计入下面的数字",
        f"- 用户在 {args.ramp:.0f} 秒内均匀开始，每个请求 {args.request_timeout:.0f} 秒超时，总时限 {args.hard_stop:.0f} 秒；每个用户 7 个请求：登录页、登录、填报页、保存 31 项、"
        "（重定向后的）填报页、保存并上报、填报页",
        f"- 第一个请求到最后一个响应：{f.first_to_last:.1f} 秒；共 {f.requests} 个请求，吞吐 {f.requests / f.first_to_last:.1f} 次/秒"
        f"（{f.users / f.first_to_last * 60:.0f} 个县上报/分钟）"
        if f.first_to_last
        else "- 没有请求",
        f"- 错误：{f.errors} 个请求，{len(f.failed_users)} 个用户未完成；状态码：{'，'.join(f'{k} × {v}' for k, v in sorted(f.statuses.items(), key=str))}",
        "",
        "| 请求 | 次数 | 错误 | p50 | p95 | p99 | 最长 | 平均 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, count, errors, p50, p95, p99, longest, mean in f.rows:
        name = f"**{kind}**" if kind == "全部" else kind
        lines.append(f"| {name} | {count} | {errors} | {_ms(p50)} | {_ms(p95)} | {_ms(p99)} | {_ms(longest)} | {_ms(mean)} |")
    lines += ["", "之后在数据库中核对："]
    lines += [f"- {'✅' if passed else '❌'} {description}" for description, passed in checks]
    for username, error in f.failed_users[:10]:
        lines.append(f"- ❌ {username}：{error}")
    return "\n".join(lines) + "\n"


LOAD_START, LOAD_END = "<!-- results:load:start -->", "<!-- results:load:end -->"
LOAD_INTRO = """## 负载测试

    python benchmarks/load.py            # 200 个县级用户；PostgreSQL 127.0.0.1:5432（portal/portal），建库 load_…，跑完删除
    python benchmarks/load.py --quick    # 20 个用户，快速确认能跑通（只打印，--doc 则写入本节）

脚本在本机回环地址上做一次有界的负载测试：新建 PostgreSQL 数据库，迁移、导入区域与参考文件、开放本年度
报告期，为四川（及之后的重庆等省）按代码顺序的前 200 个县各建一个县级用户；`collectstatic` 后以
`benchmarks.load_settings`（即生产设置，只为明文 http 关掉 Secure cookie 标志）启动 gunicorn
（4 个进程 × 2 个线程，只绑定 127.0.0.1）。200 个模拟县级填报员（线程，各自的 cookie）在 60 秒内均匀开始，
每人按固定顺序发 7 个请求：登录页、登录（CSRF）、填报页、保存 31 项（CSRF + 版本号）、重定向后的填报页、
保存并上报、填报页（确认“已上报”）；任何一步不对即停止该用户并记为错误，每个请求默认 60 秒超时（`--request-timeout`），
全程 5 分钟硬性时限；结束（包括 Ctrl-C、异常）时停止 gunicorn。随后在数据库里核对：该期填报恰为 200 × 31 条，
每县每项一条、内容与所填相同，200 个填报状态均为已上报，操作记录“填报”200 × 31 条、“上报”200 条。

- 登录用生产的 PBKDF2（100 万次迭代，本机每次约 0.4 秒 CPU），是登录请求延迟的主要部分：200 个用户同时登录
  时这些计算在 2 个核上排队。用户共用一个密码哈希（第一个用户经 `user_save` 建立，其余复制其哈希），
  只是为了准备快，不影响服务器端的验证开销。
- 延迟是客户端测得的（含排队）；客户端与服务器、PostgreSQL 在同一台 2 核机器上争用 CPU，所以是保守的数字。
"""


def write_doc(text, path=DOC):
    block = f"{LOAD_START}\n{text}{LOAD_END}"
    doc = path.read_text(encoding="utf-8")
    if LOAD_START in doc and LOAD_END in doc:
        doc = re.sub(re.escape(LOAD_START) + r".*?" + re.escape(LOAD_END), lambda _m: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + LOAD_INTRO + "\n" + block + "\n"
    path.write_text(doc, encoding="utf-8")


# --- the run ------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description="负载测试：县级用户同时登录、填报 31 项并上报（gunicorn + PostgreSQL，仅本机回环）。")
    parser.add_argument("--quick", action="store_true", help=f"快速模式：{QUICK_USERS} 个用户、10 秒内开始。")
    parser.add_argument("--users", type=int, default=None, help=f"用户数（默认 {FULL_USERS}，快速模式 {QUICK_USERS}）。")
    parser.add_argument("--ramp", type=float, default=None, help="所有用户在这么多秒内均匀开始（默认 60，快速模式 10）。")
    parser.add_argument("--hard-stop", type=float, default=300.0, help="从第一个用户开始算起的总时限，秒（默认 300）。")
    parser.add_argument(
        "--request-timeout", type=float, default=REQUEST_TIMEOUT, help=f"每个请求的超时，秒（默认 {REQUEST_TIMEOUT:.0f}）；超时记为错误。"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help=f"PostgreSQL 服务器（默认 {DEFAULT_SERVER}），只能是 {HOST}。")
    parser.add_argument("--keep", action="store_true", help="保留本次的数据库。")
    doc = parser.add_mutually_exclusive_group()
    doc.add_argument("--doc", action="store_true", help="快速模式也写入 docs/benchmarks.md。")
    doc.add_argument("--no-doc", action="store_true", help="不写 docs/benchmarks.md。")
    args = parser.parse_args(argv)
    args.users = args.users or (QUICK_USERS if args.quick else FULL_USERS)
    args.ramp = args.ramp if args.ramp is not None else (10.0 if args.quick else 60.0)
    if not 0 < args.users <= 2000 or not 0 <= args.ramp < args.hard_stop <= 900:
        raise SystemExit("--users 1–2000；--ramp 小于 --hard-stop；--hard-stop 不超过 900 秒。")

    def out(message):
        print(message, flush=True)

    LOAD_DIR.mkdir(parents=True, exist_ok=True)
    setup_started = time.perf_counter()
    database_url, drop = database_create(args.database_url)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    out(f"数据库：{database_url.rsplit('@', 1)[-1]}")
    server = None
    ok = False
    try:
        period, accounts, values = setup(args.users, out)
        from django.db import connections

        connections.close_all()
        server = Server(database_url, args.workers, args.threads, out)
        server.collectstatic()
        server.start()
        setup_seconds = time.perf_counter() - setup_started
        info = machine("postgresql")
        import gunicorn
        import httpx

        info.update(gunicorn=gunicorn.__version__, httpx=httpx.__version__, axes=axes_description())
        out(f"{args.users} 个用户在 {args.ramp:.0f} 秒内开始，总时限 {args.hard_stop:.0f} 秒 …")
        outcomes, elapsed = load(
            server.base, accounts, period.code, values, ramp=args.ramp, hard_stop=args.hard_stop, out=out, timeout=args.request_timeout
        )
        server.stop()
        f = figures(outcomes, elapsed)
        checks = verify(period, accounts, values)
        text = render(f, checks, info, args, setup_seconds)
        print()
        print(text)
        ok = f.errors == 0 and not f.failed_users and all(passed for _d, passed in checks)
        if (not args.quick or args.doc) and not args.no_doc:
            write_doc(text)
            out(f"已写入 {DOC.relative_to(ROOT)}（负载测试一节）")
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            out(f"保留数据库：{database_url}")
        else:
            drop()
            out("已删除数据库")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # gunicorn and the database were already cleaned up by main's finally
        print("已中止（Ctrl-C）。", file=sys.stderr)
        sys.exit(130)
