"""Check-marks and the review flow, through the services every entry point uses."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Region
from indicators import review, services
from indicators.models import AuditEntry, Checkmark, Evidence, Indicator, Submission
from indicators.periods import parse_month, parse_period
from indicators.services import CheckmarkValue
from utilities.errors import PeriodLocked, StaleVersion, WrongState

pytestmark = pytest.mark.django_db

TODAY = date(2022, 7, 5)
DONE = CheckmarkValue("done", date(2022, 3, 1))
LATER = CheckmarkValue("not_done", expected_month=date(2022, 12, 1))


@pytest.fixture
def people(make_user):
    return {
        "county": make_user("k", "county", "510104", last_name="锦江填报员"),
        "county2": make_user("k2", "county", "510105"),
        "city": make_user("c", "city", "510100", last_name="成都审核员"),
        "province": make_user("p", "province", "510000", last_name="省能源局"),
        "other_city": make_user("oc", "city", "511100"),
        "other_county": make_user("ok", "county", "500103"),
    }


def county(code="510104"):
    return Region.objects.get(code=code)


def county_numbers():
    return list(Indicator.objects.filter(indicator_set__code="national-2021", level="county").values_list("number", flat=True))


def fill(user, region, period, value=DONE):
    return services.checkmarks_set(user=user, region=region, period=period, values=dict.fromkeys(county_numbers(), value), today=TODAY)


def test_period_codes():
    span = parse_period("2022S1")
    assert (span.starts, span.ends, span.deadline, span.kind) == (date(2022, 1, 1), date(2022, 6, 30), date(2022, 7, 15), "half")
    span = parse_period("2022")
    assert (span.ends, span.deadline, span.kind) == (date(2022, 12, 31), date(2023, 1, 15), "year")
    for bad in ("2022S2", "22S1", "2022H1", ""):
        with pytest.raises(ValueError, match="报告期"):
            parse_period(bad)
    assert parse_month("2021年8月") == parse_month("2021-08") == date(2021, 8, 1)
    with pytest.raises(ValueError, match="不是有效的月份"):
        parse_month("2021年13月")


def test_set_and_read_back_with_audit(people, period):
    submission, changed = fill(people["county"], county(), period)
    assert changed == 31 and submission.version == 1
    mark = Checkmark.objects.get(region=county(), period=period, indicator__number=3)
    assert (mark.status, mark.done_month, mark.display, mark.updated_by) == ("done", date(2022, 3, 1), "√", people["county"])
    entry = AuditEntry.objects.filter(indicator__number=3).get()
    assert (entry.user, entry.channel, entry.action, entry.before, entry.after) == (people["county"], "web", "set", "", "√ 2022年3月")


def test_unchanged_values_are_not_rewritten_nor_audited(people, period):
    fill(people["county"], county(), period)
    submission, changed = fill(people["county"], county(), period)
    assert changed == 0 and submission.version == 1
    assert AuditEntry.objects.filter(action="set").count() == 31


def test_a_change_records_from_what_to_what(people, period):
    services.checkmarks_set(user=people["county"], region=county(), period=period, values={2: LATER}, today=TODAY, channel="api")
    services.checkmarks_set(user=people["county"], region=county(), period=period, values={2: DONE}, today=TODAY)
    before, after = AuditEntry.objects.filter(indicator__number=2).order_by("pk")
    assert (before.before, before.after, before.channel) == ("", "预计 2022年12月", "api")
    assert (after.before, after.after, after.channel) == ("预计 2022年12月", "√ 2022年3月", "web")


@pytest.mark.parametrize(
    "values, message",
    [
        ({3: CheckmarkValue("done", date(2022, 8, 1))}, "指标 3：完成月份 2022年8月 晚于本月"),
        ({21: DONE}, "指标 21 不是本期县级指标"),
        ({99: DONE}, "指标 99 不是本期县级指标"),
        ({3: CheckmarkValue("maybe")}, "完成情况“maybe”无效"),
    ],
)
def test_bad_values_change_nothing(people, period, values, message):
    fill(people["county"], county(), period, LATER)
    before = list(Checkmark.objects.values_list("pk", "status", "done_month", "expected_month"))
    with pytest.raises(ValidationError, match=message):
        services.checkmarks_set(user=people["county"], region=county(), period=period, values={1: DONE, **values}, today=TODAY)
    assert list(Checkmark.objects.values_list("pk", "status", "done_month", "expected_month")) == before
    assert Submission.objects.get(region=county(), period=period).version == 1


def test_a_stale_form_is_refused_not_applied(people, period, make_user):
    colleague = make_user("k-colleague", "county", "510104", last_name="同事")
    services.checkmarks_set(user=people["county"], region=county(), period=period, values={1: LATER}, expected_version=0, today=TODAY)
    with pytest.raises(StaleVersion, match="已被锦江填报员于.*修改.*尚未保存"):
        services.checkmarks_set(user=colleague, region=county(), period=period, values={1: DONE}, expected_version=0, today=TODAY)
    assert Checkmark.objects.get(indicator__number=1, period=period, region=county()).status == "not_done"


def test_another_regions_county_is_refused(people, period):
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        services.checkmarks_set(user=people["other_county"], region=county(), period=period, values={1: DONE}, today=TODAY)
    with pytest.raises(PermissionDenied):
        services.checkmarks_set(user=people["county2"], region=county(), period=period, values={1: DONE}, today=TODAY)
    with pytest.raises(PermissionDenied, match="不能填报县级指标"):
        services.checkmarks_set(user=people["city"], region=county(), period=period, values={1: DONE}, today=TODAY)
    assert not Checkmark.objects.exists()


def test_submit_is_refused_with_the_missing_list(people, period):
    services.checkmarks_set(
        user=people["county"], region=county(), period=period, values={1: DONE, 2: CheckmarkValue("not_done")}, today=TODAY
    )
    with pytest.raises(ValidationError) as exc:
        services.county_submit(user=people["county"], region=county(), period=period, today=TODAY)
    message = " ".join(exc.value.messages)
    assert "以下指标尚未填写完整：2、3、4" in message
    assert "、1、" not in message and "21" not in message
    assert Submission.objects.get(region=county(), period=period).state == "draft"


def test_submit_refuses_expected_months_already_passed(people, period):
    fill(people["county"], county(), period)
    services.checkmarks_set(
        user=people["county"],
        region=county(),
        period=period,
        values={5: CheckmarkValue("not_done", expected_month=date(2022, 5, 1))},
        today=TODAY,
    )
    with pytest.raises(ValidationError, match="预计完成月份已过，请更新：5（2022年5月）"):
        services.county_submit(user=people["county"], region=county(), period=period, today=TODAY)


def test_the_whole_review_flow_locks_and_reopens(people, period):
    chengdu = Region.objects.get(code="510100")
    sichuan = Region.objects.get(code="510000")
    fill(people["county"], county(), period)
    services.county_submit(user=people["county"], region=county(), period=period, today=TODAY)
    with pytest.raises(WrongState, match="已上报"):
        services.checkmarks_set(user=people["county"], region=county(), period=period, values={1: LATER}, today=TODAY)
    with pytest.raises(ValidationError, match="必须填写原因"):
        review.county_return(user=people["city"], region=county(), period=period, reason="  ")
    with pytest.raises(PermissionDenied):
        review.county_return(user=people["other_city"], region=county(), period=period, reason="不是你的县")
    review.county_return(user=people["city"], region=county(), period=period, reason="指标 8 缺少佐证")
    assert Submission.objects.get(region=county(), period=period).reason == "指标 8 缺少佐证"
    services.checkmarks_set(user=people["county"], region=county(), period=period, values={8: LATER}, today=TODAY)
    services.county_submit(user=people["county"], region=county(), period=period, today=TODAY)
    review.county_approve(user=people["city"], region=county(), period=period)
    with pytest.raises(ValidationError, match="尚有 .* 个县未经市级审核"):
        review.city_accept(user=people["province"], region=chengdu, period=period)
    # Approve every other county of 成都 and of the province, as their cities would.
    others = Region.objects.filter(level="county", path__startswith="510000/").exclude(code="510104")
    Submission.objects.bulk_create([Submission(region=c, period=period, state="approved") for c in others])
    for city in Region.objects.filter(parent=sichuan):
        review.city_accept(user=people["province"], region=city, period=period)
    with pytest.raises(ValidationError, match="省级指标尚未填写：\\*21"):
        review.period_confirm(user=people["province"], region=sichuan, period=period, today=TODAY)
    province_values = dict.fromkeys((21, 27, 29, 30, 33), DONE)
    services.checkmarks_set(user=people["province"], region=sichuan, period=period, values=province_values, today=TODAY)
    review.period_confirm(user=people["province"], region=sichuan, period=period, today=TODAY)
    # Locked: every change refused with who and when.
    with pytest.raises(PeriodLocked, match="已由省能源局于.*确认锁定"):
        review.county_return(user=people["city"], region=county(), period=period, reason="再改一次")
    with pytest.raises(PeriodLocked):
        services.checkmarks_set(user=people["province"], region=county(), period=period, values={1: LATER}, today=TODAY)
    with pytest.raises(PeriodLocked):
        services.checkmarks_set(user=people["province"], region=sichuan, period=period, values={21: LATER}, today=TODAY)
    review.period_reopen(user=people["province"], region=sichuan, period=period, reason="国家能源局要求更正指标 8")
    review.county_return(user=people["city"], region=county(), period=period, reason="按省里要求更正")
    assert Submission.objects.get(region=chengdu, period=period).state == "draft"  # acceptance withdrawn
    steps = list(AuditEntry.objects.exclude(action="set").order_by("pk").values_list("action", "region__name"))
    assert steps[:5] == [("submit", "锦江区"), ("return", "锦江区"), ("submit", "锦江区"), ("approve", "锦江区"), ("accept", "成都市")]
    assert steps[-3:] == [("confirm", "四川省"), ("reopen", "四川省"), ("return", "锦江区")]


def test_encouraging_indicators_take_done_or_blank(people, period):
    sichuan = Region.objects.get(code="510000")
    with pytest.raises(ValidationError, match="鼓励性指标只能填“已开展”或留空"):
        services.checkmarks_set(user=people["province"], region=sichuan, period=period, values={37: LATER}, today=TODAY)
    services.checkmarks_set(user=people["province"], region=sichuan, period=period, values={37: CheckmarkValue("done")}, today=TODAY)
    assert Checkmark.objects.get(indicator__number=37).display == "已开展"


def test_opening_a_period_carries_every_region_forward(people, period):
    fill(people["county"], county(), period, LATER)
    services.checkmarks_set(user=people["county"], region=county(), period=period, values={4: DONE}, today=TODAY)
    full, copied = services.period_open(code="2022")
    assert copied == 31
    marks = {c.indicator.number: c for c in Checkmark.objects.filter(period=full).select_related("indicator")}
    assert marks[4].status == "done" and marks[1].expected_month == date(2022, 12, 1)
    assert marks[1].overdue(date(2023, 1, 10)) and not marks[1].overdue(date(2022, 12, 20))
    assert AuditEntry.objects.filter(action="carry", period=full, region__code="510000").exists()
    with pytest.raises(ValidationError, match="已经开放"):
        services.period_open(code="2022")


def _pdf(name="整改报告.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf")


def test_evidence_is_checked_by_content_and_audited(people, period, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    evidence = services.evidence_add(user=people["county"], region=county(), period=period, number=8, upload=_pdf())
    assert (evidence.kind, evidence.name, evidence.checkmark.indicator.number) == ("pdf", "整改报告.pdf", 8)
    assert AuditEntry.objects.filter(action="evidence", after="整改报告.pdf").exists()
    fake = SimpleUploadedFile("照片.png", b"MZ\x90\x00 not an image")
    with pytest.raises(ValidationError, match="照片.png"):
        services.evidence_add(user=people["county"], region=county(), period=period, number=8, upload=fake)
    with pytest.raises(ValidationError, match="超过上限"):
        services.evidence_add(user=people["county"], region=county(), period=period, number=8, upload=_pdf(), max_bytes=10)
    assert Evidence.objects.count() == 1


def test_open_period_command(capsys):
    from django.core.management import CommandError, call_command

    call_command("open_period", "2023S1")
    assert "已开放 2023年上半年（2023S1）" in capsys.readouterr().out
    with pytest.raises(CommandError, match="已经开放"):
        call_command("open_period", "2023S1")
    with pytest.raises(CommandError, match="格式不对"):
        call_command("open_period", "2023H1")


def test_admin_shows_checkmarks_read_only_and_scoped(client, people, period):
    from accounts.services import demo_users_create

    fill(people["county"], county(), period)
    fill(people["other_county"], county("500103"), period)
    demo_users_create()
    from accounts.models import User

    client.force_login(User.objects.get(username="demo_province"))
    page = client.get("/admin/indicators/checkmark/").content.decode()
    assert "锦江区" in page and "渝中区" not in page
    assert client.get("/admin/indicators/checkmark/add/").status_code == 403
