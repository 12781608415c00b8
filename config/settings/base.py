"""Settings shared by every environment; everything that differs comes from the environment.

With no environment set the portal is self-contained: SQLite in WAL mode and Celery on kombu's
filesystem transport with results in the database, so one `make run` gives a working portal.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

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
    "portal",  # the top app: home page, demo data, cross-app template tags
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "utilities.middleware.SecurityHeadersMiddleware",
    "utilities.middleware.CacheControlMiddleware",
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "utilities.heartbeat", "schedule": 60.0},
    # Drafts of every province's tables right after each half-year ends (1 July, 1 January).
    "draft-compile": {
        "task": "reporting.draft_compile_all",
        "schedule": crontab(minute=30, hour=1, day_of_month=1, month_of_year="1,7"),
    },
    # Every morning: reminders to counties and cities that have not submitted, as deadlines near.
    "deadline-reminders": {"task": "accounts.deadline_reminders", "schedule": crontab(minute=0, hour=8)},
    # Every morning: assignments past their milestone become 逾期; their regions and the due-soon ones are told once.
    "ledger-overdue": {"task": "ledger.mark_overdue", "schedule": crontab(minute=30, hour=7)},
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
