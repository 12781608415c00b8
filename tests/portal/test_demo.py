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


def test_seed_demo_fills_a_province_with_progress_and_reports():
    from indicators.models import Checkmark, Period, Submission
    from reporting.models import Benefit, ReportSnapshot

    call_command("seed_demo")
    assert Period.objects.count() == 4
    current = Period.objects.order_by("-ends").first()
    counties = Checkmark.objects.filter(period=current, indicator__level="county").values("region").distinct().count()
    assert counties == 183
    states = set(Submission.objects.filter(period=current, region__level="county").values_list("state", flat=True))
    assert {"draft", "submitted", "returned", "approved"} <= states
    assert Submission.objects.filter(state="confirmed", region__code="510000").count() == 3
    assert Benefit.objects.filter(region__parent__code="510000").exists()
    assert ReportSnapshot.objects.filter(region__code="510000").count() == 2
    done = Checkmark.objects.filter(period=current, status="done").count()
    first = Checkmark.objects.filter(period=Period.objects.order_by("ends").first(), status="done").count()
    assert done > first  # progress accumulates over the periods
