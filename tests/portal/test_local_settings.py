"""`make run` (config.settings.local): a newcomer sees the portal's Chinese error pages, never
Django's English debug page (issue 17 §5)."""

import os
import subprocess
import sys

from django.conf import settings

SCRIPT = """
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/no-such-page/")
print(settings.DEBUG, settings.WHITENOISE_USE_FINDERS, response.status_code)
print(response.content.decode())
"""


def test_make_run_shows_the_chinese_404_page_not_the_debug_page(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    first, page = result.stdout.split("\n", 1)
    assert first == "False True 404"
    assert "找不到页面" in page and "返回首页" in page
    assert "Page not found" not in page and "Django tried these URL patterns" not in page
