"""The production deployment (issue 15 §1).

This machine runs no containers, so docker-compose.yml and deploy/nginx.conf are checked as files
(what `docker compose config` would accept, and what the deployment promises: no demo data, no
published data ports, secrets only from the env file, one beat, web behind nginx). The production
settings themselves are booted for real in subprocesses, against the real PostgreSQL (a fresh
database), Redis and an S3 server (moto in server mode) started here.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from accounts.models import Role, User
from indicators.applications import MAX_BYTES as APPLICATION_MAX_BYTES
from indicators.evidence import DEFAULT_MAX_BYTES as EVIDENCE_MAX_BYTES
from indicators.models import Checkmark
from tests.conftest import require

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
NGINX_CONF = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
DATA_SERVICES = ("db", "redis", "minio")
LONG_RUNNING = ("db", "redis", "minio", "web", "worker", "beat", "nginx")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY\b|ACCESS_KEY", re.I)
INTERPOLATION = re.compile(r"\$\{[^}]*\}")
GOOD_KEY = "deployment-test-" + "Qx7" * 20
SITE = "dianli.example.gov.cn"


def command_text(service):
    parts = []
    for key in ("entrypoint", "command"):
        value = service.get(key) or []
        parts += value if isinstance(value, list) else [value]
    return " ".join(str(p) for p in parts)


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return env


def depends_on(service):
    value = service.get("depends_on") or {}
    return {name: {} for name in value} if isinstance(value, list) else value


def env_example_values():
    values = {}
    for line in ENV_EXAMPLE.splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values.setdefault(match[1], (match[2].split("  #")[0].strip(), not line.startswith("#")))
    return values


# --- docker-compose.yml ---------------------------------------------------------------------------


def interpolated(value):
    """Compose's variable interpolation with nothing set: defaults used, required ones filled in."""
    if isinstance(value, dict):
        return {key: interpolated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolated(item) for item in value]
    if not isinstance(value, str):
        return value

    def one(match):
        name, sep, rest = re.match(r"([A-Za-z0-9_]+)(:-|:\?|-|\?)?(.*)", match[1]).groups()
        assert sep in (":-", ":?"), f"${{{match[1]}}}: give a default (:-) or a message (:?)"
        return rest if sep == ":-" else f"from-env-{name.lower()}"

    return re.sub(r"(?<!\$)\$\{([^}]*)\}", one, value).replace("$$", "$")


def test_the_compose_file_is_valid_compose():
    """What `docker compose config` checks: the Compose Specification's JSON schema, after
    interpolation (deploy/compose-spec.json is the schema docker-compose 1.29 ships, Apache-2.0)."""
    import jsonschema

    resolved = interpolated(COMPOSE)
    for service in resolved["services"].values():
        if "deploy" in service:  # compose casts this field after interpolating
            service["deploy"]["replicas"] = int(service["deploy"]["replicas"])
    schema = json.loads((ROOT / "deploy" / "compose-spec.json").read_text(encoding="utf-8"))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in jsonschema.Draft201909Validator(schema).iter_errors(resolved)
    ]
    assert errors == []
    undefined = {name for service in SERVICES.values() for name in depends_on(service)} - set(SERVICES)
    assert not undefined, undefined
    named = {
        str(v).split(":")[0] for service in SERVICES.values() for v in service.get("volumes", []) if not str(v).startswith((".", "/", "$"))
    }
    assert named <= set(COMPOSE["volumes"]), named - set(COMPOSE["volumes"])


def test_the_deployment_has_its_parts():
    assert set(LONG_RUNNING) <= set(SERVICES), sorted(SERVICES)
    assert "postgres" in SERVICES["db"]["image"] and "redis" in SERVICES["redis"]["image"]
    assert "minio" in SERVICES["minio"]["image"] and "nginx" in SERVICES["nginx"]["image"]
    web_env = environment(SERVICES["web"])
    assert web_env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    # by default every URL names a service of this file
    hosts = {name: urlsplit(interpolated(web_env[name])).hostname for name in ("DATABASE_URL", "CELERY_BROKER_URL", "AWS_S3_ENDPOINT_URL")}
    assert hosts == {"DATABASE_URL": "db", "CELERY_BROKER_URL": "redis", "AWS_S3_ENDPOINT_URL": "minio"}
    assert web_env["AWS_STORAGE_BUCKET_NAME"]
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_CACHE_URL"):
        assert web_env[name] == environment(SERVICES["worker"])[name] == environment(SERVICES["beat"])[name]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_is_complete(name):
    service = SERVICES[name]
    assert service.get("image") or service.get("build"), f"{name}: no image or build"
    check = service.get("healthcheck") or {}
    assert not check.get("disable") and check.get("test"), f"{name}: no healthcheck"
    restart = service.get("restart")
    assert restart in ("always", "unless-stopped", "on-failure", "no"), f"{name}: restart={restart!r}"
    if restart == "no":  # a one-shot: something must wait for it to finish well
        waiting = [
            other for other, s in SERVICES.items() if depends_on(s).get(name, {}).get("condition") == "service_completed_successfully"
        ]
        assert waiting, f"{name} runs once but nothing waits for it"
    else:
        assert name in LONG_RUNNING, f"{name}: unexpected long-running service"
    assert "seed_demo" not in command_text(service), f"{name} runs seed_demo"
    assert not (service.get("container_name") and service.get("deploy", {}).get("replicas") not in (None, 1))


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_no_secret_is_written_in_the_compose_file(name):
    for key, value in environment(SERVICES[name]).items():
        value = INTERPOLATION.sub("FROM-ENV", str(value))
        if SECRET_NAME.search(key):
            assert value in ("FROM-ENV", ""), f"{name}.{key} holds a literal secret"
        if "://" in value:
            assert urlsplit(value).password in (None, "FROM-ENV"), f"{name}.{key} has a password in its URL"


def test_required_secrets_stop_compose_with_a_message():
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for name in (
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "MINIO_ROOT_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
    ):
        assert re.search(r"\$\{" + name + r":\?[^}]+\}", text), f"{name} is not required with ${{{name}:?message}}"
    documented = env_example_values()
    for name in set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text)):
        assert name in documented, f"{name} is used by docker-compose.yml but not documented in .env.example"


def test_data_services_publish_no_port_and_web_is_behind_nginx():
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"nginx"}, published
    for name in DATA_SERVICES:
        assert not SERVICES[name].get("ports") and not SERVICES[name].get("network_mode")
    assert depends_on(SERVICES["nginx"])["web"]["condition"] == "service_healthy"
    mounts = [str(v) for v in SERVICES["nginx"]["volumes"]]
    assert any(m.startswith("./deploy/nginx.conf:/etc/nginx/nginx.conf") for m in mounts), mounts
    # the static files nginx serves are the ones the migrate service collected
    static_volume = next(m.split(":")[0] for m in mounts if ":/srv/static" in m)
    assert any(str(v).startswith(f"{static_volume}:") for v in SERVICES["migrate"]["volumes"])
    assert "collectstatic" in command_text(SERVICES["migrate"])


def test_scaling_web_and_workers_and_exactly_one_beat():
    for name in ("web", "worker"):
        replicas = str(SERVICES[name]["deploy"]["replicas"])
        assert re.fullmatch(r"\d+|\$\{[A-Z_]+:-\d+\}", replicas), replicas
        assert not SERVICES[name].get("container_name")  # `--scale` needs generated names
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    beats = [name for name, service in SERVICES.items() if re.search(r"celery\b.*\bbeat\b", command_text(service))]
    assert beats == ["beat"]
    assert "gunicorn" in command_text(SERVICES["web"]) and "worker" in command_text(SERVICES["worker"])


def test_migrate_runs_once_before_the_app_and_loads_no_demo_data():
    script = command_text(SERVICES["migrate"])
    order = [script.index(step) for step in ("manage.py migrate", "load_regions", "load_reference", "create_admin")]
    assert order == sorted(order), script
    for name in ("web", "worker", "beat"):
        assert depends_on(SERVICES[name])["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on(SERVICES[name])["db"]["condition"] == "service_healthy"
    env = environment(SERVICES["migrate"])
    assert {"PORTAL_ADMIN_USERNAME", "PORTAL_ADMIN_PASSWORD", "PORTAL_ADMIN_EMAIL"} <= set(env)


# --- deploy/nginx.conf ----------------------------------------------------------------------------


def nginx_size(text):
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", text.lower()).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


def test_nginx_proxies_to_web_and_serves_static():
    assert re.search(r"server\s+web:8000\b", NGINX_CONF)
    assert re.search(r"proxy_pass\s+http://portal_web;", NGINX_CONF)
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;", NGINX_CONF)
    assert re.search(r"proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;", NGINX_CONF)
    assert re.search(r"proxy_set_header\s+Host\s+\$host;", NGINX_CONF)
    assert re.search(r"location /static/ \{\s*alias /srv/static/;", NGINX_CONF)
    # metrics are read by the monitoring network only: not through the public proxy
    assert re.search(r"location \^~ /metrics \{\s*return 404;", NGINX_CONF)


def test_nginx_body_limit_matches_the_largest_upload():
    limit = nginx_size(re.search(r"client_max_body_size\s+(\w+);", NGINX_CONF)[1])
    largest = max(APPLICATION_MAX_BYTES, EVIDENCE_MAX_BYTES)
    # big enough that the portal, not nginx, refuses an oversize file; not far beyond it
    assert largest < limit <= largest + 4 * 1024 * 1024


def test_nginx_braces_balance():
    text = re.sub(r"#.*", "", NGINX_CONF)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "", text)
    assert text.count("{") == text.count("}")


# --- commands under the settings of this test run (SQLite or PostgreSQL) ------------------------


@pytest.mark.django_db
def test_seed_demo_refuses_under_production_settings():
    users, checkmarks = User.objects.count(), Checkmark.objects.count()
    with override_settings(PRODUCTION=True), pytest.raises(CommandError, match="生产配置.*禁止创建演示数据"):
        call_command("seed_demo")
    assert (User.objects.count(), Checkmark.objects.count()) == (users, checkmarks)


@pytest.fixture
def admin_env(monkeypatch):
    monkeypatch.setenv("PORTAL_ADMIN_USERNAME", "chief")
    monkeypatch.setenv("PORTAL_ADMIN_PASSWORD", "Gd#first-admin-2026")
    monkeypatch.setenv("PORTAL_ADMIN_EMAIL", "chief@example.gov.cn")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    return monkeypatch


@pytest.mark.django_db
def test_create_admin_from_the_environment_is_idempotent(admin_env, capsys):
    call_command("create_admin", "--no-input")
    chief = User.objects.get(username="chief")
    assert chief.is_superuser and chief.is_staff and chief.is_active and chief.role == Role.NATIONAL and chief.region is None
    assert chief.email == "chief@example.gov.cn"
    assert authenticate(username="chief", password="Gd#first-admin-2026") == chief
    assert "已创建管理员" in capsys.readouterr().out
    # a second run (every `docker compose up`) keeps a password changed since
    chief.set_password("Changed#by-the-admin-1")
    chief.save()
    admin_env.setenv("PORTAL_ADMIN_PASSWORD", "Another#password-2026")
    call_command("create_admin", "--no-input")
    assert "已存在" in capsys.readouterr().out
    assert User.objects.filter(username="chief").count() == 1
    assert User.objects.get(username="chief").check_password("Changed#by-the-admin-1")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("unset", "changes", "message"),
    [
        ("PORTAL_ADMIN_USERNAME", {}, "PORTAL_ADMIN_USERNAME"),
        ("PORTAL_ADMIN_PASSWORD", {}, "PORTAL_ADMIN_PASSWORD"),
        (None, {"PORTAL_ADMIN_PASSWORD": "12345678"}, "PORTAL_ADMIN_PASSWORD（管理员密码）不符合要求"),
        (None, {"PORTAL_ADMIN_PASSWORD": "chief"}, "不符合要求"),
        (None, {"PORTAL_ADMIN_EMAIL": "not-an-address"}, "PORTAL_ADMIN_EMAIL"),
        (None, {"PORTAL_ADMIN_USERNAME": "bad name!"}, "管理员账号无效"),
    ],
)
def test_create_admin_refuses_bad_input_and_writes_nothing(admin_env, unset, changes, message):
    if unset:
        admin_env.delenv(unset)
    for key, value in changes.items():
        admin_env.setenv(key, value)
    before = User.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("create_admin", "--no-input")
    assert User.objects.count() == before


@pytest.mark.django_db
def test_create_admin_does_not_promote_an_ordinary_account(admin_env, make_user):
    make_user("chief", "county", "510104")
    with pytest.raises(CommandError, match="普通账号"):
        call_command("create_admin", "--no-input")
    chief = User.objects.get(username="chief")
    assert not chief.is_superuser and not chief.is_staff and chief.role == "county"


@pytest.mark.django_db
def test_create_admin_asks_in_a_terminal(monkeypatch):
    for name in ("PORTAL_ADMIN_USERNAME", "PORTAL_ADMIN_PASSWORD", "PORTAL_ADMIN_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    answers = iter(["root2026", "root@example.gov.cn"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "Typed#in-a-terminal-9")
    call_command("create_admin")
    assert User.objects.get(username="root2026").check_password("Typed#in-a-terminal-9")
    typed = iter(["One#password-000", "Other#password-000"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    answers = iter(["root2027", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="两次输入的密码不一致"):
        call_command("create_admin")
    assert not User.objects.filter(username="root2027").exists()


# --- the production settings, booted in subprocesses ----------------------------------------------


def production_env(**overrides):
    """This process's environment minus anything that would change the settings, plus production's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_", "PORTAL_ADMIN_"))}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "STATIC_ROOT"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS=SITE,
        DJANGO_CSRF_TRUSTED_ORIGINS=f"https://{SITE}",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(*args, env, timeout=300):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": None}, "未设置 DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "dev-only-insecure-key-change-me"}, "DJANGO_SECRET_KEY 仍是示例中的占位值"),
        ({"DJANGO_SECRET_KEY": env_example_values()["DJANGO_SECRET_KEY"][0]}, "DJANGO_SECRET_KEY 仍是示例中的占位值"),
        ({"DJANGO_SECRET_KEY": "short-but-random-Zx81"}, "DJANGO_SECRET_KEY 太短"),
        ({"DJANGO_SECRET_KEY": "ab" * 40}, "DJANGO_SECRET_KEY 太短或过于简单"),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG 已开启"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "未设置 DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_CSRF_TRUSTED_ORIGINS": None}, "未设置 DJANGO_CSRF_TRUSTED_ORIGINS"),
        ({"DJANGO_CSRF_TRUSTED_ORIGINS": SITE}, "缺少协议"),
    ],
)
def test_production_refuses_to_start_unsafe(overrides, message):
    result = manage("check", env=production_env(**overrides), timeout=120)
    assert result.returncode != 0
    assert "生产配置拒绝启动" in result.stderr and message in result.stderr, result.stderr[-2000:]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto in server mode on a free loopback port, with the media bucket created."""
    executable = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    require(Path(executable).exists(), "找不到 moto_server（pip install 'moto[server]'）")
    import boto3

    port = free_port()
    process = subprocess.Popen([executable, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto_server 未能启动")
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id="portal", aws_secret_access_key="portal-secret", region_name="us-east-1"
        )
        s3.create_bucket(Bucket="portal-media")
        yield {"endpoint": endpoint, "bucket": "portal-media", "client": s3}
    finally:
        process.terminate()
        process.wait(timeout=10)


def postgres_url():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return os.environ.get("TEST_POSTGRES_URL", "postgres://portal:portal@127.0.0.1:5432/portal")


@pytest.fixture
def fresh_postgres():
    """A new, empty PostgreSQL database (the role has CREATEDB), dropped afterwards."""
    import psycopg2

    url = postgres_url()
    parts = urlsplit(url)
    try:
        admin = psycopg2.connect(url, connect_timeout=3)
    except psycopg2.OperationalError as error:
        require(False, f"PostgreSQL 不可用（{parts.hostname}:{parts.port}）：{error}")
    admin.autocommit = True
    name = f"portal_deploy_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


BOOT_SCRIPT = r"""
import json
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.db import connection
from django.test import Client

path = default_storage.save("deploy-check/证明.txt", ContentFile("佐证材料：生产部署检查".encode()))
with default_storage.open(path, "rb") as handle:
    body = handle.read().decode()
cache.set("deploy-check", "ok", 30)
client = Client()
secure = client.get("/health/", HTTP_HOST="__SITE__", HTTP_X_FORWARDED_PROTO="https")
plain = client.get("/login/", HTTP_HOST="__SITE__")
health_http = client.get("/health/", HTTP_HOST="__SITE__")
login = client.get("/login/", HTTP_HOST="__SITE__", HTTP_X_FORWARDED_PROTO="https")
other_host = client.get("/health/", HTTP_HOST="evil.example.com", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "storage": type(storages["default"]).__module__ + "." + type(storages["default"]).__name__,
    "path": path,
    "body": body,
    "cache": cache.get("deploy-check"),
    "cache_backend": settings.CACHES["default"]["BACKEND"],
    "vendor": connection.vendor,
    "debug": settings.DEBUG,
    "secure_status": secure.status_code,
    "hsts": secure.headers.get("Strict-Transport-Security", ""),
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
    "health_http_status": health_http.status_code,
    "login_status": login.status_code,
    "csrf_cookie_secure": bool(login.cookies["csrftoken"]["secure"]) if "csrftoken" in login.cookies else None,
    "other_host_status": other_host.status_code,
}))
"""


def test_production_settings_boot_on_postgresql_redis_and_s3(fresh_postgres, redis_url, s3_server, tmp_path):
    """check --deploy, the migrate service's commands, the first admin and media on S3, for real."""
    media_root = tmp_path / "media"
    env = production_env(
        DATABASE_URL=fresh_postgres,
        CELERY_BROKER_URL=redis_url,
        DJANGO_CACHE_URL=redis_url.replace("redis://", "rediscache://", 1),
        AWS_STORAGE_BUCKET_NAME=s3_server["bucket"],
        AWS_S3_ENDPOINT_URL=s3_server["endpoint"],
        AWS_ACCESS_KEY_ID="portal",
        AWS_SECRET_ACCESS_KEY="portal-secret",
        AWS_LOCATION="media",
        MEDIA_ROOT=str(media_root),
        STATIC_ROOT=str(tmp_path / "static"),
        PORTAL_ADMIN_USERNAME="chief",
        PORTAL_ADMIN_PASSWORD="Gd#first-admin-2026",
        PORTAL_ADMIN_EMAIL="chief@example.gov.cn",
    )

    check = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert check.returncode == 0 and "no issues" in check.stdout, check.stdout + check.stderr

    # the one-shot migrate service, step by step, on an empty database
    for step in (
        ["migrate", "--noinput"],
        ["load_regions"],
        ["load_reference"],
        ["collectstatic", "--noinput"],
        ["create_admin", "--no-input"],
    ):
        result = manage(*step, env=env)
        assert result.returncode == 0, f"{step}: {result.stdout[-1500:]}{result.stderr[-3000:]}"
    assert "已创建管理员“chief”" in result.stdout
    again = manage("create_admin", "--no-input", env=env)
    assert again.returncode == 0 and "已存在" in again.stdout, again.stderr

    refused = manage("seed_demo", env=env)
    assert refused.returncode != 0 and "禁止创建演示数据" in refused.stderr, refused.stdout + refused.stderr

    import psycopg2

    with psycopg2.connect(fresh_postgres) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT username, is_superuser, role FROM accounts_user ORDER BY username")
        assert cursor.fetchall() == [("chief", True, "national")]  # no demo account was written
        cursor.execute("SELECT count(*) FROM accounts_region")
        assert cursor.fetchone()[0] > 3000

    boot = manage("shell", "-c", BOOT_SCRIPT.replace("__SITE__", SITE), env=env)
    assert boot.returncode == 0, boot.stdout[-1500:] + boot.stderr[-3000:]
    facts = json.loads(boot.stdout.strip().splitlines()[-1])
    assert facts["storage"] == "storages.backends.s3.S3Storage" and facts["vendor"] == "postgresql" and not facts["debug"]
    assert facts["body"] == "佐证材料：生产部署检查"
    assert facts["cache"] == "ok" and facts["cache_backend"].endswith("RedisCache")
    # the file is an object in the bucket, not a file on this disk
    stored = s3_server["client"].get_object(Bucket=s3_server["bucket"], Key=f"media/{facts['path']}")
    assert stored["Body"].read().decode() == "佐证材料：生产部署检查"
    assert not media_root.exists() or not any(media_root.rglob("*.txt"))
    # behind the proxy: https is recognised, http redirected (health excepted), hosts enforced
    assert facts["secure_status"] == 200 and "max-age=31536000" in facts["hsts"]
    assert facts["plain_status"] == 301 and facts["plain_location"] == f"https://{SITE}/login/"
    assert facts["health_http_status"] == 200
    assert facts["login_status"] == 200 and facts["csrf_cookie_secure"] is True
    assert facts["other_host_status"] == 400
