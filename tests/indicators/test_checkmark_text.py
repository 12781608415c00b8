"""One reading of a check-mark into its 附件2 text, and the importer's reading back (indicators.cells)."""

import re
from datetime import date

import pytest

from indicators.cells import CellValue, cell_description, cell_text, cell_value
from indicators.models import Checkmark, Indicator

TODAY = date(2022, 7, 10)
COUNTY = {"level": "county", "encouraging": False}
PROVINCE = {"level": "province", "encouraging": False}
ENCOURAGING = {"level": "province", "encouraging": True}


def text_of(value, kind):
    """A CellValue written back as the table writes it."""
    expected = value.month if value.status == "not_done" else None
    return cell_text(status=value.status, expected_month=expected, **kind)


def description_of(value, kind):
    done, expected = (value.month, None) if value.status == "done" else (None, value.month)
    return cell_description(status=value.status, done_month=done, expected_month=expected, **kind)


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("√", COUNTY, CellValue("done")),
        ("2021年8月", COUNTY, CellValue("not_done", date(2021, 8, 1))),
        ("", COUNTY, CellValue()),
        ("已完成", PROVINCE, CellValue("done")),
        ("2022年9月", PROVINCE, CellValue("not_done", date(2022, 9, 1))),
        ("", PROVINCE, CellValue()),
        ("已开展", ENCOURAGING, CellValue("done")),
        ("", ENCOURAGING, CellValue()),
    ],
)
def test_every_kind_of_cell_text_round_trips(text, kind, value):
    """text → value → text gives the text back, for every kind of value the table holds."""
    assert cell_value(text, today=TODAY, **kind) == value
    assert text_of(value, kind) == text


@pytest.mark.parametrize(
    "written, kind, canonical",
    [
        (" ✓ ", COUNTY, "√"),
        ("☑", COUNTY, "√"),
        ("已完成", COUNTY, "√"),
        ("√（2022年3月）", COUNTY, "√"),
        ("2021-08", COUNTY, "2021年8月"),
        ("2021 年 8 月", COUNTY, "2021年8月"),
        ("2021.8", COUNTY, "2021年8月"),
        ("预计2021年8月", COUNTY, "2021年8月"),
        (date(2021, 8, 15), COUNTY, "2021年8月"),
        ("√", PROVINCE, "已完成"),
        (date(2022, 9, 1), PROVINCE, "2022年9月"),
    ],
)
def test_variants_read_back_to_the_one_way_the_table_writes_them(written, kind, canonical):
    assert text_of(cell_value(written, today=TODAY, **kind), kind) == canonical


@pytest.mark.parametrize(
    "status, done_month, expected_month, kind, description",
    [
        ("done", date(2022, 3, 1), None, COUNTY, "√ 2022年3月"),
        ("done", None, None, COUNTY, "√"),
        ("not_done", None, date(2022, 12, 1), COUNTY, "预计 2022年12月"),
        ("done", None, None, PROVINCE, "已完成"),
        ("not_done", None, date(2022, 9, 1), PROVINCE, "预计 2022年9月"),
        ("done", None, None, ENCOURAGING, "已开展"),
        ("", None, None, COUNTY, ""),
    ],
)
def test_the_audit_description_reads_back_to_the_same_value(status, done_month, expected_month, kind, description):
    """The audit trail's and the preview's wording, with the done month, is read by the same reader."""
    assert cell_description(status=status, done_month=done_month, expected_month=expected_month, **kind) == description
    value = cell_value(description, today=TODAY, **kind)
    assert (value.status, value.month) == (status, done_month or expected_month)
    assert description_of(value, kind) == description


def test_a_county_tick_is_a_tick_with_or_without_its_month():
    for done_month in (date(2022, 3, 1), None):
        assert cell_text(status="done", expected_month=None, **COUNTY) == "√"
        assert cell_description(status="done", done_month=done_month, expected_month=None, **COUNTY).startswith("√")
    assert cell_text(status="not_done", expected_month=None, **COUNTY) == ""  # no expected month: missing
    assert cell_description(status="not_done", done_month=None, expected_month=None, **COUNTY) == "未完成（未填预计月份）"


@pytest.mark.parametrize(
    "status, done_month, expected_month, kind",
    [
        ("done", date(2022, 3, 1), None, COUNTY),
        ("done", None, None, COUNTY),
        ("not_done", None, date(2021, 8, 1), COUNTY),
        ("not_done", None, None, COUNTY),
        ("", None, None, COUNTY),
        ("done", None, None, PROVINCE),
        ("done", date(2022, 1, 1), None, PROVINCE),
        ("not_done", None, date(2022, 9, 1), PROVINCE),
        ("done", None, None, ENCOURAGING),
        ("", None, None, ENCOURAGING),
    ],
)
def test_the_models_display_is_the_table_text(status, done_month, expected_month, kind):
    mark = Checkmark(indicator=Indicator(**kind), status=status, done_month=done_month, expected_month=expected_month)
    assert mark.display == cell_text(status=status, expected_month=expected_month, **kind)


@pytest.mark.parametrize(
    "written, kind, reason",
    [
        ("/", COUNTY, "县级指标不能填“/”"),
        ("√ 2022年9月", COUNTY, "完成月份 2022年9月 晚于本月"),
        ("2021.13", COUNTY, "不是有效的月份"),
        (2021.8, COUNTY, "不是有效的月份（2021.1 是 1 月还是 10 月？）"),
        ("1999年8月", COUNTY, "年份不对"),
        ("已开展", PROVINCE, "不能填“已开展”"),
        ("/", PROVINCE, "应填“已完成”或预计完成月份"),
        ("下个月", PROVINCE, "省级指标已完成的写“已完成”"),
        ("2022年9月", ENCOURAGING, "鼓励性指标只能填“已开展”或留空"),
        (date(2022, 9, 1), ENCOURAGING, "不能填月份"),
    ],
)
def test_a_cell_that_is_no_value_says_why(written, kind, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        cell_value(written, today=TODAY, **kind)
