"""Demo data: a user for every role in Sichuan, re-runnable."""
import pytest
from django.core.management import call_command

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_every_role_and_prints_credentials(capsys, client):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "仅供演示" in out
    roles = set(User.objects.filter(username__startswith="demo_").values_list("role", flat=True))
    assert roles == set(Role.values)
    for user in User.objects.filter(username__startswith="demo_"):
        assert user.username in out
        assert user.region is None or user.region.path.startswith("510000/")
    assert client.login(username="demo_county", password="Demo#2026")


def test_seed_demo_is_rerunnable():
    call_command("seed_demo")
    call_command("seed_demo")
    assert User.objects.filter(username="demo_county").count() == 1
