#!/usr/bin/env python
"""Load test: 200 county clerks opening, ticking and submitting at once, on the production deployment.

    python benchmarks/load.py [--quick] [--faults] [--users N] [--ramp S] [--hard-stop S] [--replicas N]
                              [--database-url postgres://portal:portal@127.0.0.1:5432/postgres] [--keep] [--doc|--no-doc]

Everything runs on loopback (127.0.0.1) only, as docker-compose.yml deploys it (benchmarks/stack.py):

1. Redis (broker and cache, append-only file) and an S3 server (moto) with the media bucket;
2. a dedicated PostgreSQL database ``load_…`` on the given server: migrations, regions, reference
   documents, one open period (the current year), one county user per county (the first N counties
   of a few provinces, all with the same password) and the fault run's two province officials;
3. ``collectstatic`` into var/load/static, then ``--replicas`` gunicorns of ``benchmarks.load_settings``
   (production, secure-cookie flags off for plain http) behind nginx;
4. N simulated clerks (threads, each its own httpx client and cookies), started evenly within
   ``--ramp`` seconds. Each does a fixed sequence, never a loop: GET /login/, POST the login (CSRF),
   GET its sheet, POST a save of all 31 indicators (CSRF + version), GET the sheet again (the
   redirect), POST 保存并上报 with the new version, GET the sheet and read 已上报. Every request has a
   timeout and the whole run a hard stop; a clerk stops at its first failure (with ``--faults``, at
   its first failure that is not a retried transient one);
5. with ``--faults``: a worker killed mid-compile, Redis restarted and a web replica killed during the
   load (``Faults``);
6. every process is stopped (its own process group) in a ``finally``, also on Ctrl-C;
7. verification in the database: N × 31 check-marks in the period, one per (county, indicator), each
   with the value its clerk sent; N submissions, all 已上报, each saved once; audit entries: N × 31 填报
   and N 上报; with ``--faults`` every compile done with its snapshots in the object store;
8. p50/p95/p99 per request kind and overall, throughput and errors printed, and for a full run
   written to docs/benchmarks.md (section 负载测试 or 故障演练, between its markers); the database is dropped.

Exit status 0 only when there were no errors and every check passed.
"""

import argparse
import os
import re
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
from benchmarks.stack import HOST, S3, S3_BUCKET, S3_KEY, S3_SECRET, Gunicorn, Nginx, Redis, Worker  # noqa: E402

LOAD_DIR = ROOT / "var" / "load"
DEFAULT_SERVER = "postgres://portal:portal@127.0.0.1:5432/postgres"
PROVINCES = ("510000", "500000", "640000", "110000")  # 四川 183 县, 重庆, 宁夏, 北京: first N counties by code
PASSWORD = "Load#Test-2026"
USERNAME = "load_{code}"
OFFICIAL = "load_official_{code}"
FAULT_PROVINCES = ("510000", "500000")  # the compiles the fault run kills and queues
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
    from indicators.services import period_open

    sink = io.StringIO()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False, stdout=sink)
    call_command("load_regions", stdout=sink)
    call_command("load_reference", stdout=sink)
    out(f"迁移并导入区域与参考文件：{time.perf_counter() - started:.1f} 秒")

    today = timezone.localdate()
    period, _copied = period_open(code=str(today.year))  # the national program

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
    # the same password, so the same hash verifies — instead of one Argon2id hash each.
    first = user_save(
        username=USERNAME.format(code=counties[0].code),
        password=PASSWORD,
        role="county",
        region=counties[0],
        last_name=f"{counties[0].name}填报员",
        must_change_password=False,
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
    for code in FAULT_PROVINCES:  # who starts the fault run's compiles (never signs in over HTTP)
        User.objects.create(
            username=OFFICIAL.format(code=code),
            role="province",
            region=Region.objects.get(code=code),
            password=first.password,
            is_active=True,
        )
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


# --- the deployment ------------------------------------------------------------------------------------


def server_env(database_url, redis, s3, *, visibility_timeout):
    """Production settings as the compose file sets them, pointed at the parts on loopback."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.load_settings",
            "DJANGO_SECRET_KEY": "load-test-only-" + os.urandom(32).hex(),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"http://{HOST}",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "STATIC_ROOT": str(LOAD_DIR / "static"),
            "CELERY_BROKER_URL": redis.url(0),
            "DJANGO_CACHE_URL": redis.url(1).replace("redis://", "rediscache://", 1),
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "AWS_STORAGE_BUCKET_NAME": S3_BUCKET,
            "AWS_S3_ENDPOINT_URL": s3.endpoint,
            "AWS_ACCESS_KEY_ID": S3_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
            "TRUSTED_PROXIES": f"{HOST}/32",  # nginx
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


class Deployment:
    """Redis and S3 first (the script queues on that Redis too), then ``serve()``: the replicas behind
    nginx, and two Celery workers (not started: the fault run starts and kills them). stop() ends all."""

    def __init__(self, args, out):
        self.args, self.out = args, out
        self.parts = []
        self.redis = self._add(Redis(LOAD_DIR, out))
        self.s3 = self._add(S3(LOAD_DIR, out))

    def serve(self, database_url):
        self.env = server_env(database_url, self.redis, self.s3, visibility_timeout=self.args.visibility_timeout)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, env=self.env, check=True, timeout=300
        )
        args = self.args
        self.web = [self._add(Gunicorn(LOAD_DIR, self.out, self.env, i + 1, args.workers, args.threads)) for i in range(args.replicas)]
        self.nginx = self._add(Nginx(LOAD_DIR, self.out, [w.port for w in self.web]))
        self.workers = [Worker(LOAD_DIR, self.out, self.env, i + 1) for i in range(2)]
        self.parts += self.workers

    def _add(self, part):
        self.parts.append(part)
        return part.start()

    def versions(self):
        nginx = subprocess.run([self.nginx.command()[0], "-v"], capture_output=True, text=True).stderr
        redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
        return {"nginx": nginx.strip().rsplit("/", 1)[-1], "redis": re.search(r"v=(\S+)", redis).group(1)}

    @property
    def base(self):
        return self.nginx.base

    def stop(self):
        for part in reversed(self.parts):
            part.stop()


# --- the fault run -------------------------------------------------------------------------------------


class Faults:
    """While the clerks work: a worker killed mid-compile, Redis restarted, a web replica killed.

    1. worker-1 alone takes a compile of 四川's tables; once the job is running the worker's whole
       process group gets SIGKILL (a container dying), so its message stays unacknowledged in Redis;
    2. Redis is restarted (SHUTDOWN, then the same server on its append-only file);
    3. worker-2 starts; the unacknowledged compile comes back to it after the visibility timeout, and
       a second compile (重庆) queued after the restart shows the broker works again;
    4. at 40 % of the ramp, web-1 gets SIGKILL (master and workers) mid-load; nginx sends new
       requests to web-2 and a POST that was on web-1 gets a 502 the clerk retries; web-1 is started
       again 10 s later, as a restart policy would.
    """

    def __init__(self, deployment, period, ramp, out):
        from accounts.models import User

        self.deployment, self.period, self.provinces = deployment, period, FAULT_PROVINCES
        self.officials = {code: User.objects.get(username=OFFICIAL.format(code=code)) for code in FAULT_PROVINCES}
        self.ramp, self.out = ramp, out
        self.events, self.jobs, self.error = [], {}, ""
        self.thread = threading.Thread(target=self.run, daemon=True, name="faults")

    def note(self, text):
        at = time.monotonic() - self.started
        self.events.append((at, text))
        self.out(f"[{at:5.1f} s] {text}")

    def compile(self, code):
        from accounts.models import Region
        from reporting.services import report_job_start

        job = report_job_start(user=self.officials[code], province=Region.objects.get(code=code), period=self.period)
        self.jobs[code] = job.pk
        return job

    def state(self, job):
        job.job.refresh_from_db()
        return job.job.state, job.job.progress

    def kill_worker_mid_compile(self):
        from reporting.models import JobState

        worker = self.deployment.workers[0].start()
        for attempt in range(3):
            job = self.compile(self.provinces[0])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state, percent = self.state(job)
                if state == JobState.RUNNING and percent >= 10:  # past the start: building 附件2
                    worker.kill()
                    self.note(f"编制任务 #{job.pk}（{self.provinces[0]}）进行中（{percent}%）时 SIGKILL worker-1 整个进程组")
                    return job
                if state in (JobState.DONE, JobState.FAILED):
                    break
                time.sleep(0.005)
            self.note(f"编制任务 #{job.pk} 在杀掉 worker 之前已结束（{state}），第 {attempt + 1} 次，再来一次")
        raise RuntimeError("三次都没赶上编制进行中")

    def run(self):
        self.started = time.monotonic()
        try:
            self.kill_worker_mid_compile()
            down = time.monotonic()
            self.deployment.redis.restart()
            self.note(f"Redis 重启（SHUTDOWN 后按 AOF 重新启动），用时 {time.monotonic() - down:.1f} 秒")
            self.deployment.workers[1].start()
            self.note("worker-2 启动")
            job = self.compile(self.provinces[1])
            self.note(f"Redis 重启后排入编制任务 #{job.pk}（{self.provinces[1]}）")
            time.sleep(max(0.0, self.ramp * 0.4 - (time.monotonic() - self.started)))
            web = self.deployment.web[0]
            web.kill()
            self.note(f"SIGKILL {web.name}（gunicorn 主进程与全部工作进程）")
            time.sleep(10)
            web.start()
            self.note(f"{web.name} 重新启动")
        except Exception as exc:  # noqa: BLE001 — recorded and failed in the checks, never hidden
            self.error = f"{type(exc).__name__}: {exc}"
            self.note(f"故障脚本出错：{self.error}")
        finally:
            from django.db import connections

            connections.close_all()

    def wait_for_jobs(self, seconds):
        from reporting.models import JobState, ReportJob

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            states = set(ReportJob.objects.filter(pk__in=self.jobs.values()).values_list("job__state", flat=True))
            if states <= {JobState.DONE, JobState.FAILED}:
                break
            time.sleep(1)
        self.note("编制任务等待结束")

    def verify(self):
        from reporting.models import JobState, ReportJob, ReportSnapshot

        checks = [(f"故障脚本完整执行{'' if not self.error else '：' + self.error}", not self.error)]
        keys = self.deployment.s3.keys()
        referenced = set()
        for code, pk in self.jobs.items():
            job = ReportJob.objects.select_related("job").get(pk=pk)
            snapshots = list(job.snapshots.all())
            names = {f"media/{snap.xlsx.name}" for snap in snapshots}
            referenced |= names
            in_region = ReportSnapshot.objects.filter(region__code=code, period=self.period).count()
            checks.append(
                (
                    f"编制任务 #{pk}（{code}）：{job.job.get_state_display()}，投递 {job.attempts} 次，快照 {len(snapshots)} 个"
                    f"（该省共 {in_region} 个），Excel 在对象存储中 {len(names & keys)}/{len(names)} 个",
                    job.job.state == JobState.DONE and len(snapshots) == 2 and in_region == 2 and names <= keys,
                )
            )
        if self.provinces[0] in self.jobs:
            killed = ReportJob.objects.get(pk=self.jobs[self.provinces[0]])
            checks.append((f"被杀的编制任务重新投递：投递 {killed.attempts} 次，应至少 2 次", killed.attempts >= 2))
        orphans = sorted(k for k in keys if k.startswith("media/") and k not in referenced)
        # An object saved by the killed compile before its transaction: never referenced, never lost.
        checks.append((f"对象存储中没有快照引用的 Excel：{len(orphans)} 个（被杀的编制在提交前写入的文件，无数据丢失）", True))
        return checks


# --- the clerks --------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int | None
    ok: bool
    started: float
    transient: bool = False  # the proxy's 502/503/504 or a dropped connection, retried


# What a client may retry: the proxy answering for a replica that is gone, or the connection dropped.
TRANSIENT_STATUSES = {502, 503, 504}


@dataclass
class Outcome:
    username: str
    samples: list = field(default_factory=list)
    error: str = ""
    submitted: bool = False
    retries: int = 0


CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
STATE_RE = re.compile(r'class="state state-(\w+)"')


class Stop(Exception):
    pass


class Transient(Exception):
    pass


class Clerk:
    """One county user's fixed sequence of seven requests; stops at the first unexpected answer.

    With ``retries``, a transient failure (see TRANSIENT_STATUSES) is retried after a pause, as a
    person would press again; a POST is sent again only when reading the sheet shows it was not
    applied (``probe``), so a retry never stores anything twice.
    """

    def __init__(self, base, username, county, period_code, values, deadline, stop, timeout=REQUEST_TIMEOUT, retries=0):
        self.base, self.username, self.values, self.timeout = base, username, values, timeout
        self.sheet_url = f"/periods/{period_code}/sheet/{county}/"
        self.deadline, self.stop, self.retries = deadline, stop, retries
        self.outcome = Outcome(username)

    def once(self, client, kind, method, url, expect, data):
        if self.stop.is_set():
            raise Stop("已中止")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Stop("超过总时限")
        headers = {"Origin": self.base, "Referer": self.base + url} if method == "POST" else {}
        started = time.monotonic()
        try:
            response = client.request(method, url, data=data, headers=headers, timeout=min(self.timeout, left))
        except Exception as exc:  # noqa: BLE001 — a network error is a result of the test
            transient = self.retries > 0 and not isinstance(exc, httpx_timeout())
            self.outcome.samples.append(Sample(kind, time.monotonic() - started, None, False, started, transient))
            if transient:
                raise Transient(f"{type(exc).__name__}") from None
            raise Stop(f"{kind}：{type(exc).__name__} {exc}") from None
        status, text = response.status_code, response.text
        ok = status == expect
        transient = not ok and self.retries > 0 and status in TRANSIENT_STATUSES
        self.outcome.samples.append(Sample(kind, time.monotonic() - started, status, ok, started, transient))
        if transient:
            raise Transient(f"HTTP {status}")
        if not ok:
            snippet = re.sub(r"\s+", " ", text)[:200]
            raise Stop(f"{kind}：HTTP {status}（应为 {expect}）{snippet}")
        return text, response.headers.get("location", "")

    def request(self, client, kind, method, url, expect, data=None, probe=None):
        for attempt in range(self.retries + 1):
            try:
                return self.once(client, kind, method, url, expect, data)
            except Transient as exc:
                if attempt == self.retries:
                    raise Stop(f"{kind}：重试 {self.retries} 次仍失败（{exc}）") from None
                self.outcome.retries += 1
                time.sleep(1.0 + attempt)
                if probe is not None:
                    applied = probe(client)
                    if applied is not None:
                        return applied
        raise AssertionError("unreachable")

    def sheet(self, client):
        return self.request(client, "GET 填报页", "GET", self.sheet_url, 200)[0]

    def run(self, delay):
        import httpx

        time.sleep(max(0.0, delay))
        try:
            with httpx.Client(base_url=self.base, follow_redirects=False) as client:
                page, _ = self.request(client, "GET /login/", "GET", "/login/", 200)
                token = CSRF_RE.search(page).group(1)

                def signed_in(client):
                    response = client.get(self.sheet_url, timeout=self.timeout)
                    return ("", self.sheet_url) if response.status_code == 200 else None

                _, location = self.request(
                    client,
                    "POST /login/",
                    "POST",
                    "/login/",
                    302,
                    {"csrfmiddlewaretoken": token, "username": self.username, "password": PASSWORD, "next": self.sheet_url},
                    probe=signed_in,
                )
                if location != self.sheet_url:
                    raise Stop(f"登录后转到 {location}，应为 {self.sheet_url}")
                page = self.sheet(client)
                for action in ("save", "submit"):
                    token, version = CSRF_RE.search(page).group(1), VERSION_RE.search(page).group(1)
                    data = {"csrfmiddlewaretoken": token, **form_fields(self.values, version, action)}

                    def applied(client, action=action, version=version):
                        # The sheet as stored: saved means a new version, submitted means 已上报.
                        page = self.sheet(client)
                        state = STATE_RE.search(page)
                        done = (
                            state and state.group(1) == "submitted" if action == "submit" else VERSION_RE.search(page).group(1) != version
                        )
                        return ("", self.sheet_url) if done else None

                    kind = "POST 保存" if action == "save" else "POST 上报"
                    _, location = self.request(client, kind, "POST", self.sheet_url, 302, data, probe=applied)
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


def httpx_timeout():
    import httpx

    return httpx.TimeoutException


def load(base, accounts, period_code, values, *, ramp, hard_stop, out, timeout=REQUEST_TIMEOUT, retries=0):
    """Start every clerk within ``ramp`` seconds; wait at most ``hard_stop`` seconds in all."""
    stop = threading.Event()
    started = time.monotonic()
    deadline = started + hard_stop
    clerks = [Clerk(base, username, county, period_code, values, deadline, stop, timeout, retries) for username, county in accounts]
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
    transient: int
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
                sum(not s.ok and not s.transient for s in chosen),
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
        errors=sum(not s.ok and not s.transient for s in samples),
        transient=sum(s.transient for s in samples),
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


def render(f, checks, info, args, setup_seconds, faults=None):
    m = info
    lines = [
        f"### {'快速模式，' if args.quick else ''}{f.users} 个县级用户同时填报{'，期间注入故障' if faults else ''}",
        "",
        f"- 日期：{m['date']}",
        f"- 机器：{m['cpu']}，{m['cores']} 核，内存 {m['ram']}；{m['os']}；压测客户端与服务器、数据库在同一台机器上",
        f"- 部署：生产设置（benchmarks.load_settings），nginx {m['nginx']} 之后 {args.replicas} 个 gunicorn {m['gunicorn']} 副本"
        f"（每个 {args.workers} 个进程 × {args.threads} 个线程），{m['database']}，Redis {m['redis']}（Celery 代理与共享缓存，AOF），"
        f"媒体在 S3（moto 服务器模式）；Python {m['python']}，Django {m['django']}；客户端 httpx {m['httpx']}，每个用户一个线程；{m['axes']}",
        f"- 开始时的负载（1/5/15 分钟平均）：{m['load']}；结束时：{' / '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- 准备（建库、迁移、区域、参考文件、报告期、用户、collectstatic）：{setup_seconds:.0f} 秒，不计入下面的数字",
        f"- 用户在 {args.ramp:.0f} 秒内均匀开始，每个请求 {args.request_timeout:.0f} 秒超时，总时限 {args.hard_stop:.0f} 秒；每个用户 7 个请求：登录页、登录、填报页、保存 31 项、"
        "（重定向后的）填报页、保存并上报、填报页",
        f"- 第一个请求到最后一个响应：{f.first_to_last:.1f} 秒；共 {f.requests} 个请求，吞吐 {f.requests / f.first_to_last:.1f} 次/秒"
        f"（{f.users / f.first_to_last * 60:.0f} 个县上报/分钟）"
        if f.first_to_last
        else "- 没有请求",
        f"- 错误：{f.errors} 个请求，{len(f.failed_users)} 个用户未完成；重试后成功的瞬时失败（代理的 502/503/504 或断开的连接）：{f.transient} 个；状态码：{'，'.join(f'{k} × {v}' for k, v in sorted(f.statuses.items(), key=str))}",
        "",
        "| 请求 | 次数 | 错误 | p50 | p95 | p99 | 最长 | 平均 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, count, errors, p50, p95, p99, longest, mean in f.rows:
        name = f"**{kind}**" if kind == "全部" else kind
        lines.append(f"| {name} | {count} | {errors} | {_ms(p50)} | {_ms(p95)} | {_ms(p99)} | {_ms(longest)} | {_ms(mean)} |")
    if faults is not None:
        lines += ["", "注入的故障（时间从第一个用户开始算）："]
        lines += [f"- {at:.1f} 秒：{text}" for at, text in faults.events]
    lines += ["", "之后在数据库中核对："]
    lines += [f"- {'✅' if passed else '❌'} {description}" for description, passed in checks]
    for username, error in f.failed_users[:10]:
        lines.append(f"- ❌ {username}：{error}")
    return "\n".join(lines) + "\n"


LOAD_START, LOAD_END = "<!-- results:load:start -->", "<!-- results:load:end -->"
FAULTS_START, FAULTS_END = "<!-- results:faults:start -->", "<!-- results:faults:end -->"
FAULTS_INTRO = """## 故障演练

    python benchmarks/load.py --faults   # 同样 200 个县级用户，负载中依次注入三个故障

`Faults`（benchmarks/load.py）在负载进行中：让 worker-1 单独接一个四川的编制任务，任务进入“编制中”时对
worker-1 整个进程组发 SIGKILL（容器死掉的样子，消息留在 Redis 里未确认）；随即重启 Redis（SHUTDOWN 后按
AOF 重新启动，如 compose 中 `--appendonly yes`）；启动 worker-2，并在重启后排入重庆的编制任务；在开始后
0.4 × ramp 秒对 web-1（gunicorn 主进程与全部工作进程）发 SIGKILL，10 秒后重新启动它，如重启策略所做。
客户端把代理的 502/503/504 和断开的连接当作瞬时失败，停 1–3 秒后重试（至多 3 次）；POST 只有在重新读取
填报页证实没有生效时才重发，所以不会保存两次（核对中“每县版本号为 1”与“填报 200 × 31 条”即是证明）。
被杀的编制在可见性超时（`--visibility-timeout`，演练用 30 秒，生产默认 900 秒）后重新投递给 worker-2。
"""
LOAD_INTRO = """## 负载测试

    python benchmarks/load.py            # 200 个县级用户；PostgreSQL 127.0.0.1:5432（portal/portal），建库 load_…，跑完删除
    python benchmarks/load.py --quick    # 20 个用户，快速确认能跑通（只打印，--doc 则写入本节）

脚本在本机回环地址上把 docker-compose.yml 的部署以进程方式搭起来（本机不能运行容器，`benchmarks/stack.py`）：
Redis（Celery 代理与共享缓存，AOF）、S3（moto 服务器模式，媒体存储经 django-storages）、新建的 PostgreSQL 数据库
（迁移、区域与参考文件、本年度报告期、按代码顺序的前 200 个县各一个县级用户），`collectstatic` 后以生产设置
（`benchmarks.load_settings`，只为明文 http 关掉 Secure cookie 标志）启动 2 个 gunicorn 副本（各 2 个进程 × 2 个线程），
前面是 nginx（轮询，副本不可用时转给下一个）。200 个模拟县级填报员（线程，各自的 cookie）在 60 秒内均匀开始，
每人经 nginx 按固定顺序发 7 个请求：登录页、登录（CSRF）、填报页、保存 31 项（CSRF + 版本号）、重定向后的填报页、
保存并上报、填报页（确认“已上报”）；任何一步不对即停止该用户并记为错误，每个请求默认 60 秒超时（`--request-timeout`），
全程 5 分钟硬性时限；结束（包括 Ctrl-C、异常）时停止全部进程。随后在数据库里核对：该期填报恰为 200 × 31 条，
每县每项一条、内容与所填相同，200 个填报状态均为已上报，操作记录“填报”200 × 31 条、“上报”200 条。

- 登录用生产的口令哈希（Argon2id，19 MiB、2 遍，本机每次约 50 ms CPU），仍是登录请求里最重的一步。
  用户共用一个口令哈希（第一个用户经 `user_save` 建立，其余复制其哈希），只是为了准备快，不影响服务器端的
  验证开销。
- 延迟是客户端测得的（含排队）；客户端、nginx、gunicorn、PostgreSQL、Redis 与 S3 在同一台 2 核机器上争用 CPU，
  所以是保守的数字。
"""


def write_doc(text, path=DOC, faults=False):
    start, end = (FAULTS_START, FAULTS_END) if faults else (LOAD_START, LOAD_END)
    block = f"{start}\n{text}{end}"
    doc = path.read_text(encoding="utf-8")
    if start in doc and end in doc:
        doc = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _m: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + (FAULTS_INTRO if faults else LOAD_INTRO) + "\n" + block + "\n"
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
    parser.add_argument("--replicas", type=int, default=2, help="gunicorn 副本数（nginx 之后，默认 2）。")
    parser.add_argument("--workers", type=int, default=2, help="每个副本的 gunicorn 进程数（默认 2）。")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--faults", action="store_true", help="故障演练：负载中杀掉编制中的 worker、重启 Redis、杀掉一个 web 副本；客户端对瞬时失败重试。"
    )
    parser.add_argument("--visibility-timeout", type=int, default=30, help="Celery 未确认消息重新投递的秒数（默认 30；生产 900）。")
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
    deployment = Deployment(args, out)
    faults = None
    ok = False
    database_url, drop = database_create(args.database_url)
    try:
        os.environ["DATABASE_URL"] = database_url
        os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
        os.environ["BENCHMARK_BROKER_URL"] = deployment.redis.url(0)  # the fault run's compiles are queued here
        import django

        django.setup()
        out(f"数据库：{database_url.rsplit('@', 1)[-1]}")
        period, accounts, values = setup(args.users, out)
        from django.db import connections

        connections.close_all()
        deployment.serve(database_url)
        setup_seconds = time.perf_counter() - setup_started
        info = machine("postgresql")
        import gunicorn
        import httpx

        info.update(gunicorn=gunicorn.__version__, httpx=httpx.__version__, axes=axes_description(), **deployment.versions())
        out(f"{args.users} 个用户在 {args.ramp:.0f} 秒内开始，总时限 {args.hard_stop:.0f} 秒 …")
        if args.faults:
            faults = Faults(deployment, period, args.ramp, out)
            faults.thread.start()
        outcomes, elapsed = load(
            deployment.base,
            accounts,
            period.code,
            values,
            ramp=args.ramp,
            hard_stop=args.hard_stop,
            out=out,
            timeout=args.request_timeout,
            retries=3 if args.faults else 0,
        )
        checks = []
        if faults is not None:
            faults.thread.join(timeout=120)
            faults.wait_for_jobs(args.visibility_timeout + 150)
            checks += faults.verify()
        f = figures(outcomes, elapsed)
        checks = verify(period, accounts, values) + checks
        text = render(f, checks, info, args, setup_seconds, faults)
        print()
        print(text)
        ok = f.errors == 0 and not f.failed_users and all(passed for _d, passed in checks)
        if (not args.quick or args.doc) and not args.no_doc:
            write_doc(text, faults=args.faults)
            out(f"已写入 {DOC.relative_to(ROOT)}（{'故障演练' if args.faults else '负载测试'}一节）")
    finally:
        deployment.stop()
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
