"""Application records carry attributes, and rules are predicates over them, per program (issue 14
§1, §2, §5 and its bad input).

The records are made with known overlaps: a “三零” small business counted under the “三零” limits
and the small businesses' zero investment alike, a 120 kW rural business under Chongqing's 22/25/37
(160kW及以下) but not under the national 24 (农村 100kW及以下); targets with averages and longest
times checked against a hand computation (a stage across the Spring Festival, one over a make-up
Saturday). Records in the old layout (one customer type) are in test_applications.py.
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from accounts.models import Region
from indicators import services
from indicators.applications import COLUMNS, LEGACY_TYPES, evaluate, targets
from indicators.applications.predicate import as_q, describe, holds, parse
from indicators.models import Application, ApplicationRule, CustomerType, IndicatorSet

from .test_applications import RECORDS, YUZHONG, _refused, upload, xlsx

pytestmark = pytest.mark.django_db

DAYS = {"R": ("2024-03-04", "2024-03-07"), "SPRING": ("2024-02-08", "2024-02-19"), "SIX": ("2024-03-01", "2024-03-11")}


def attribute_row(number, *, customer_class, capacity_kw, area, stages=None, count=2, documents="身份证、房产证", investment="0", **flags):
    """A record in the attributes layout as cells (dates as Excel dates); ``flags``: voltage,
    dual_source, small_micro, three_zero, force_majeure as their cells."""
    values = {
        "number": number,
        "customer_class": customer_class,
        "capacity_kw": capacity_kw,
        "area": area,
        "stage_count": count,
        "documents": documents,
        "investment": investment,
        **flags,
    }
    for stage, (start, end) in (stages or {"acceptance": ("2024-03-04", "2024-03-04"), "connection": ("2024-03-04", "2024-03-06")}).items():
        values[f"{stage}_start"], values[f"{stage}_end"] = date.fromisoformat(start), date.fromisoformat(end)
    return [values.get(c.field, "") for c in COLUMNS]


def simple(number, start, end, **attributes):
    """Accepted and connected from ``start`` to ``end``: ``end``'s working days in all."""
    return attribute_row(number, stages={"acceptance": (start, start), "connection": (start, end)}, **attributes)


def new_xlsx(rows):
    workbook = Workbook()
    ws = workbook.active
    ws.title = "报装记录"
    ws.append([c.header for c in COLUMNS])
    for values in rows:
        ws.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


RESIDENT = dict(customer_class="居民", capacity_kw="8", area="城市")
THREE_ZERO_SMALL = dict(customer_class="低压非居民", capacity_kw="120", area="城市", small_micro="是", three_zero="是")
RURAL_120 = dict(customer_class="低压非居民", capacity_kw="120", area="农村", small_micro="是")
HIGH_10KV = dict(customer_class="高压", capacity_kw="800", area="城市", voltage="10千伏")

RECORDS_NEW = [
    simple("R1", *DAYS["R"], **RESIDENT),  # 3
    simple("R2", *DAYS["SPRING"], **RESIDENT),  # across the Spring Festival: 3, not 7
    simple("R3", *DAYS["SIX"], **RESIDENT),  # 6
    simple("Z1", "2024-05-06", "2024-05-13", **THREE_ZERO_SMALL),  # 6
    simple("Z2", "2024-05-06", "2024-05-16", **THREE_ZERO_SMALL, investment="300"),  # 9 (Saturday 11 May worked)
    simple("B1", "2024-03-04", "2024-03-06", **RURAL_120, investment="500"),  # 2
    attribute_row(
        "H1",
        stages={
            "acceptance": ("2024-04-01", "2024-04-02"),
            "scheme": ("2024-04-02", "2024-04-17"),
            "completion_check": ("2024-04-24", "2024-04-26"),
            "connection": ("2024-04-26", "2024-05-06"),
        },  # 1 + 10 + 2 + 4 = 17; 22 from acceptance to connection (Qingming, Labour Day, two make-up Sundays)
        count=4,
        documents="身份证、房产证、项目批准文件",
        **HIGH_10KV,
    ),
]


@pytest.fixture
def period():
    return services.period_open(code="2024S1")[0]


@pytest.fixture
def cq_supply(make_user, period):
    return make_user("cq_supply", "supply_company", "500000")


@pytest.fixture
def yuzhong(cq_supply):
    upload(cq_supply, YUZHONG, new_xlsx(RECORDS_NEW))
    return Region.objects.get(code=YUZHONG)


def _counts(region, period, set_code):
    return {
        r.tally.indicator.number: (r.tally.total, r.tally.failed)
        for r in evaluate(region=region, period=period, indicator_set=IndicatorSet.objects.get(code=set_code))
    }


# --- the predicate: one parser, one evaluator ----------------------------------------------------


def test_a_predicate_reads_and_selects_the_same_records_in_sql_and_in_python(yuzhong):
    terms = parse("class=low_voltage;small_micro=yes;capacity_kw<=160")
    assert describe(terms) == "低压非居民、小微企业、160kW及以下"
    assert describe(parse("")) == "全部用户" and describe(parse("class=residential|low_voltage")) == "居民或低压非居民"
    records = Application.objects.filter(region=yuzhong)
    for text in ("class=low_voltage;small_micro=yes;capacity_kw<=160", "area=rural;capacity_kw<=100", "zero_investment=no", "scheme=yes"):
        in_sql = set(records.filter(as_q(parse(text))).values_list("number", flat=True))
        assert in_sql == {r.number for r in records if holds(parse(text), r)}
    assert set(records.filter(as_q(terms)).values_list("number", flat=True)) == {"Z1", "Z2", "B1"}
    assert set(records.filter(as_q(parse("scheme=yes"))).values_list("number", flat=True)) == {"H1"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("class=industrial", "属性“class”的值“industrial”未知，应为：residential、low_voltage、high_voltage"),
        ("colour=red", "未知属性“colour”"),
        ("capacity_kw<=-5", "“-5”不是非负数值（capacity_kw）"),
        ("small_micro<=yes", "属性“small_micro”只能用“=”"),
        ("class=residential;class=low_voltage", "属性“class”写了两次"),
        ("three_zero", "“three_zero”不是“属性=值”"),
    ],
)
def test_a_bad_predicate_is_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse(text)


# --- one record counts for every rule it meets ------------------------------------------------------


def test_a_three_zero_small_business_counts_under_the_three_zero_and_the_zero_investment_rules(yuzhong, period):
    national = _counts(yuzhong, period, "national-2021")
    assert national[7] == national[9] == national[22] == national[34] == (2, 0)  # Z1, Z2: 6 and 9 days ≤ 15
    assert national[23] == (2, 1)  # the same two as urban small businesses ≤ 160 kW: Z2 paid 300 yuan
    assert national[35] == (3, 2)  # 全国160kW及以下: Z1, Z2 and the rural B1
    assert national[24] == (0, 0)  # B1 is rural but 120 kW, above the national 100 kW
    assert national[3] == national[10] == (1, 0)  # B1 is a low-voltage customer without “三零”
    assert national[14] == (1, 0) and national[13] == (6, 0)


def test_a_120_kw_rural_business_counts_under_chongqings_22_25_37(yuzhong, period):
    chongqing = _counts(yuzhong, period, "chongqing-2021")
    for number in (22, 25, 37):  # Z1, Z2, B1: Z2 and B1 paid
        assert chongqing[number] == (3, 2)
    assert chongqing[7] == (2, 1)  # Z2: 9 > 8 working days


def test_the_records_evidence_on_the_sheet_includes_14_and_35(yuzhong, cq_supply, client):
    client.force_login(cq_supply)
    page = client.get(f"/periods/2024S1/applications/{YUZHONG}/").content.decode()
    assert 'id="national-2021-14"' in page and 'id="national-2021-35"' in page and 'id="chongqing-2021-37"' in page
    assert "小微企业、160kW及以下：用户投资为 0" in page
    # the programs' targets: SGCC's residential average missed, measured value shown
    assert 'id="targets-cqpower-2021"' in page and 'id="targets-chongqing-2021"' in page
    assert "平均 4.0 个工作日（3 件）" in page and "未达到" in page


# --- targets: averages, longest times, every application's limit -----------------------------------


def _targets(region, period):
    return {
        (program.code, r.rule.applies_to, r.rule.measure, r.rule.statistic, r.rule.stages): r
        for program, results in targets(region=region, period=period)
        for r in results
    }


def test_averages_and_longest_times_are_measured_against_the_targets(yuzhong, period, django_assert_num_queries):
    with django_assert_num_queries(2):  # the rules, one aggregate
        found = _targets(yuzhong, period)
    resident = "class=residential"
    three_zero = "class=low_voltage;three_zero=yes"
    # SGCC Chongqing 附件2: residential average 3, longest 3; “三零” average 7, longest 20 (2021)
    average = found[("cqpower-2021", resident, "elapsed_days", "average", "")]
    assert (average.total, average.value, average.met) == (3, Decimal("4"), False)  # (3 + 3 + 6) / 3
    assert average.label == "平均 4.0 个工作日（3 件）"
    longest = found[("cqpower-2021", resident, "elapsed_days", "longest", "")]
    assert (longest.value, longest.met) == (6, False)
    average = found[("cqpower-2021", three_zero, "elapsed_days", "average", "")]
    assert (average.value, average.met) == (Decimal("7.5"), False)  # (6 + 9) / 2
    assert found[("cqpower-2021", three_zero, "elapsed_days", "longest", "")].met is True  # 9 ≤ 20
    # Chongqing 附件1 注4: 10 千伏城镇 平均 ≤ 30; H1 took 22
    ten_kv = found[("chongqing-2021", "class=high_voltage;voltage=10kv;area=urban", "elapsed_days", "average", "")]
    assert (ten_kv.total, ten_kv.value, ten_kv.met) == (1, Decimal("22"), True)
    # SGCC 高压单电源 without 设计审查: 合计 ≤ 17 (H1: 1 + 10 + 2 + 4)
    single = found[("cqpower-2021", "class=high_voltage;dual_source=no;design_review=no", "total_days", "each", "")]
    assert (single.total, single.failed, single.met) == (1, 0, True)
    # Sichuan and Guiyang do not cover 渝中区
    assert not any(code in ("sichuan-2022", "guiyang-2021") for code, *_ in found)


def test_every_seeds_limits_are_data_with_the_seeds_words():
    rules = ApplicationRule.objects.filter(indicator__isnull=True)
    assert {r.program.code for r in rules} == {"chongqing-2021", "cqpower-2021", "sichuan-2022", "guiyang-2021"}
    sichuan = {(r.applies_to, r.measure, r.statistic): r.limit for r in rules.filter(program__code="sichuan-2022")}
    assert sichuan == {
        ("class=low_voltage;three_zero=no", "total_days", "each"): 6,
        ("class=high_voltage;dual_source=no", "total_days", "each"): 16,
        ("class=high_voltage;dual_source=yes", "total_days", "each"): 31,
        ("class=residential", "elapsed_days", "average"): 3,
        ("class=low_voltage;three_zero=yes", "elapsed_days", "each"): 7,
        ("class=residential|low_voltage", "stage_count", "each"): 2,
        ("class=high_voltage", "stage_count", "each"): 4,
    }
    guiyang = {(r.applies_to, r.measure): r.limit for r in rules.filter(program__code="guiyang-2021")}
    assert guiyang[("class=residential", "elapsed_days")] == 3 and guiyang[("class=high_voltage;dual_source=yes", "total_days")] == 30
    chongqing = rules.filter(program__code="chongqing-2021")
    assert {(r.applies_to, r.stages, r.limit) for r in chongqing.filter(measure="stage_days")} == {
        ("class=residential", "acceptance", 1),
        ("class=residential", "completion_check+connection", 2),
        ("class=low_voltage;three_zero=yes", "completion_check+connection", 2),
    }
    # Force-majeure exclusions only where the document says 除不可抗力外: indicator rules quoting it.
    excluded = ApplicationRule.objects.filter(excludes_force_majeure=True)
    assert excluded.exists() and all("除不可抗力外" in r.note for r in excluded)
    assert not ApplicationRule.objects.filter(excludes_force_majeure=False, note__contains="除不可抗力外").exists()
    assert not ApplicationRule.objects.filter(note="").exists()


# --- the upload: attributes read, bad input refused and located, nothing stored ------------------


def test_the_attributes_are_read_and_an_old_type_maps_to_them(yuzhong, make_user):
    z1 = Application.objects.get(region=yuzhong, number="Z1")
    assert (z1.customer_class, z1.small_micro, z1.three_zero, z1.capacity_kw, z1.area) == (
        "low_voltage",
        True,
        True,
        Decimal("120"),
        "urban",
    )
    assert z1.attributes_label == "低压非居民 · 小微企业 · “三零” · 120 kW · 城市"
    h1 = Application.objects.get(region=yuzhong, number="H1")
    assert (h1.voltage, h1.dual_source, h1.days_total, h1.days_elapsed) == ("10kv", False, 17, 22)
    upload(make_user("supply", "supply_company", "510000"), "510104", xlsx(RECORDS))  # the old layout
    old = {a.number: a for a in Application.objects.filter(region__code="510104")}
    assert (old["S2"].customer_class, old["S2"].small_micro, old["S2"].area, old["S2"].capacity_kw) == ("low_voltage", True, "rural", 100)
    assert (old["H1"].customer_class, old["H1"].dual_source) == ("high_voltage", False)
    assert old["Z1"].three_zero and not old["L1"].three_zero and old["R1"].customer_class == "residential"


def _column(name):
    return next(c for c in COLUMNS if c.field == name)


def test_contradicting_and_unreadable_attributes_are_refused_at_their_cells(cq_supply):
    def where(row, name):
        index = COLUMNS.index(_column(name)) + 1
        return f"工作表“报装记录” 第 {row} 行 {get_column_letter(index)} 列（{_column(name).header}）"

    rows = [
        simple("X1", *DAYS["R"], **{**RESIDENT, "capacity_kw": "-3"}),
        simple("X2", *DAYS["R"], **{**RESIDENT, "capacity_kw": "大约十"}),
        simple("X3", *DAYS["R"], **{**RESIDENT, "small_micro": "是"}),
        simple("X4", *DAYS["R"], **{**HIGH_10KV, "three_zero": "是"}),
        simple("X5", *DAYS["R"], **{**RESIDENT, "customer_class": "工业"}),
        simple("X6", *DAYS["R"], **{**RESIDENT, "area": "郊区"}),
        simple("X7", *DAYS["R"], **{**RESIDENT, "voltage": "10千伏"}),
        attribute_row("X8", stages={"acceptance": ("2024-03-04", "2024-03-06"), "connection": ("2024-03-05", "2024-03-07")}, **RESIDENT),
    ]
    messages = _refused(cq_supply, new_xlsx(rows), code=YUZHONG)
    assert messages == [
        f"{where(2, 'capacity_kw')}：“-3”不是有效的容量：不能为负，最多两位小数。",
        f"{where(3, 'capacity_kw')}：“大约十”不是数值（单位千瓦）。",
        f"{where(4, 'small_micro')}：居民用户不能是小微企业。",
        f"{where(5, 'three_zero')}：“三零”服务只适用于低压非居民用户，高压用户不能标为“三零”。",
        f"{where(6, 'customer_class')}：未知的用户类别“工业”，应为：居民、低压非居民、高压。",
        f"{where(7, 'area')}：未知的城乡“郊区”，应为：城市、农村。",
        f"{where(8, 'voltage')}：10千伏与用户类别“居民”不符：380伏及以下为低压，10千伏及以上为高压。",
        f"{where(9, 'connection_start')}：装表接电开始于 2024-03-05，早于上一环节业务受理的结束日期 2024-03-06：环节顺序不对。",
    ]
    assert not Application.objects.exists()


# --- the migration of the records and rules of the old layout --------------------------------------

BEFORE, AFTER = ("indicators", "0012_indicator_mapping"), ("indicators", "0013_application_attributes")
OLD_TYPES = {"R": "residential", "Z": "low_voltage_three_zero", "L": "low_voltage_other", "H": "high_voltage_single"}


@pytest.mark.django_db(transaction=True)
def test_the_migration_maps_old_types_to_attributes_and_rules_to_predicates(reference_data, make_user):
    period = services.period_open(code="2024S1")[0]
    upload(make_user("supply", "supply_company", "510000"), "510104", xlsx(RECORDS))
    ApplicationRule.objects.all().delete()  # reference data, loaded again by load_reference
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    apps = executor.loader.project_state([BEFORE]).apps
    OldApplication, OldRule, Indicator = (apps.get_model("indicators", n) for n in ("Application", "ApplicationRule", "Indicator"))
    for record in OldApplication.objects.all():
        kind = {"S1": "small_business_urban", "S2": "small_business_rural"}.get(record.number) or OLD_TYPES[record.number[0]]
        OldApplication.objects.filter(pk=record.pk).update(customer_type=kind)
    twenty_three = Indicator.objects.get(indicator_set__code="national-2021", number=23)
    OldRule.objects.create(indicator=twenty_three, customer_type="small_business_urban", measure="zero_investment", source="37号文")
    executor = MigrationExecutor(connection)
    executor.migrate([AFTER])
    try:
        records = {a.number: a for a in Application.objects.filter(period=period)}
        for number, kind in (
            ("R1", "residential"),
            ("Z1", "low_voltage_three_zero"),
            ("L1", "low_voltage_other"),
            ("S1", "small_business_urban"),
        ):
            record = records[number]
            mapped = {name: getattr(record, name) for name in LEGACY_TYPES[CustomerType(kind)]}
            assert mapped == LEGACY_TYPES[CustomerType(kind)]
        assert records["S2"].capacity_kw == 100 and records["S2"].area == "rural" and not records["Z1"].small_micro
        rule = ApplicationRule.objects.get()
        assert (rule.program.code, rule.applies_to) == ("national-2021", "small_micro=yes;area=urban;capacity_kw<=160")
        assert holds(rule.terms, records["S1"]) and not holds(rule.terms, records["S2"])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_sichuans_targets_apply_to_a_sichuan_county(make_user, period):
    upload(make_user("supply", "supply_company", "510000"), "510104", new_xlsx(RECORDS_NEW))
    found = _targets(Region.objects.get(code="510104"), period)
    assert {code for code, *_ in found} == {"sichuan-2022"}  # not Chongqing's, SGCC Chongqing's or Guiyang's
    average = found[("sichuan-2022", "class=residential", "elapsed_days", "average", "")]
    assert (average.value, average.met) == (Decimal("4"), False)  # 全过程平均 ≤ 3: (3 + 3 + 6) / 3
    three_zero = found[("sichuan-2022", "class=low_voltage;three_zero=yes", "elapsed_days", "each", "")]
    assert (three_zero.total, three_zero.failed, three_zero.label) == (2, 1, "1 / 2 符合")  # Z2: 9 > 7
    single = found[("sichuan-2022", "class=high_voltage;dual_source=no", "total_days", "each", "")]
    assert (single.total, single.failed) == (1, 1)  # H1: 17 > 16
    stages = found[("sichuan-2022", "class=high_voltage", "stage_count", "each", "")]
    assert (stages.total, stages.failed, stages.met) == (1, 0, True)  # 4 stages ≤ 4
