"""The region tree: every province, city and county of the mainland, loaded from fixtures/regions.csv."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Region
from accounts.services import regions_load
from utilities.csvdata import DataFileError

pytestmark = pytest.mark.django_db


def test_counts_per_level():
    assert Region.objects.filter(level="province").count() == 31
    assert Region.objects.filter(level="city").count() >= 300
    assert Region.objects.filter(level="county").count() >= 2800


def test_sichuan_has_21_cities_and_183_counties():
    sichuan = Region.objects.get(code="510000")
    assert sichuan.name == "四川省"
    assert Region.objects.filter(parent=sichuan).count() == 21
    assert Region.objects.filter(level="county", path__startswith=sichuan.path).count() == 183


def test_county_names_repeat_and_are_told_apart_by_city():
    shizhong = Region.objects.filter(name="市中区", path__startswith="510000/").select_related("parent")
    assert {r.parent.name for r in shizhong} == {"乐山市", "内江市"}
    assert len({r.code for r in shizhong}) == 2
    assert {r.full_name for r in shizhong} == {"四川省 乐山市 市中区", "四川省 内江市 市中区"}


def test_municipality_forms_one_group_named_after_it():
    group = Region.objects.get(code="500100")
    assert (group.name, group.level, group.parent.code) == ("重庆市", "city", "500000")
    assert Region.objects.filter(parent__code="500000").count() == 1
    counties = Region.objects.filter(parent=group)
    assert counties.count() == 38
    assert counties.filter(name="城口县").exists() and counties.filter(name="渝中区").exists()


def test_county_level_units_under_a_province_form_one_group():
    jiyuan = Region.objects.get(name="济源市")
    assert (jiyuan.code, jiyuan.parent.code, jiyuan.parent.level) == ("419001", "419000", "city")


def test_no_grouping_codes_or_non_divisions():
    assert not Region.objects.filter(name__in=["市辖区", "县", "省直辖县级行政区划"]).exists()
    assert not Region.objects.filter(name__contains="开发区").exists()
    assert not Region.objects.filter(code__startswith="71").exists()  # Taiwan: outside the reform's scope


def test_paths_follow_the_tree():
    county = Region.objects.get(code="510104")
    assert county.path == "510000/510100/510104/"
    assert county.ancestor_codes() == ["510000", "510100"]


def _write(tmp_path, text):
    path = tmp_path / "regions.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _snapshot():
    return list(Region.objects.order_by("code").values_list("code", "name", "parent_id", "path"))


@pytest.mark.parametrize(
    "rows, line, field, reason",
    [
        ("99000x,坏代码,province,\n", 2, "code", "6 位数字"),
        ("990000,新省,province,\n990100,新市,city,990000\n990100,重复,city,990000\n", 4, "code", "重复"),
        ("990000,新省,province,\n990101,孤县,county,990100\n", 3, "parent_code", "上级区域不存在"),
        ("990000,新省,province,\n990101,县,county,990000\n", 3, "parent_code", "不是地市级"),
        ("990000,新省,town,\n", 2, "level", "province/city/county"),
        ("990000,,province,\n", 2, "name", "名称为空"),
        ("990000,新省,province\n", 2, None, "应有 4 列"),
    ],
)
def test_a_malformed_file_names_line_and_field_and_changes_nothing(tmp_path, rows, line, field, reason):
    before = _snapshot()
    path = _write(tmp_path, "code,name,level,parent_code\n" + rows)
    with pytest.raises(DataFileError) as exc:
        regions_load(path=path)
    error = exc.value.errors[0]
    assert (error.file, error.line, error.field) == ("regions.csv", line, field)
    assert reason in str(error)
    assert _snapshot() == before


def test_an_error_late_in_the_file_leaves_the_earlier_rows_unwritten(tmp_path):
    path = _write(tmp_path, "code,name,level,parent_code\n990000,新省,province,\n990100,新市,city,990000\n990101,县,county,999999\n")
    with pytest.raises(DataFileError):
        regions_load(path=path)
    assert not Region.objects.filter(code__startswith="99").exists()


def test_missing_column_and_missing_file(tmp_path):
    with pytest.raises(DataFileError, match="表头缺少此列"):
        regions_load(path=_write(tmp_path, "code,name,level\n110000,北京市,province\n"))
    with pytest.raises(DataFileError, match="文件不存在"):
        regions_load(path=tmp_path / "nope.csv")


def test_reload_is_idempotent_and_updates_names_and_moves(tmp_path, settings):
    source = (settings.BASE_DIR / "fixtures" / "regions.csv").read_text(encoding="utf-8")
    assert regions_load(path=settings.BASE_DIR / "fixtures" / "regions.csv")[:2] == (0, 0)
    # Rename a county and move a city to another province in a copy of the file.
    changed = source.replace("510104,锦江区,county,510100", "510104,锦江区（新）,county,510100")
    changed = changed.replace("510100,成都市,city,510000", "510100,成都市,city,500000")
    created, updated, _unchanged, stale = regions_load(path=_write(tmp_path, changed))
    assert (created, updated, stale) == (0, 2, [])
    county = Region.objects.get(code="510104")
    assert county.name == "锦江区（新）"
    assert county.path == "500000/510100/510104/"


def test_command_reports_errors_in_chinese(tmp_path):
    path = _write(tmp_path, "code,name,level,parent_code\nabc,坏,province,\n")
    with pytest.raises(CommandError) as exc:
        call_command("load_regions", str(path))
    assert "数据库未作任何改动" in str(exc.value)
    assert "regions.csv 第 2 行 字段“code”" in str(exc.value)
