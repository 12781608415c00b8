"""Settings shared by every environment; everything that differs comes from the environment.

With no environment set the portal is self-contained: SQLite in WAL mode and Celery on kombu's
filesystem transport with results in the database, so one `make run` gives a working portal.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

from utilities.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Headers and cookies in every environment (production adds HTTPS-only ones). The
# Content-Security-Policy and Permissions-Policy come from utilities.middleware.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie (forms carry {% csrf_token %}), so scripts may not read it at all.
CSRF_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "import_export",
    "django_celery_results",
    "django_celery_beat",
    "rules",
    "accounts",
    "indicators",
    "ledger",
    "reporting",
    "utilities",
    "axes",
    # Two-factor login (accounts.otp): TOTP authenticators and their one-time recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal",  # the top app: home page, demo data, cross-app template tags
]

MIDDLEWARE = [
    # First and (nearly) last: django-prometheus times the whole request between the two.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Request id, user and region for every log line of the request (reads request.user).
    "utilities.middleware.RequestContextMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the session gave a TOTP code
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout and absolute lifetime of a signed-in session (accounts.sessions).
    "accounts.middleware.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "utilities.middleware.SecurityHeadersMiddleware",
    "utilities.middleware.CacheControlMiddleware",
    # An unverified session reaches only the code/enrolment pages (needs messages and OTPMiddleware).
    "accounts.otp.SecondFactorMiddleware",
    # An expired or administrator-set password: only the change page until it is changed.
    "accounts.middleware.PasswordPolicyMiddleware",
    # Idempotency-Key on API writes: after every refusal above, before the view (accounts.api.idempotency).
    "accounts.api.idempotency.IdempotencyMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.notifications",
            ],
        },
    },
]

SQLITE_PATH = Path(env("SQLITE_PATH", default=str(VAR_DIR / "db.sqlite3")))
DATABASES = {
    "default": env.db(
        "DATABASE_URL",
        default=f"sqlite:///{SQLITE_PATH}",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server read while the Celery worker writes; IMMEDIATE transactions take
    # the write lock up front, so concurrent writers wait (timeout) instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Per-process memory by default; DJANGO_CACHE_URL=rediscache://… shares API rate limits across workers.
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="locmemcache://")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out username+IP before the password is even checked.
# API tokens do not go through authenticate() and are not affected.
# Authentication by the model backend; every permission from accounts.policy (django-rules).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.RegionModelBackend",
    "rules.permissions.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: after AXES_FAILURE_LIMIT failed logins from one IP for one username that pair
# is locked out for AXES_COOLOFF_MINUTES (a correct password is refused meanwhile). Unlock early
# with `manage.py axes_reset_username <用户名>` or in the admin (Axes → Access attempts).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_COOLOFF_MESSAGE = "登录失败次数过多，账户已暂时锁定，请稍后再试。"
AXES_PERMALOCK_MESSAGE = "登录失败次数过多，账户已锁定，请联系管理员解锁。"

# Audit retention (等保2.0 8.1.4.3 c): the check-mark audit and the security-event log are kept at
# least this many days. Nothing deletes entries in this version; a lower value is refused.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=180)
if AUDIT_RETENTION_DAYS < 180:
    raise environ.ImproperlyConfigured(f"AUDIT_RETENTION_DAYS={AUDIT_RETENTION_DAYS}：审计记录保留期不得少于 180 天。")
# The client address behind the reverse proxies (utilities.client_ip): X-Forwarded-For counts only
# when the peer is one of TRUSTED_PROXIES (IPs or CIDRs); the client is TRUSTED_PROXY_COUNT hops
# before the peer. Empty (the default): the header is ignored and the peer is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
AXES_CLIENT_IP_CALLABLE = "utilities.client_ip.client_ip"

# Two-factor login (等保2.0 8.1.4.1 d): who must use it is accounts.policy.second_factor_required;
# OTP_REQUIRED=False stops forcing enrolment (whoever has enrolled still gives the code).
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=True)
OTP_TOTP_ISSUER = "获得电力台账"
# django-otp's back-off after a wrong code: 1, 2, 4, 8 … seconds (times this factor) per device.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# Password policy (GB/T 22239-2019 8.1.4.1, accounts.passwords): PASSWORD_MIN_LENGTH characters of
# at least 3 of 4 classes, none of the last PASSWORD_HISTORY_COUNT passwords, a change every
# PASSWORD_MAX_AGE_DAYS days (0: never) and at the first login after an administrator set it.
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=10)
PASSWORD_HISTORY_COUNT = env.int("PASSWORD_HISTORY_COUNT", default=5)
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
# Argon2id first (accounts.passwords.Argon2idHasher: why); PBKDF2 so existing hashes still verify.
PASSWORD_HASHERS = [
    "accounts.passwords.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.passwords.LengthValidator"},
    {"NAME": "accounts.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.HistoryValidator"},
]
# Sessions (8.1.4.1 c) in the database, so a user can end one (accounts.sessions): logged out after
# SESSION_IDLE_TIMEOUT_MINUTES without a request and SESSION_ABSOLUTE_LIFETIME_HOURS after login.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30))
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=env.int("SESSION_ABSOLUTE_LIFETIME_HOURS", default=12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_LIFETIME.total_seconds())

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it even before collectstatic
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Media (evidence, snapshots, uploads) on an S3-compatible store (MinIO, Ceph RGW, …) when a bucket
# is named, so every web and worker host reads the same files; MEDIA_ROOT otherwise. Files are
# private and always served through the portal's own views, never by a public bucket URL.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)  # e.g. http://minio:9000; unset for AWS itself
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default="us-east-1")
    AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
    AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
    AWS_LOCATION = env("AWS_LOCATION", default="media")  # key prefix inside the bucket
    AWS_S3_ADDRESSING_STYLE = env("AWS_S3_ADDRESSING_STYLE", default="path")  # MinIO and moto want path style
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_DEFAULT_ACL = None  # the bucket's policy (private) applies
    AWS_S3_FILE_OVERWRITE = False  # same name twice: a new key, as FileSystemStorage does
    AWS_QUERYSTRING_EXPIRE = 300

# Celery. The default broker is kombu's filesystem transport: a real broker between real
# processes (web, worker, beat) that needs no server. CELERY_BROKER_URL=redis://… at scale.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_QUEUE_DIR = Path(env("CELERY_QUEUE_DIR", default=str(VAR_DIR / "celery")))
if CELERY_BROKER_URL.startswith("filesystem"):
    for _folder in ("queue", "processed", "control"):
        (CELERY_QUEUE_DIR / _folder).mkdir(parents=True, exist_ok=True)
    # control_folder too: kombu's default is ./control in whatever directory a process starts from.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
else:
    # With acks_late, a task whose worker died is handed to another worker after this many seconds:
    # longer than the longest compile (minutes), far shorter than Redis's default hour.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900)}
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False

# Reminders and notifications: in the portal always, by e-mail too when NOTIFY_BY_EMAIL is set.
NOTIFY_BY_EMAIL = env.bool("NOTIFY_BY_EMAIL", default=False)
# Deadline reminders: blue from REMINDER_DAYS_BEFORE days before, yellow from REMINDER_YELLOW_DAYS,
# red on the day and then daily for REMINDER_DAYS_AFTER days while a county is still missing something.
REMINDER_DAYS_BEFORE = env.int("REMINDER_DAYS_BEFORE", default=7)
REMINDER_YELLOW_DAYS = env.int("REMINDER_YELLOW_DAYS", default=3)
REMINDER_DAYS_AFTER = env.int("REMINDER_DAYS_AFTER", default=15)
SITE_URL = env("SITE_URL", default="")  # e.g. https://dianli.example.gov.cn, for links in e-mails
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="获得电力台账 <noreply@localhost>")

# Logs (docs/operations.md): LOG_FORMAT=json writes one JSON object a line with the request id, user
# id and region code (utilities.logging); text is for a developer's terminal. Production defaults to json.
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL)
# Workers keep these handlers (JSON lines too) instead of Celery's own; a task logs under the
# request id of the request that enqueued it (utilities.logging).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Health and metrics (docs/operations.md). /health/live/ consults nothing; /health/ready/ checks the
# database, cache, Celery broker, default storage and — unless HEALTH_CHECK_CELERY=false — that a
# Celery worker answers a ping, each within HEALTH_CHECK_TIMEOUT seconds.
INSTALLED_APPS += ["health_check", "django_prometheus"]
HEALTH_CHECK_CELERY = env.bool("HEALTH_CHECK_CELERY", default=True)
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=3.0)
# /metrics answers only peers (REMOTE_ADDR) in these networks; everyone else gets 404.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
# Query counts and latency per database through django-prometheus's engine wrappers (same SQL,
# same vendor; only SQLite and PostgreSQL are wrapped). PROMETHEUS_DB_METRICS=false keeps Django's own.
_PROMETHEUS_ENGINES = {
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
}
if env.bool("PROMETHEUS_DB_METRICS", default=True):
    for _database in DATABASES.values():
        _database["ENGINE"] = _PROMETHEUS_ENGINES.get(_database["ENGINE"], _database["ENGINE"])

CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "utilities.heartbeat", "schedule": 60.0},
    # Idempotency-Key records are kept 24 hours (accounts.api.idempotency).
    "purge-idempotency": {"task": "utilities.purge_idempotency", "schedule": crontab(minute=15, hour=3)},
    # Drafts of every province's tables right after each half-year ends (1 July, 1 January).
    "draft-compile": {
        "task": "reporting.draft_compile_all",
        "schedule": crontab(minute=30, hour=1, day_of_month=1, month_of_year="1,7"),
    },
    # Every morning: reminders to counties and cities that have not submitted, as deadlines near.
    "deadline-reminders": {"task": "accounts.deadline_reminders", "schedule": crontab(minute=0, hour=8)},
    # Every morning: assignments past their milestone become 逾期; their regions and the due-soon ones are told once.
    "ledger-overdue": {"task": "ledger.mark_overdue", "schedule": crontab(minute=30, hour=7)},
    # Webhook deliveries whose retry is due (and any whose hand-off after commit was lost).
    "webhook-retries": {"task": "accounts.webhooks_retry", "schedule": 60.0},
}

# REST API for 政务平台 (/api/v1/): client tokens or the portal session, one error shape,
# a rate per client, page-number pagination, django-filter, OpenAPI 3 with Swagger UI served
# from drf-spectacular-sidecar (no CDN).
INSTALLED_APPS += ["django_filters", "drf_spectacular", "drf_spectacular_sidecar"]
# Also the API's body limit: a larger JSON body gets 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api.permissions.TokenWriteAccess",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": env("API_THROTTLE_RATE", default="600/minute")},
    "DEFAULT_PAGINATION_CLASS": "utilities.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "accounts.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.api.exceptions.exception_handler",
    "NON_FIELD_ERRORS_KEY": "body",
    # No OPTIONS self-description: the OpenAPI schema is the description (OPTIONS answers 405).
    "DEFAULT_METADATA_CLASS": None,
}
CHANGES_CURSOR_MAX_AGE_DAYS = env.int("CHANGES_CURSOR_MAX_AGE_DAYS", default=90)  # a change-feed cursor unused longer is refused
# Webhooks (accounts.webhooks): each POST waits at most WEBHOOK_TIMEOUT seconds and reads at most
# WEBHOOK_MAX_RESPONSE_BYTES of the answer; a failed delivery is retried after 1, 2, 4… minutes
# until WEBHOOK_RETRY_HOURS after its event. Private, loopback and link-local targets are refused
# unless WEBHOOK_ALLOW_PRIVATE (local and test settings only: a production portal must not be
# turned into a probe of its own network).
WEBHOOK_ALLOW_PRIVATE = False
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=5.0)
WEBHOOK_MAX_RESPONSE_BYTES = env.int("WEBHOOK_MAX_RESPONSE_BYTES", default=64 * 1024)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
SPECTACULAR_SETTINGS = {
    "TITLE": "获得电力台账 接口",
    "DESCRIPTION": (
        "供政务平台对接的 REST 接口：区域、指标体系、报告期与填报状态、县（省）指标填报、审核流程、服务效益（附件3）、统计报表。"
        "与门户页面同一套规则：只能查看和修改令牌所属区域及其下级的数据；每次写入都经过相同的校验、锁定、审核状态和操作记录（渠道“接口”）。"
        "认证：请求头 `Authorization: Token <密钥>`。错误一律返回 `{code, message, errors}`。详见 docs/api.md。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStateEnum": "indicators.models.SubmissionState",
        "PeriodKindEnum": "indicators.models.PeriodKind",
        "JobStateEnum": "reporting.models.JobState",
        "ReportKindEnum": "reporting.models.ReportKind",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "TAGS": [
        {"name": "区域", "description": "省、地市、县（GB/T 2260 代码）。"},
        {"name": "指标体系", "description": "国家 38 项指标及各省变体。"},
        {"name": "报告期与填报状态", "description": "报告期（2022S1、2022）及各区域本期所处的审核状态。"},
        {"name": "指标填报", "description": "县级 31 项、省级 7 项指标的读取与批量写入（ETag / If-Match）。"},
        {"name": "审核流程", "description": "上报、退回、审核、接收、确认、重新开放。"},
        {"name": "服务效益（附件3）", "description": "供电企业填报的“三零”“三省”服务效益。"},
        {"name": "统计报表", "description": "后台编制附件2、附件3 和全国汇总，查询进度，下载 Excel 或读取 JSON。"},
    ],
}

# Application records (用电报装): the most rows one county's upload for a period may have.
APPLICATION_MAX_ROWS = env.int("APPLICATION_MAX_ROWS", default=200_000)
