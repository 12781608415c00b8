"""Production: DJANGO_SETTINGS_MODULE=config.settings.production.

Start-up refuses, with a message naming the variable, what would make the deployment unsafe: a
missing, placeholder or short DJANGO_SECRET_KEY, DJANGO_DEBUG on, no DJANGO_ALLOWED_HOSTS or
DJANGO_CSRF_TRUSTED_ORIGINS. Media go to S3 when AWS_STORAGE_BUCKET_NAME is set (config.settings.base).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import env

# Marks these settings for commands that must never run here (seed_demo).
PRODUCTION = True

# Keys that were ever written down in this repository (base.py's development default, the example
# env file, the old compose default): anyone can read them, so they sign nothing.
PLACEHOLDER_SECRET_KEYS = {
    "dev-only-insecure-key-change-me",
    "change-me-to-a-long-random-string-of-at-least-50-characters",
    "change-me-in-production-please-0123456789abcdef",
    "build-only",
    "a-long-random-string",
}
SECRET_KEY_MIN_LENGTH = 50  # what `check --deploy` (security.W009) asks for


def _refuse(message):
    raise ImproperlyConfigured(f"生产配置拒绝启动：{message}")


def secret_key_problem(key):
    """Why this key may not sign sessions in production, or None."""
    if not key:
        return "未设置 DJANGO_SECRET_KEY。"
    if key in PLACEHOLDER_SECRET_KEYS or key.startswith(("change-me", "django-insecure-")):
        return "DJANGO_SECRET_KEY 仍是示例中的占位值，请换成随机生成的密钥。"
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < 5:
        return f"DJANGO_SECRET_KEY 太短或过于简单（{len(key)} 个字符），至少需要 {SECRET_KEY_MIN_LENGTH} 个随机字符。"
    return None


_problem = secret_key_problem(env("DJANGO_SECRET_KEY", default=""))
if _problem:
    _refuse(_problem + ' 生成方法：python -c "import secrets; print(secrets.token_urlsafe(64))"。各主机须使用同一个密钥。')
SECRET_KEY = env("DJANGO_SECRET_KEY")

if env.bool("DJANGO_DEBUG", default=False):
    _refuse("DJANGO_DEBUG 已开启；调试模式会在错误页中泄露配置和数据，生产环境必须为 false。")
DEBUG = False

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    _refuse("未设置 DJANGO_ALLOWED_HOSTS（门户对外的域名，逗号分隔，例如 dianli.example.gov.cn）。")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if not CSRF_TRUSTED_ORIGINS:
    _refuse("未设置 DJANGO_CSRF_TRUSTED_ORIGINS（带协议的来源，逗号分隔，例如 https://dianli.example.gov.cn）。")
_bad_origins = [origin for origin in CSRF_TRUSTED_ORIGINS if not origin.startswith(("https://", "http://"))]
if _bad_origins:
    _refuse(f"DJANGO_CSRF_TRUSTED_ORIGINS 中的“{'、'.join(_bad_origins)}”缺少协议，应写作 https://域名。")

# TLS ends at the reverse proxy (deploy/nginx.conf), which sets X-Forwarded-Proto; Django trusts
# that header only because gunicorn is reachable from the proxy alone (no published port).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The proxy's own health probe and the container healthcheck speak plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Logs as JSON lines (docs/operations.md); LOG_FORMAT=text for a human reading a container's output.
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL)  # noqa: F405
# Prometheus scrapes each web replica directly over plain http inside the network (REMOTE_ADDR
# must be the scraper's own, so not through the proxy); /metrics answers only METRICS_ALLOWED_NETWORKS.
SECURE_REDIRECT_EXEMPT += [r"^metrics$"]
