"""The seed documents' ledgers and indicator sets, loaded text for text."""

import csv
import re
import shutil
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from indicators.models import Indicator, IndicatorSet
from ledger.models import Ledger, LedgerItem
from ledger.reference import reference_load
from utilities.csvdata import DataFileError

pytestmark = pytest.mark.django_db

SEED_OF = {
    "national-2021": "002_6d0c3891b3f4315c.txt",
    "chongqing-2021": "000_cf89c20e78ee52ff.txt",
    "sichuan-2022": "004_fb4a5dae81d5d090.txt",
    "guiyang-2021": "003_281dc13491b7044c.txt",
    "cqpower-2021": "001_a49bdaf37099df0f.txt",
}


def squeeze(text):
    """Text with all whitespace and conversion tags removed: what survives PDF/Word flattening."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", text))


@pytest.mark.parametrize(
    "code, count, region, extra",
    [
        ("national-2021", 57, None, []),
        ("chongqing-2021", 57, "500000", []),
        ("sichuan-2022", 66, "510000", ["年度重点举措"]),
        ("guiyang-2021", 12, "520100", []),
        ("cqpower-2021", 18, "500000", ["具体举措", "进度安排"]),
    ],
)
def test_ledger_counts(code, count, region, extra):
    ledger = Ledger.objects.get(code=code)
    assert ledger.items.count() == count
    assert list(ledger.items.values_list("number", flat=True)) == list(range(1, count + 1))
    assert (ledger.region.code if ledger.region else None) == region
    assert ledger.extra_columns == extra


def test_indicator_counts_groups_and_levels():
    national = IndicatorSet.objects.get(code="national-2021")
    assert national.region is None and national.indicators.count() == 38
    groups = {
        g: list(national.indicators.filter(group=g).values_list("number", flat=True))
        for g in ("2020年指标", "2021年指标", "2022年指标", "持续推进指标")
    }
    assert groups == {
        "2020年指标": list(range(1, 22)),
        "2021年指标": list(range(22, 34)),
        "2022年指标": [34, 35, 36],
        "持续推进指标": [37, 38],
    }
    province = national.indicators.filter(level="province")
    assert list(province.values_list("number", flat=True)) == [21, 27, 29, 30, 33, 37, 38]
    assert list(province.values_list("label", flat=True)) == ["*21", "*27", "*29", "*30", "*33", "*37", "*38"]
    assert national.indicators.filter(level="county").count() == 31
    assert list(national.indicators.filter(encouraging=True).values_list("number", flat=True)) == [37, 38]
    chongqing = IndicatorSet.objects.get(code="chongqing-2021")
    assert chongqing.region.code == "500000" and chongqing.indicators.count() == 42


# Five items of each document, compared with the seed's own text.
LEDGER_PINS = [
    (
        "national-2021",
        1,
        "工作目标",
        "各地区全面实现居民用户和低压小微企业用电报装“三零”服务、高压用户用电报装“三省”服务。",
        "各省级能源（电力）主管部门牵头，国家能源局各派出机构，各供电企业按职责分工负责",
        "2022 年底前",
        date(2022, 12, 31),
    ),
    (
        "national-2021",
        12,
        "压缩办电时间",
        "加强内部管控，创新技术手段和管理模式，加快业务办理速度和配套电网接入工程建设，实现用电报装业务各环节限时办理。",
        "各供电企业",
        "2020年底前",
        date(2020, 12, 31),
    ),
    (
        "national-2021",
        29,
        "降低办电成本",
        "逐步提高低压接入容量上限标准，对于用电报装容量160kW及以下实行“三零”服务的用户采取低压方式接入电网。",
        "各供电企业",
        "2022年底前",
        date(2022, 12, 31),
    ),
    (
        "national-2021",
        52,
        "强化组织实施",
        "建立工作进展情况报送制度，各单位将工作中取得的阶段性成效、存在的突出问题及时报告国家能源局。",
        "各省级能源（电力）主管部门，国家能源局各派出机构，各供电企业按职责分工负责",
        "2021年4月底前",
        date(2021, 4, 30),
    ),
    (
        "national-2021",
        53,
        "强化组织实施",
        "作为优化用电营商环境、提升“获得电力”服务水平的责任主体，要对标先进，聚焦薄弱环节和突出问题，制定具体实施方案并抓好落实。围绕提升办电服务水平，不断完善相关措施，建立健全长效机制。（即对照1479号文，对现有用电报装制度进行立改废清理，全面规范有关制度）",
        "各供电企业",
        "2021年5月15日前",
        date(2021, 5, 15),
    ),
    (
        "chongqing-2021",
        1,
        "工作目标",
        "全市全面实现居民用户和低压小微企业用电报装“三零”服务、高压用户用电报装“三省”服务。",
        "市经济信息委、市能源局、华中能源监管局重庆业务办，各供电公司按职责分工负责",
        "2022 年底前",
        date(2022, 12, 31),
    ),
    (
        "chongqing-2021",
        4,
        "工作目标",
        "将居民用户、实行“三零”服务的低压非居民用户从报装申请到装表接电的全过程办电时间分别压减至 3 个、8 个工作日以内。",
        "各供电公司、市经济信息委",
        "2020 年底前",
        date(2020, 12, 31),
    ),
    (
        "chongqing-2021",
        13,
        "压缩办电时间",
        "鼓励实行配套电网接入工程“项目经理+客户经理”双经理负责制，实现网格化全过程跟进。",
        "各供电企业",
        "持续推进",
        None,
    ),
    (
        "chongqing-2021",
        18,
        "压缩办电时间",
        "符合条件的低压短距离电力接入工程，积极探索实行告知承诺、审批备案或取消审批等方式。",
        "市经济信息委牵头，相关市级部门按职责分工负责",
        "持续推进",
        None,
    ),
    (
        "chongqing-2021",
        25,
        "提高办电便利度",
        "除法律法规另有规定外，不得增设或变相设置用电报装业务办理环节、前置条件，不得增加申请材料，不得强制用户签订申请用电承诺书。",
        "各供电企业",
        "2020 年底前",
        date(2020, 12, 31),
    ),
    (
        "sichuan-2022",
        1,
        "",
        "在全省范围内实现居民用户和低压小微企业用电报装“零上门、零审批、零投资”服务、高压用户用电报装“省时、省力、省钱”服务。",
        "省能源局牵头，国家能源局四川监管办、各供电企业按职责分工负责",
        "2022 年底前",
        date(2022, 12, 31),
    ),
    (
        "sichuan-2022",
        60,
        "",
        "成立四川省优化营商环境提升“获得电力”水平专项工作组，建立工作机制。",
        "省发展和改革委、省能源局",
        "2021 年4 月底前",
        date(2021, 4, 30),
    ),
    ("sichuan-2022", 59, "", "负责全省“获得电力”工作的统筹协调、整体推进和督促落实。", "省发展和改革委、省能源局", "持续推进", None),
    ("guiyang-2021", 4, "丰富服务渠道，提升办电透明化", None, "市政务服务中心，贵阳供电局", "2021年7月", date(2021, 7, 31)),
    (
        "guiyang-2021",
        7,
        "加强协同规划，建设坚强电网",
        None,
        "各区（市、县）、开发区，市自然资源和规划局，市投资促进局，市工业和信息化局，贵阳供电局",
        "长期",
        None,
    ),
    ("guiyang-2021", 1, "优化服务流程，进一步提升办电效率", None, "市住房和城乡建设局，贵阳供电局", "2021年9月", date(2021, 9, 30)),
    (
        "guiyang-2021",
        9,
        "加强综合管控，提高供电可靠性",
        None,
        "市发展改革委，市工业和信息化局，市自然资源和规划局，各区（市、县）、开发区，贵阳供电局",
        "长期",
        None,
    ),
    ("guiyang-2021", 12, "提升综合能源服务，拓展电力应用场景", None, "贵阳供电局", "长期", None),
    (
        "cqpower-2021",
        1,
        "清理规范收费与治理“三指定”方面",
        "全面清理报装接入环节收费",
        "营销部",
        "3月1日前，完成专项清理活动。",
        date(2021, 3, 1),
    ),
    (
        "cqpower-2021",
        2,
        "清理规范收费与治理“三指定”方面",
        "进一步规范竣工检验工作",
        "营销部、设备部",
        "6月前完成总部竣工检验“云服务”试点；12月前开展试点。",
        date(2021, 12, 31),
    ),
    ("cqpower-2021", 12, "", "深化“供电+能效”服务", "营销部", "5 月前组建用能服务班组。", date(2021, 5, 31)),
    ("cqpower-2021", 18, "", "严格落实监管要求", "营销部、巡察办", "常态开展", None),
    ("cqpower-2021", 10, "", "便捷客户交费", "营销部、财务部", "常态开展", None),
]


@pytest.mark.parametrize("code, number, category, task, units, due_text, due", LEDGER_PINS)
def test_ledger_items_match_the_seed(code, number, category, task, units, due_text, due):
    item = LedgerItem.objects.get(ledger__code=code, number=number)
    assert item.category == category
    if task is not None:
        assert item.task == task
    assert item.responsible_units == units
    assert item.due_text == due_text
    assert item.due_date == due
    assert item.ongoing is (due is None)


def test_extra_columns_are_kept():
    item = LedgerItem.objects.get(ledger__code="sichuan-2022", number=60)
    assert item.extra == {"年度重点举措": "主动作为/发挥作用"}
    assert item.extra_values == ["主动作为/发挥作用"]
    power = LedgerItem.objects.get(ledger__code="cqpower-2021", number=4)
    assert power.extra["具体举措"] == "超前对接用电需求；线上获取客户证照信息"


def test_an_explicit_due_stands_only_where_the_text_has_no_date():
    item = LedgerItem.objects.get(ledger__code="cqpower-2021", number=11)
    assert (item.due_text, item.due_date) == ("“获得电力”供电可靠性评价指标与京沪差距进一步缩小。", date(2021, 12, 31))


INDICATOR_PINS = [
    (
        "national-2021",
        6,
        "6",
        "county",
        "供电企业要将居民用户从报装申请到装表接电的全过程办电时间压减至 5 个工作日以内。",
        "除不可抗力外，所有居民用户报装项目的办电时间达到规定时限。",
    ),
    (
        "national-2021",
        33,
        "*33",
        "province",
        "各省级能源(电力)主管部门要牵头制定本地区优化用电营商环境重点任务台账。",
        "2021年4月30日前完成三年行动方案 and 台账的制定。",
    ),
    ("national-2021", 38, "*38", "province", "鼓励供电企业推广临时用电的租赁共享服务。", "/"),
    (
        "national-2021",
        13,
        "13",
        "county",
        "供电企业要做到低压用户在业务受理环节仅需提供用电人有效身份证件和用电地址物权证件。",
        "不能增加或变相增加额外资料。",
    ),
    ("national-2021", 8, "8", "county", "供电企业要将居民用户的用电报装压减至 2 个环节。", "所有居民用户报装项目的办电环节减至 2 个。"),
    (
        "chongqing-2021",
        6,
        "6",
        "county",
        "供电企业要将居民用户从报装申请到装表接电的全过程办电时间压减至3个工作日内。",
        "除不可抗力外，所有居民用户报装项目的办电时间达到规定时限。",
    ),
    ("chongqing-2021", 8, "8", "county", "供电企业要将居民用户的用电报装压减至2个环节。", "所有居民用户报装项目的办电环节减至2个。"),
    ("chongqing-2021", 16, "16", "county", "供电企业要将电网投资界面延伸至居民用户红线（含计量装置）。", "实现居民用户办电“零投资”。"),
    ("chongqing-2021", 42, "42", "province", "鼓励供电企业推广临时用电的租赁共享服务。", ""),
    (
        "chongqing-2021",
        13,
        "13",
        "county",
        "供电企业要做到低压用户在业务受理环节仅需提供用电人有效身份证件和用电地址物权证件。",
        "不能增加或变相增加额外资料。",
    ),
]


@pytest.mark.parametrize("code, number, label, level, content, standard", INDICATOR_PINS)
def test_indicators_match_the_seed(code, number, label, level, content, standard):
    indicator = Indicator.objects.get(indicator_set__code=code, number=number)
    assert (indicator.label, indicator.level, indicator.content, indicator.standard) == (label, level, content, standard)


@pytest.mark.parametrize("code", SEED_OF)
def test_every_ledger_text_stands_in_its_seed(code, seeds_dir):
    """Every cell is the seed's text (whitespace aside); joined cells are checked part by part.

    The company ledger joins an item's sub-measures with “；”; Sichuan's 年度重点举措 prints its two
    phrases on two lines of one cell, kept as “积极推动/确保完成”.
    """
    seed = squeeze((seeds_dir / SEED_OF[code]).read_text(encoding="utf-8"))
    joiner = "[；/]" if code == "cqpower-2021" else "/"
    for item in LedgerItem.objects.filter(ledger__code=code):
        parts = [item.task, item.due_text] if code != "cqpower-2021" else re.split(joiner, item.task + "；" + item.due_text)
        for value in item.extra.values():
            parts.extend(re.split(joiner, value))
        for part in parts:
            assert squeeze(part) in seed or _across_page_break(part, seed), (code, item.number, part[:40])


def _across_page_break(text, seed):
    """A cell the PDF split over a page break stands in the seed as a head and a tail."""
    s = squeeze(text)
    return any(s[:cut] in seed and s[cut:] in seed for cut in range(8, len(s) - 4))


@pytest.mark.parametrize("code", ["national-2021", "chongqing-2021"])
def test_every_indicator_text_stands_in_its_seed(code, seeds_dir):
    seed = squeeze((seeds_dir / SEED_OF[code]).read_text(encoding="utf-8"))
    for indicator in Indicator.objects.filter(indicator_set__code=code):
        for text in (indicator.content, indicator.standard):
            for part in text.split(" ") if code == "chongqing-2021" else [text]:
                assert squeeze(part) in seed or _across_page_break(part, seed), (code, indicator.number, part[:40])


def _copy_reference(tmp_path, settings):
    target = tmp_path / "reference"
    shutil.copytree(settings.BASE_DIR / "fixtures" / "reference", target)
    return target


def _rewrite(path, number, field, value):
    with path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    column = rows[0].index(field)
    rows[number][column] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _state():
    return (
        list(LedgerItem.objects.order_by("pk").values_list("pk", "task", "due_text", "due_date")),
        list(Indicator.objects.order_by("pk").values_list("pk", "content")),
    )


@pytest.mark.parametrize(
    "file, number, field, value, message",
    [
        ("ledger_national_2021.csv", 7, "due_text", "尽快", "ledger_national_2021.csv 第 8 行 字段“due_text”：无法识别完成时间“尽快”"),
        ("ledger_guiyang_2021.csv", 3, "due", "2021-13-01", "ledger_guiyang_2021.csv 第 4 行 字段“due”"),
        ("indicators_national_2021.csv", 5, "level", "city", "indicators_national_2021.csv 第 6 行 字段“level”"),
        ("ledger_sichuan_2022.csv", 10, "number", "x", "ledger_sichuan_2022.csv 第 11 行 字段“number”"),
        ("ledger_chongqing_2021.csv", 2, "task", "", "ledger_chongqing_2021.csv 第 3 行 字段“task”：工作目标任务为空"),
        ("documents.csv", 2, "region_code", "990000", "documents.csv 第 3 行 字段“region_code”：区域 990000 不存在"),
    ],
)
def test_a_bad_reference_file_names_file_line_field_and_changes_nothing(tmp_path, settings, file, number, field, value, message):
    directory = _copy_reference(tmp_path, settings)
    # A good change in another file must not be written either.
    _rewrite(directory / "ledger_cqpower_2021.csv", 1, "task", "改过的任务")
    _rewrite(directory / file, number, field, value)
    before = _state()
    with pytest.raises(DataFileError) as exc:
        reference_load(directory=directory)
    assert message in str(exc.value)
    assert _state() == before


def test_reload_is_idempotent_and_applies_edits(tmp_path, settings):
    before = _state()
    reference_load(directory=settings.BASE_DIR / "fixtures" / "reference")
    assert _state() == before
    directory = _copy_reference(tmp_path, settings)
    _rewrite(directory / "ledger_guiyang_2021.csv", 4, "due_text", "2021年5月中旬前")
    reference_load(directory=directory)
    assert LedgerItem.objects.get(ledger__code="guiyang-2021", number=4).due_date == date(2021, 5, 20)


def test_command_reports_errors(tmp_path, settings):
    directory = _copy_reference(tmp_path, settings)
    _rewrite(directory / "ledger_national_2021.csv", 1, "due_text", "")
    with pytest.raises(CommandError, match="ledger_national_2021.csv 第 2 行 字段“due_text”：完成时间为空"):
        call_command("load_reference", str(directory))


def test_items_link_to_the_indicators_that_measure_them():
    item = LedgerItem.objects.get(ledger__code="national-2021", number=3)
    assert sorted(item.indicators.values_list("number", flat=True)) == [3, 4, 5]
    indicator = Indicator.objects.get(indicator_set__code="national-2021", number=22)
    assert list(indicator.ledger_items.values_list("number", flat=True)) == [5]
    linked = set(Indicator.objects.filter(indicator_set__code="national-2021", ledger_items__isnull=False).values_list("number", flat=True))
    assert linked == set(range(1, 39))  # every indicator measures some item


def test_a_link_to_an_unknown_item_is_refused(tmp_path, settings):
    directory = _copy_reference(tmp_path, settings)
    (directory / "links_national_2021.csv").write_text("item,indicators\n99,1\n3,3 77\n", encoding="utf-8")
    with pytest.raises(DataFileError) as exc:
        reference_load(directory=directory)
    assert "links_national_2021.csv 第 2 行 字段“item”：台账 national-2021 没有第 99 项" in str(exc.value)
    assert "第 3 行 字段“indicators”：指标体系 national-2021 没有指标 77" in str(exc.value)
    assert LedgerItem.objects.get(ledger__code="national-2021", number=3).indicators.count() == 3


def test_reference_ledgers_are_read_only():
    assert not Ledger.objects.filter(is_reference=False).exists()
