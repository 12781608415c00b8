"""完成时间 as written → a due date or “ongoing”."""

from datetime import date

import pytest

from ledger.due import Due, DueParseError, parse_due


@pytest.mark.parametrize(
    "text, year, expected",
    [
        ("2020年底前", None, Due(date(2020, 12, 31), False)),
        ("2022 年底前", None, Due(date(2022, 12, 31), False)),
        ("2021年4月底前", None, Due(date(2021, 4, 30), False)),
        ("2021 年4 月底前", None, Due(date(2021, 4, 30), False)),
        ("2021年5月15日前", None, Due(date(2021, 5, 15), False)),
        ("2021年5月中旬前", None, Due(date(2021, 5, 20), False)),
        ("2021年 5月中旬前", None, Due(date(2021, 5, 20), False)),
        ("2021年9月", None, Due(date(2021, 9, 30), False)),
        ("2024年2月底前", None, Due(date(2024, 2, 29), False)),
        ("6月底前", 2022, Due(date(2022, 6, 30), False)),
        ("3月1日前，完成专项清理活动。", 2021, Due(date(2021, 3, 1), False)),
        ("6月前完成总部竣工检验“云服务”试点；12月前开展试点。", 2021, Due(date(2021, 12, 31), False)),
        ("力争 6 月前促请市级价格主管部门", 2021, Due(date(2021, 6, 30), False)),
        ("2021年上半年", None, Due(date(2021, 6, 30), False)),
        ("持续推进", None, Due(None, True)),
        ("长期", None, Due(None, True)),
        ("常态开展", 2021, Due(None, True)),
        ("按国网统一部署持续推进。", 2021, Due(None, True)),
    ],
)
def test_parse(text, year, expected):
    assert parse_due(text, year=year) == expected


@pytest.mark.parametrize(
    "text, year, message",
    [
        ("", None, "完成时间为空"),
        ("尽快", None, "无法识别完成时间“尽快”"),
        ("按市政府相关文件要求执行。", 2021, "无法识别"),
        ("6月底前", None, "没有写年份"),
        ("2021年2月30日前", None, "日期不存在"),
        ("2021年13月", None, "日期不存在"),
    ],
)
def test_unparseable(text, year, message):
    with pytest.raises(DueParseError, match=message):
        parse_due(text, year=year)
