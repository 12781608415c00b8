"""Demo data: a user for every role in Sichuan, re-runnable."""

import pytest
from django.core.management import call_command

from accounts.models import Role, User

# seed_demo uploads its application records: their files go to a folder of the test's own.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


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


def test_seed_demo_uploads_records_and_reliability_once_for_the_scorecard(capsys):
    from accounts.models import ChangeEvent, Region
    from indicators.applications.demo import DEMO_CITY, demo_record_periods
    from indicators.applications.levels import service_levels
    from indicators.models import Application
    from reporting.models import Reliability
    from reporting.scorecard_inputs import scorecard_get

    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "演示报装记录：" in out and "演示供电可靠性：" in out
    periods = demo_record_periods()
    assert len(periods) >= 2  # the latest and the one the scorecard compares it with
    city = Region.objects.get(code=DEMO_CITY)
    counties = set(Region.objects.filter(parent=city).values_list("pk", flat=True))
    for period in periods:
        assert set(Application.objects.filter(period=period, region__parent=city).values_list("region", flat=True)) == counties
    # through the import service: a batch per county and period, audited
    assert not Application.objects.filter(batch__isnull=True).exists()
    assert Reliability.objects.filter(region=city, source="演示数据（非真实数据）").count() == len({(p.year, p.kind) for p in periods})

    official, latest = User.objects.get(username="demo_province"), periods[-1]
    levels = service_levels(user=official, region=city, period=latest)
    assert levels.overall.count > 0
    assert any(share.met < share.covered for share in levels.overall.shares.values())
    card = scorecard_get(user=official, region=Region.objects.get(code="510000"), period=latest)
    assert card.previous == periods[-2]
    chengdu = next(row for row in card.cities if row.region == city)
    assert chengdu.current.overall is not None and chengdu.score_change is not None
    assert chengdu.province_rank is not None and chengdu.previous_province_rank is not None
    own = [row for row in card.counties if row.region.parent_id == city.pk]
    assert own and all(row.current.overall is not None and row.city_movement is not None for row in own)
    assert sum(row.current.overall is not None for row in card.cities) == 2  # 成都市 and the second city

    records, figures = Application.objects.count(), Reliability.objects.count()
    call_command("seed_demo")
    assert "演示报装记录：0 条" in capsys.readouterr().out
    assert (Application.objects.count(), Reliability.objects.count()) == (records, figures)
    assert ChangeEvent.objects.filter(type="reliability.changed").count() == figures  # recorded once, by the service
