"""Application records (用电报装) prove or disprove the indicators about every application (issue 8 §1–§2).

The records below are made so that each count and each listed breach is known: a residential
application across the 2024 Spring Festival, one whose limit is met only because 2024-05-11 (a
Saturday) was a make-up working day, force-majeure cases, extra documents, a customer's investment.
They are written in the layout before issue 14 (one customer type), which must still import; the
attributes layout and the rules of issue 14 are tested in test_application_attributes.py.
"""

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from accounts.models import Notification, Region
from indicators import applications, services
from indicators.applications import (
    LEGACY_COLUMNS,
    applications_upload,
    conflicts,
    evaluate,
    rule_sets_for,
    tallies,
)
from indicators.models import (
    Application,
    ApplicationBatch,
    ApplicationRule,
    AuditEntry,
    CustomerType,
    IndicatorSet,
    Stage,
)
from indicators.selectors import review_matrix, sheet
from indicators.services import CheckmarkValue
from indicators.workdays import CalendarRangeError, coverage, working_days_between
from utilities import jobs
from utilities.errors import PeriodLocked
from utilities.excel import ImportFileError
from utilities.formatting import file_size_label
from utilities.models import JobState

pytestmark = pytest.mark.django_db

JINJIANG, QINGYANG, YUZHONG = "510104", "510105", "500103"
PAGE = f"/periods/2024S1/applications/{JINJIANG}/"
UPLOAD = PAGE + "upload/"
LABEL = dict(CustomerType.choices)
COLUMNS = LEGACY_COLUMNS  # the records below are in the old layout


# --- working days ----------------------------------------------------------------------------------


def test_working_days_skip_the_spring_festival_and_count_its_make_up_sunday():
    # 2024: 10–17 February off, Sunday 4 and Sunday 18 February worked (调休); 9 February was a working day.
    assert working_days_between(date(2024, 2, 8), date(2024, 2, 19)) == 3  # 9th, 18th, 19th
    assert working_days_between(date(2024, 2, 3), date(2024, 2, 5)) == 2  # Sunday 4th and Monday 5th


def test_working_days_count_a_make_up_saturday_and_not_the_start_day():
    assert working_days_between(date(2024, 5, 10), date(2024, 5, 13)) == 2  # Saturday 11 May worked
    assert working_days_between(date(2024, 5, 17), date(2024, 5, 20)) == 1  # an ordinary weekend
    assert working_days_between(date(2024, 3, 4), date(2024, 3, 4)) == 0


def test_working_days_refuse_reversed_dates_and_years_the_calendar_does_not_know():
    with pytest.raises(ValueError, match="早于开始日期"):
        working_days_between(date(2024, 3, 5), date(2024, 3, 4))
    first, last = coverage()
    assert first <= date(2021, 1, 1) and last >= date(2024, 12, 31)
    with pytest.raises(CalendarRangeError, match=f"超出节假日日历的范围（{first.year}—{last.year} 年）"):
        working_days_between(date(first.year - 1, 12, 1), date(2024, 1, 2))


# --- the rules, as data of each indicator set -----------------------------------------------------


def _rules(code, number):
    return {
        (r.applies_to, r.measure, r.stages): (r.limit, r.documents, r.excludes_force_majeure)
        for r in ApplicationRule.objects.filter(program__code=code, indicator__number=number)
    }


LV_OTHER, THREE_ZERO = "class=low_voltage;three_zero=no", "class=low_voltage;three_zero=yes"
SINGLE, DUAL = "class=high_voltage;dual_source=no", "class=high_voltage;dual_source=yes"


def test_the_national_rules_are_those_of_37_hao_wen_attachment_2_2():
    assert ApplicationRule.objects.filter(program__code="national-2021").count() == 30
    assert _rules("national-2021", 3) == {
        (LV_OTHER, "stage_days", "acceptance"): (1, "", False),
        (LV_OTHER, "stage_days", "scheme"): (3, "", False),
        (LV_OTHER, "stage_days", "connection"): (2, "", False),
        (LV_OTHER, "total_days", ""): (6, "", False),
    }
    four = _rules("national-2021", 4)
    assert [four[(SINGLE, "stage_days", s)][0] for s in Stage.values] == [1, 10, 3, 2, 3, 3]
    assert four[(SINGLE, "total_days", "")][0] == 22
    five = _rules("national-2021", 5)
    assert [five[(DUAL, "stage_days", s)][0] for s in Stage.values] == [1, 20, 3, 2, 3, 3]
    assert five[(DUAL, "total_days", "")][0] == 32
    assert _rules("national-2021", 6) == {("class=residential", "elapsed_days", ""): (5, "", True)}
    for number, limit in ((7, 25), (22, 20), (34, 15)):
        assert _rules("national-2021", number) == {(THREE_ZERO, "elapsed_days", ""): (limit, "", True)}
    for number, kind, limit in ((8, "class=residential", 2), (9, THREE_ZERO, 2), (10, LV_OTHER, 3)):
        assert _rules("national-2021", number) == {(kind, "stage_count", ""): (limit, "", False)}
    assert _rules("national-2021", 13) == {
        ("class=residential|low_voltage", "documents", ""): (None, "用电人有效身份证件、用电地址物权证件", False)
    }
    assert _rules("national-2021", 14) == {
        ("class=high_voltage", "documents", ""): (None, "用电人有效身份证件、用电地址物权证件、用电工程项目批准文件", False)
    }
    assert _rules("national-2021", 23) == {("small_micro=yes;area=urban;capacity_kw<=160", "zero_investment", ""): (None, "", False)}
    assert _rules("national-2021", 24) == {("small_micro=yes;area=rural;capacity_kw<=100", "zero_investment", ""): (None, "", False)}
    assert _rules("national-2021", 35) == {("small_micro=yes;capacity_kw<=160", "zero_investment", ""): (None, "", False)}


def test_chongqings_set_carries_its_stricter_limits_by_its_own_numbers():
    assert ApplicationRule.objects.filter(program__code="chongqing-2021", indicator__isnull=False).count() == 26
    three = _rules("chongqing-2021", 3)
    assert [three[(LV_OTHER, "stage_days", s)][0] for s in ("acceptance", "scheme", "connection")] == [1, 1, 2]
    assert three[(LV_OTHER, "total_days", "")][0] == 4
    four = _rules("chongqing-2021", 4)  # 设计审查、中间检查 abolished; 竣工检验和装表接电 one limit
    assert four == {
        (SINGLE, "stage_days", "acceptance"): (1, "", False),
        (SINGLE, "stage_days", "scheme"): (9, "", False),
        (SINGLE, "stage_days", "completion_check+connection"): (5, "", False),
        (SINGLE, "total_days", ""): (15, "", False),
    }
    assert _rules("chongqing-2021", 5)[(DUAL, "total_days", "")][0] == 20
    assert _rules("chongqing-2021", 6) == {("class=residential", "elapsed_days", ""): (3, "", True)}
    for number in (7, 24, 36):  # 2020, 2021 and 2022 groups: 8 working days
        assert _rules("chongqing-2021", number) == {(THREE_ZERO, "elapsed_days", ""): (8, "", True)}
    for number in (22, 25, 37):  # 全市 160kW 及以下: urban and rural alike
        assert _rules("chongqing-2021", number) == {("small_micro=yes;capacity_kw<=160", "zero_investment", ""): (None, "", False)}
    assert set(_rules("chongqing-2021", 14)) == {("class=high_voltage", "documents", "")}


def test_reloading_the_reference_keeps_the_same_rules():
    fields = ("program_id", "indicator_id", "applies_to", "measure", "statistic", "stages", "limit")
    before = sorted(ApplicationRule.objects.values_list(*fields), key=str)
    call_command("load_reference", verbosity=0)
    after = sorted(ApplicationRule.objects.values_list(*fields), key=str)
    assert before == after


@pytest.mark.parametrize(
    "line, column, value, message",
    [
        (3, "applies_to", "class=industrial", "application_rules.csv 第 3 行 字段“applies_to”：属性“class”的值“industrial”未知"),
        (3, "applies_to", "capacity_kw<=大", "application_rules.csv 第 3 行 字段“applies_to”：“大”不是数值（capacity_kw）"),
        (4, "stages", "scheme+survey", "application_rules.csv 第 4 行 字段“stages”：“scheme+survey”中有未知环节"),
        (5, "indicator", "21", "application_rules.csv 第 5 行 字段“indicator”：方案 national-2021 的指标体系没有县级指标 21"),
        (5, "program", "nowhere-2021", "application_rules.csv 第 5 行 字段“program”：方案 nowhere-2021 不存在"),
        (6, "limit", "", "application_rules.csv 第 6 行 字段“limit”：须填写上限"),
        (6, "statistic", "average", "application_rules.csv 第 6 行 字段“statistic”：指标的规则逐件考核"),
        (25, "documents", "户口本", "application_rules.csv 第 25 行 字段“documents”：资料须写规范名称"),
        (3, "stages", "acceptance", "application_rules.csv 第 3 行：与第 2 行重复"),
    ],
)
def test_a_bad_rule_row_is_located_and_nothing_changes(tmp_path, settings, line, column, value, message):
    directory = tmp_path / "reference"
    source = settings.BASE_DIR / "fixtures" / "reference"
    directory.mkdir()
    for path in source.glob("*.csv"):
        (directory / path.name).write_bytes(path.read_bytes())
    path = directory / "application_rules.csv"
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    rows[line - 1][rows[0].index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    before = ApplicationRule.objects.count()
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("load_reference", str(directory), verbosity=0)
    assert ApplicationRule.objects.count() == before


# --- records made to known breaches -----------------------------------------------------------------


def row(number, kind, stages, *, count=2, documents="身份证、房产证", investment="0", force_majeure="否"):
    """A record as its cells: ``stages`` maps a stage to its (start, end) ISO dates."""
    values = {
        "number": number,
        "customer_type": LABEL[kind],
        "stage_count": count,
        "documents": documents,
        "investment": investment,
        "force_majeure": force_majeure,
    }
    for stage, (start, end) in stages.items():
        values[f"{stage}_start"], values[f"{stage}_end"] = start, end
    return [values.get(c.field, "") for c in COLUMNS]


def residential(number, start, end, **extra):
    return row(number, "residential", {"acceptance": (start, start), "connection": (start, end)}, **extra)


def three_zero(number, start, end, **extra):
    return row(number, "low_voltage_three_zero", {"acceptance": (start, start), "connection": (start, end)}, **extra)


RECORDS = [
    residential("R1", "2024-03-04", "2024-03-07"),  # 3 working days
    residential("R2", "2024-02-08", "2024-02-19"),  # across the Spring Festival: 3, not 7
    residential("R3", "2024-03-01", "2024-03-11"),  # 6: one over the national 5
    residential("R4", "2024-03-15", "2024-03-26", force_majeure="是", count=3),  # 7, force majeure; 3 stages
    three_zero("Z1", "2024-05-06", "2024-05-13"),  # 6
    three_zero("Z2", "2024-05-06", "2024-05-16"),  # 9, Saturday 11 May worked: one over Chongqing's 8
    row(
        "L1",
        "low_voltage_other",
        {"acceptance": ("2024-03-04", "2024-03-05"), "scheme": ("2024-03-05", "2024-03-08"), "connection": ("2024-03-11", "2024-03-13")},
        count=3,
    ),  # 1 + 3 + 2 = 6
    row(
        "L2",
        "low_voltage_other",
        {"acceptance": ("2024-03-04", "2024-03-05"), "scheme": ("2024-03-05", "2024-03-12"), "connection": ("2024-03-12", "2024-03-14")},
        count=4,
        documents="身份证、房产证、用电申请书",
    ),  # scheme 5 (limit 3), total 8 (limit 6), 4 stages, a third document
    row(
        "H1",
        "high_voltage_single",
        {
            "acceptance": ("2024-04-01", "2024-04-02"),
            "scheme": ("2024-04-02", "2024-04-17"),  # 1; 10 (Sunday 7 April worked)
            "design_review": ("2024-04-17", "2024-04-22"),
            "midway_check": ("2024-04-22", "2024-04-24"),  # 3; 2
            "completion_check": ("2024-04-24", "2024-04-26"),
            "connection": ("2024-04-26", "2024-05-06"),  # 2; 4 over Labour Day
        },
        count=6,
        documents="身份证、房产证、项目批准文件",
    ),
    row(
        "S1",
        "small_business_urban",
        {"acceptance": ("2024-03-04", "2024-03-04"), "connection": ("2024-03-04", "2024-03-06")},
        investment="1200.50",
    ),
    row("S2", "small_business_rural", {"acceptance": ("2024-03-04", "2024-03-04"), "connection": ("2024-03-04", "2024-03-06")}),
]


def column(name):
    return next(index for index, c in enumerate(COLUMNS) if c.field == name)


def xlsx(rows, *, headers=None, sheet="报装记录"):
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append(headers or [c.header for c in COLUMNS])
    for values in rows:
        # dates as real Excel dates, the way a company's export has them
        ws.append([date.fromisoformat(v) if c.kind == "date" and v else v for c, v in zip(COLUMNS, values)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(rows, encoding="utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in COLUMNS])
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def period():
    return services.period_open(code="2024S1")[0]


@pytest.fixture
def people(make_user, period):
    return {
        "county": make_user("county", "county", JINJIANG, last_name="锦江填报员"),
        "supply": make_user("supply", "supply_company", "510000", last_name="国网四川"),
        "city": make_user("city", "city", "510100"),
        "province": make_user("province", "province", "510000"),
        "cq_supply": make_user("cq_supply", "supply_company", "500000"),
    }


def upload(user, code, data, name="records.xlsx", period_code="2024S1"):
    from indicators.models import Period

    return applications_upload(
        user=user,
        region=Region.objects.get(code=code),
        period=Period.objects.get(code=period_code),
        upload=SimpleUploadedFile(name, data),
    )


@pytest.fixture
def loaded(people):
    return upload(people["supply"], JINJIANG, xlsx(RECORDS))


def _counts(code, period, set_code="national-2021"):
    region = Region.objects.get(code=code)
    return {
        r.tally.indicator.number: (r.tally.total, r.tally.failed)
        for r in evaluate(region=region, period=period, indicator_set=IndicatorSet.objects.get(code=set_code))
    }


def _failing(code, period, set_code="national-2021"):
    region = Region.objects.get(code=code)
    return {
        r.tally.indicator.number: {a.number: [b.text for b in breaches] for a, breaches in r.failing}
        for r in evaluate(region=region, period=period, indicator_set=IndicatorSet.objects.get(code=set_code))
    }


def test_stored_working_days_follow_the_holiday_calendar(loaded):
    days = {a.number: a for a in Application.objects.all()}
    assert days["R2"].days_elapsed == 3 and days["R2"].days_connection == 3
    assert days["Z2"].days_elapsed == 9
    assert [getattr(days["H1"], f"days_{s}") for s in Stage.values] == [1, 10, 3, 2, 2, 4]
    assert days["H1"].days_total == 22
    assert days["L2"].document_set == "用电人有效身份证件、用电地址物权证件、用电申请书"
    assert days["S1"].investment == Decimal("1200.50")
    assert loaded.state == JobState.DONE and loaded.row_count == len(RECORDS)


def test_each_national_indicator_counts_its_applications_and_failures(loaded, period):
    # The old types' small businesses are low-voltage customers without “三零”: they count under 3 and 10 too.
    assert _counts(JINJIANG, period) == {
        3: (4, 1),
        4: (1, 1),
        5: (0, 0),
        6: (3, 1),
        7: (2, 0),
        8: (4, 1),
        9: (2, 0),
        10: (4, 1),
        13: (10, 1),
        14: (1, 0),
        22: (2, 0),
        23: (1, 1),
        24: (1, 0),
        34: (2, 0),
        35: (2, 1),
    }


def test_each_failing_application_is_listed_with_what_overran_and_by_how_much(loaded, period):
    failing = _failing(JINJIANG, period)
    assert failing[3] == {"L2": ["供电方案答复用时 5 个工作日，超出 2 个（上限 3）", "各环节合计办理时间 8 个工作日，超出 2 个（上限 6）"]}
    assert failing[4] == {"H1": ["装表接电用时 4 个工作日，超出 1 个（上限 3）"]}
    assert failing[6] == {"R3": ["全过程办电时间 6 个工作日，超出 1 个（上限 5）"]}  # R4 is force majeure
    assert failing[8] == {"R4": ["办电环节 3 个，超出 1 个（上限 2）"]}  # stages: no force-majeure exception
    assert failing[10] == {"L2": ["办电环节 4 个，超出 1 个（上限 3）"]}
    assert failing[13] == {"L2": ["受理时另收：用电申请书"]}
    assert failing[23] == failing[35] == {"S1": ["用户投资 1,200.50 元（应为 0）"]}
    assert failing[7] == failing[14] == failing[22] == failing[34] == {}


def test_chongqings_stricter_limits_apply_under_chongqings_set(people, period, client):
    upload(people["cq_supply"], YUZHONG, xlsx(RECORDS))
    assert [s.code for s in rule_sets_for(Region.objects.get(code=YUZHONG))] == ["national-2021", "chongqing-2021"]
    assert [s.code for s in rule_sets_for(Region.objects.get(code=JINJIANG))] == ["national-2021"]
    counts = _counts(YUZHONG, period, "chongqing-2021")
    assert counts[6] == (3, 1)  # R2 meets 3 days only because the Spring Festival is not counted
    assert counts[7] == counts[24] == counts[36] == (2, 1)  # Z2: 9 > 8
    assert counts[3] == (4, 2) and counts[4] == (1, 1)
    assert counts[22] == counts[25] == counts[37] == (2, 1)  # urban and rural small businesses
    failing = _failing(YUZHONG, period, "chongqing-2021")
    assert failing[7] == {"Z2": ["全过程办电时间 9 个工作日，超出 1 个（上限 8）"]}
    assert failing[3]["L1"] == ["供电方案答复用时 3 个工作日，超出 2 个（上限 1）", "各环节合计办理时间 6 个工作日，超出 2 个（上限 4）"]
    assert failing[4]["H1"] == [
        "供电方案答复用时 10 个工作日，超出 1 个（上限 9）",
        "竣工检验和装表接电用时 6 个工作日，超出 1 个（上限 5）",
        "各环节合计办理时间 22 个工作日，超出 7 个（上限 15）",
    ]
    assert _counts(YUZHONG, period)[7] == (2, 0)  # the same records meet the national 25 days
    client.force_login(people["cq_supply"])
    page = client.get(f"/periods/2024S1/applications/{YUZHONG}/").content.decode()
    assert 'id="set-national-2021"' in page and 'id="set-chongqing-2021"' in page
    assert "本县按本期指标体系填报，此处仅供对照" in page


def test_documents_are_compared_by_their_canonical_names():
    assert applications.document_set("身份证复印件；房产证 ,营业执照") == "用电人有效身份证件、用电地址物权证件"
    assert (
        applications.document_set("用电人有效身份证件、用电地址权证、承诺书") == "承诺书、用电人有效身份证件、用电地址物权证件"
    )  # sorted: a stable key for SQL


def test_counting_takes_a_fixed_number_of_queries(loaded, period, make_user, django_assert_num_queries):
    upload(make_user("qy", "county", QINGYANG), QINGYANG, xlsx(RECORDS[:3]))
    counties = Region.objects.filter(parent__code="510100")
    with django_assert_num_queries(2):  # the rules, one grouped count
        counts = tallies(regions=counties, period=period)
    assert len(counts) == 2 * 15  # two counties with records × the set's 15 indicators with rules
    jinjiang, national = Region.objects.get(code=JINJIANG), period.indicator_set
    with django_assert_num_queries(3):  # and the failing applications
        evaluate(region=jinjiang, period=period, indicator_set=national)


# --- the upload: bad input refused, located, nothing stored -----------------------------------------


def _refused(user, data, name="records.xlsx", code=JINJIANG):
    before = (Application.objects.count(), ApplicationBatch.objects.count())
    with pytest.raises(ImportFileError) as caught:
        upload(user, code, data, name)
    assert (Application.objects.count(), ApplicationBatch.objects.count()) == before
    return caught.value.messages


def test_unknown_customer_type_is_refused_at_its_cell(people):
    bad = row("X1", "residential", {"acceptance": ("2024-03-04", "2024-03-04"), "connection": ("2024-03-04", "2024-03-05")})
    bad[1] = "工业用户"
    messages = _refused(people["supply"], xlsx([RECORDS[0], bad]))
    assert messages == [
        "工作表“报装记录” 第 3 行 B 列（用户类型）：未知的用户类型“工业用户”，应为：" + "、".join(CustomerType.labels) + "。"
    ]


def test_stages_out_of_order_and_an_end_before_its_start_are_refused(people):
    out_of_order = row(
        "X1",
        "low_voltage_other",
        {"acceptance": ("2024-03-04", "2024-03-06"), "scheme": ("2024-03-05", "2024-03-07"), "connection": ("2024-03-08", "2024-03-11")},
        count=3,
    )
    reversed_ = residential("X2", "2024-03-04", "2024-03-01")
    messages = _refused(people["supply"], xlsx([out_of_order, reversed_]))
    assert messages == [
        "工作表“报装记录” 第 2 行 E 列（供电方案答复开始日期）：供电方案答复开始于 2024-03-05，早于上一环节业务受理的结束日期 2024-03-06：环节顺序不对。",
        "工作表“报装记录” 第 3 行 N 列（装表接电结束日期）：装表接电结束于 2024-03-01，早于它的开始日期 2024-03-04。",
    ]


def test_a_future_date_a_missing_stage_date_and_a_year_beyond_the_calendar_are_refused(people):
    tomorrow = (timezone.localdate() + timedelta(days=3)).isoformat()
    half = row("X2", "residential", {"acceptance": ("2024-03-04", "2024-03-04"), "connection": ("2024-03-04", "2024-03-05")})
    half[column("scheme_start")] = "2024-03-04"
    messages = _refused(
        people["supply"], xlsx([residential("X1", "2024-03-04", tomorrow), half, residential("X3", "2003-03-04", "2003-03-05")])
    )
    assert (
        messages[0] == f"工作表“报装记录” 第 2 行 N 列（装表接电结束日期）：日期 {tomorrow} 晚于今天（{timezone.localdate():%Y-%m-%d}）。"
    )
    assert (
        messages[1]
        == "工作表“报装记录” 第 3 行 F 列（供电方案答复结束日期）：供电方案答复只填了开始日期：两个日期都要填，没有此环节的都留空。"
    )
    assert messages[2].startswith("工作表“报装记录” 第 4 行 C 列（业务受理开始日期）：日期 2003-03-04 超出节假日日历的范围")


def test_missing_columns_are_named(people):
    headers = [c.header for c in COLUMNS]
    headers[headers.index("办电环节数")] = "环节数"
    headers[headers.index("不可抗力")] = ""
    messages = _refused(people["supply"], xlsx(RECORDS, headers=headers))
    assert messages == ["工作表“报装记录” 第 1 行：表头缺少以下列：办电环节数、不可抗力。请使用门户提供的模板（列的顺序不限）。"]


def test_cells_that_are_not_what_their_column_needs_are_each_located(people):
    bad = list(RECORDS[0])
    bad[column("stage_count")], bad[column("investment")], bad[column("force_majeure")] = "两个", "-5", "不确定"
    blank = list(RECORDS[1])
    blank[column("customer_type")] = blank[column("investment")] = ""
    duplicate = residential("R1", "2024-03-04", "2024-03-05")
    messages = _refused(people["supply"], xlsx([bad, blank, duplicate]))
    assert messages == [
        "工作表“报装记录” 第 2 行 O 列（办电环节数）：“两个”不是 1 至 99 的整数。",
        "工作表“报装记录” 第 2 行 Q 列（用户投资（元））：“-5”不是有效金额：不能为负，最多两位小数。",
        "工作表“报装记录” 第 2 行 R 列（不可抗力）：“不确定”应为“是”或“否”（留空为否）。",
        "工作表“报装记录” 第 3 行 B 列（用户类型）：不能为空。",
        "工作表“报装记录” 第 3 行 Q 列（用户投资（元））：不能为空。",
        "工作表“报装记录” 第 4 行 A 列（报装编号）：报装编号“R1”与第 2 行重复。",
    ]


def test_more_rows_than_the_limit_are_refused(people, settings):
    settings.APPLICATION_MAX_ROWS = 3
    messages = _refused(people["supply"], xlsx(RECORDS[:4]))
    assert messages == [
        "工作表“报装记录” 第 5 行：记录超过上限 3 条（APPLICATION_MAX_ROWS）：一个县一个报告期的记录不能多于此数，请核对文件或联系管理员。"
    ]


def test_a_corrupt_an_oversized_and_an_old_format_file_are_refused(people, monkeypatch):
    data = xlsx(RECORDS)
    assert "已损坏" in _refused(people["supply"], data[: len(data) // 2])[0]
    assert "旧版 Excel（.xls）" in _refused(people["supply"], b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "records.xls")[0]
    monkeypatch.setattr(applications.services, "MAX_BYTES", 1000)
    assert _refused(people["supply"], data)[0] == f"文件“records.xlsx”大小 {file_size_label(len(data))}，超过上限 1000 字节。"


def test_csv_in_utf8_or_gbk_is_accepted_and_its_errors_have_no_sheet(people, period):
    upload(people["supply"], JINJIANG, csv_file(RECORDS, "gb18030"), "records.csv")
    assert Application.objects.filter(region__code=JINJIANG).count() == len(RECORDS)
    bad = list(RECORDS[0])
    bad[1] = "工业用户"
    messages = _refused(people["supply"], csv_file([bad]), "records.csv")
    assert messages[0].startswith("第 2 行 B 列（用户类型）：未知的用户类型“工业用户”")


def test_a_refused_upload_leaves_the_previous_records_as_they_were(loaded, people):
    numbers = set(Application.objects.values_list("number", flat=True))
    _refused(people["supply"], xlsx([residential("N1", "2024-03-04", "2024-03-01")]))
    assert set(Application.objects.values_list("number", flat=True)) == numbers


def test_a_new_upload_replaces_the_countys_records_and_is_audited(loaded, people, period):
    batch = upload(people["county"], JINJIANG, xlsx(RECORDS[:2]), "second.xlsx")
    assert sorted(Application.objects.values_list("number", flat=True)) == ["R1", "R2"]
    assert set(Application.objects.values_list("batch", flat=True)) == {batch.pk}
    entry = AuditEntry.objects.filter(action="records").latest("pk")
    assert (entry.region.code, entry.channel, entry.before, entry.after) == (
        JINJIANG,
        "import",
        f"{len(RECORDS)} 条",
        "2 条（second.xlsx）",
    )


# --- large files: a background job with progress ---------------------------------------------------


def test_a_large_file_is_read_by_the_worker_with_progress(people, period, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(applications.services, "INLINE_ROWS", 5)
    monkeypatch.setattr(applications.reading, "PROGRESS_EVERY", 4)
    seen = []
    real = jobs.progress

    def spy(job, percent, message=""):
        seen.append(percent)
        return real(job, percent, message)

    monkeypatch.setattr(jobs, "progress", spy)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = upload(people["supply"], JINJIANG, xlsx(RECORDS))
        assert batch.state == JobState.QUEUED and Application.objects.count() == 0
    assert len(callbacks) == 1
    batch.refresh_from_db()
    assert (batch.state, batch.progress, batch.row_count) == (JobState.DONE, 100, len(RECORDS))
    assert Application.objects.count() == len(RECORDS)
    assert [p for p in seen if p] == [32, 65, 90]  # rows 4 and 8 of 11, then the write
    note = Notification.objects.get(user=people["supply"])
    assert note.title == "锦江区2024年上半年报装记录已导入：records.xlsx" and note.level == "info"


def test_a_large_file_with_errors_fails_its_batch_and_keeps_the_records(
    loaded, people, client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(applications.services, "INLINE_ROWS", 5)
    bad = [*RECORDS, residential("R9", "2024-03-04", "2024-03-01")]
    with django_capture_on_commit_callbacks(execute=True):
        batch = upload(people["supply"], JINJIANG, xlsx(bad), "big.xlsx")
    batch.refresh_from_db()
    assert batch.state == JobState.FAILED
    assert batch.errors == ["工作表“报装记录” 第 13 行 N 列（装表接电结束日期）：装表接电结束于 2024-03-01，早于它的开始日期 2024-03-04。"]
    assert Application.objects.filter(batch=loaded).count() == len(RECORDS)
    assert Notification.objects.get(user=people["supply"]).level == "red"
    client.force_login(people["county"])
    status = client.get(f"/applications/batches/{batch.pk}/status/").json()
    assert status["state"] == "failed" and status["errors"] == batch.errors
    assert "装表接电结束于 2024-03-01" in client.get(f"/applications/batches/{batch.pk}/").content.decode()


def test_a_queued_batch_overtaken_by_a_later_upload_does_not_overwrite_it(people, period, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(applications.services, "INLINE_ROWS", 5)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        early = upload(people["supply"], JINJIANG, xlsx(RECORDS), "early.xlsx")
    upload(people["county"], JINJIANG, xlsx(RECORDS[:2]), "late.xlsx")
    for callback in callbacks:
        callback()
    early.refresh_from_db()
    assert early.state == JobState.FAILED and "已有更晚上传的记录（late.xlsx）" in early.message
    assert Application.objects.count() == 2


# --- who may upload, and where ----------------------------------------------------------------------


def test_upload_page_and_template_round_trip(people, client):
    from .test_application_attributes import attribute_row  # that module builds on this one

    client.force_login(people["county"])
    template = client.get("/applications/template.xlsx")
    workbook = load_workbook(io.BytesIO(b"".join(template.streaming_content)))
    assert [c.value for c in workbook["报装记录"][1]] == [c.header for c in applications.COLUMNS]
    assert workbook.sheetnames == ["报装记录", "填写说明"]
    ws = workbook["报装记录"]
    for number in ("N1", "N2"):
        ws.append(attribute_row(number, customer_class="居民", capacity_kw="8", area="城市"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("filled.xlsx", buffer.getvalue())})
    assert response.status_code == 302
    page = client.get(PAGE).content.decode()
    assert "已导入 2 条记录，替换原有 0 条" in page and 'id="record-count">2<' in page


def test_the_page_shows_refusals_with_their_locations(people, client):
    client.force_login(people["supply"])
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("bad.xlsx", xlsx([residential("X", "2024-03-04", "2024-03-01")]))})
    assert response.status_code == 400
    page = response.content.decode()
    assert "文件“bad.xlsx”未通过检查，原有记录没有改动" in page and "第 2 行 N 列（装表接电结束日期）" in page


def test_other_provinces_and_other_counties_are_refused(people, client, make_user):
    data = {"file": SimpleUploadedFile("r.xlsx", xlsx(RECORDS))}
    client.force_login(people["cq_supply"])
    assert client.get(PAGE).status_code == 404
    assert client.post(UPLOAD, data).status_code == 404
    client.force_login(make_user("qy", "county", QINGYANG))
    assert client.post(UPLOAD, {"file": SimpleUploadedFile("r.xlsx", xlsx(RECORDS))}).status_code == 404
    client.force_login(people["city"])  # may read, may not upload
    assert client.get(PAGE).status_code == 200
    assert client.post(UPLOAD, {"file": SimpleUploadedFile("r.xlsx", xlsx(RECORDS))}).status_code == 403
    assert Application.objects.count() == 0


def test_batches_of_another_province_are_not_found(loaded, people, client):
    client.force_login(people["cq_supply"])
    assert client.get(f"/applications/batches/{loaded.pk}/").status_code == 404
    assert client.get(f"/applications/batches/{loaded.pk}/status/").status_code == 404


def test_a_locked_period_refuses_new_records(loaded, people, period):
    from indicators.models import Submission

    Submission.objects.create(
        region=Region.objects.get(code="510000"),
        period=period,
        state="confirmed",
        state_changed_by=people["province"],
        state_changed_at=timezone.now(),
    )
    with pytest.raises(PeriodLocked):
        upload(people["supply"], JINJIANG, xlsx(RECORDS[:1]))
    assert Application.objects.count() == len(RECORDS)


# --- evidence-backed ticks: the sheet, the review matrix, the province's list -------------------------


@pytest.fixture
def ticked(loaded, people, period):
    """锦江区 ticks 6 although R3 overran, and leaves 7 open although every 三零 application met it."""
    services.checkmarks_set(
        user=people["county"],
        region=Region.objects.get(code=JINJIANG),
        period=period,
        values={
            6: CheckmarkValue("done", done_month=date(2024, 3, 1)),
            7: CheckmarkValue("not_done", expected_month=date(2024, 12, 1)),
            9: CheckmarkValue("done", done_month=date(2024, 3, 1)),
        },
    )


def test_the_county_sheet_shows_what_the_records_say_and_warns(ticked, people, client, period, django_assert_num_queries):
    client.force_login(people["county"])
    page = client.get(f"/periods/2024S1/sheet/{JINJIANG}/").content.decode()
    assert "记录：2 / 3 在时限内" in page  # indicator 6
    assert "⚠ 已打√，但记录显示 1 件不符合" in page
    assert "记录：2 / 2 在时限内" in page and "⚠ 记录全部符合，但尚未打√" in page  # indicator 7
    assert "记录：2 / 2 环节数达标" in page  # indicator 9: ticked and true, no warning
    # 14, 22, 24 and 34 are open too while their records all comply
    assert page.count("records-conflict") == 6 and page.count("⚠ 记录全部符合，但尚未打√") == 5
    region = Region.objects.get(code=JINJIANG)
    with django_assert_num_queries(5):
        data = sheet(region=region, period=period)
    rows = {r.indicator.number: r for r in data.rows}
    assert rows[6].records_conflict == "已打√，但记录显示 1 件不符合"
    assert rows[9].records_conflict == "" and rows[31].records is None


def test_the_review_matrix_marks_the_conflicts_in_fixed_queries(ticked, period, people, client, make_user, django_assert_num_queries):
    upload(make_user("qy", "county", QINGYANG), QINGYANG, xlsx(RECORDS[:3]))
    city = Region.objects.get(code="510100")
    with django_assert_num_queries(6):
        indicators, rows = review_matrix(city=city, period=period)
    jinjiang = next(r for r in rows if r.county.code == JINJIANG)
    numbers = [i.number for i in indicators]
    assert jinjiang.cells[numbers.index(6)] == ("√", "done", {"label": "2 / 3 在时限内", "conflict": "已打√，但记录显示 1 件不符合"})
    assert jinjiang.cells[numbers.index(1)] == ("", "missing", None)
    client.force_login(people["city"])
    page = client.get("/periods/2024S1/review/510100/").content.decode()
    assert "⚠ 6 项与报装记录不符" in page and 'title="记录：2 / 3 在时限内；已打√，但记录显示 1 件不符合"' in page


def test_the_province_lists_every_conflict_of_its_counties(ticked, people, client, make_user, period):
    qingyang = make_user("qy", "county", QINGYANG)
    upload(qingyang, QINGYANG, xlsx(RECORDS[:3]))  # R1–R3: 6 fails; not ticked, no conflict there
    services.checkmarks_set(
        user=qingyang,
        region=Region.objects.get(code=QINGYANG),
        period=period,
        values={
            8: CheckmarkValue("not_done", expected_month=date(2024, 12, 1)),  # all three have 2 stages
        },
    )
    client.force_login(people["province"])
    page = client.get("/periods/2024S1/applications/510000/").content.decode()
    assert 'id="conflict-510104-6"' in page and 'id="conflict-510104-7"' in page and 'id="conflict-510105-8"' in page
    found = [
        (c.county.code, c.tally.indicator.number, c.reason)
        for c in conflicts(user=people["province"], region=Region.objects.get(code="510000"), period=period)
    ]
    assert found == [
        (JINJIANG, 6, "已打√，但记录显示 1 件不符合"),
        *((JINJIANG, n, "记录全部符合，但尚未打√") for n in (7, 14, 22, 24, 34)),
        *((QINGYANG, n, "记录全部符合，但尚未打√") for n in (8, 13)),  # 6 is open and R3 fails it: no conflict
    ]
    client.force_login(people["city"])  # a city official sees the same list for the city
    assert 'id="conflict-510105-13"' in client.get("/periods/2024S1/applications/510100/").content.decode()
    client.force_login(people["cq_supply"])
    assert client.get("/periods/2024S1/applications/510000/").status_code == 404


def test_the_county_page_lists_the_failing_applications(ticked, people, client):
    client.force_login(people["city"])
    page = client.get(PAGE).content.decode()
    assert "指标 6：1 件不符合" in page and "全过程办电时间 6 个工作日，超出 1 个（上限 5）" in page
    assert "已打√，但记录显示 1 件不符合" in page
