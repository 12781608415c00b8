"""Give the 附件3 figures entered before supply companies existed a company (migration 0004).

Takes the model classes as arguments, so the migration passes its historical models and the tests
the real ones. Before companies, a figure was a region's: a province with figures at two levels in
one half-year (the province's own and its cities') counted both, and only a person can tell which
company each belongs to, so that case is refused, naming every row; nothing is changed then.
"""

from collections import defaultdict

from accounts.models import RegionLevel
from accounts.policy import supply_company_users_q

from .tables import BENEFIT_CATEGORIES

HALF_LABELS = {1: "上半年", 2: "下半年"}
LEVELS = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)


class BenefitSplitRefused(ValueError):
    """Figures of one province and half-year at two levels: an operator splits them by hand."""


def _row_text(row):
    category = dict(BENEFIT_CATEGORIES).get(row["category"], row["category"])
    return f"{row['region__name']}（{row['region__code']}） {row['year']}年 {HALF_LABELS.get(row['half'], row['half'])} {category}"


def _refusals(by_province):
    lines = []
    for code, rows in sorted(by_province.items()):
        by_half = defaultdict(list)
        for row in rows:
            by_half[(row["year"], row["half"])].append(row)
        for (year, half), half_rows in sorted(by_half.items()):
            levels = [level for level in LEVELS if any(r["region__level"] == level for r in half_rows)]
            if len(levels) > 1:
                names = "、".join(f"{RegionLevel(level).label}级" for level in levels)
                lines.append(f"省份 {code} {year}年{HALF_LABELS.get(half, half)}同时有{names}的数字：")
                lines.extend(f"  {_row_text(row)}" for row in half_rows)
    return lines


def benefits_companies_assign(*, benefit_model, company_model, region_model, user_model):
    """One company per province that has figures without a company (“××供电企业（迁移）”), serving the
    regions its rows are at; the province's supply users without a company join it. Returns
    ``[(company name, rows, users)]``. Raises ``BenefitSplitRefused`` (nothing changed) where a
    province has figures at two levels in one half-year.

    A province whose figures are at one level per half-year but at different levels in different
    halves gets one company per level (“××供电企业（迁移·地市级）”): a service area is one level.
    """
    rows = list(
        benefit_model.objects.filter(company__isnull=True)
        .order_by("region__path", "year", "half", "category")
        .values("pk", "region_id", "region__code", "region__name", "region__level", "region__path", "year", "half", "category")
    )
    by_province = defaultdict(list)
    for row in rows:
        by_province[row["region__path"][:6]].append(row)
    refusals = _refusals(by_province)
    if refusals:
        raise BenefitSplitRefused(
            "无法自动迁移服务效益：以下省份在同一半年里既有省级（或地市级）又有下级区域的数字，原来会重复统计，"
            "无法判断属于哪个供电企业。请先人工把这些数字拆分到各供电企业（或删去重复的一级），再运行迁移：\n" + "\n".join(refusals)
        )
    provinces = region_model.objects.in_bulk(list(by_province), field_name="code")
    done = []
    for code, province_rows in sorted(by_province.items()):
        province = provinces[code]
        levels = [level for level in LEVELS if any(r["region__level"] == level for r in province_rows)]
        users = user_model.objects.filter(supply_company_users_q(company__isnull=True, region__path__startswith=province.path))
        for index, level in enumerate(levels):
            suffix = "" if len(levels) == 1 else f"·{RegionLevel(level).label}级"
            company, _ = company_model.objects.get_or_create(
                code=f"migrated-{code}" + (f"-{level}" if suffix else ""),
                defaults={"name": f"{province.name}供电企业（迁移{suffix}）", "province": province},
            )
            level_rows = [r for r in province_rows if r["region__level"] == level]
            company.service_area.add(*sorted({r["region_id"] for r in level_rows}))
            benefit_model.objects.filter(pk__in=[r["pk"] for r in level_rows]).update(company=company)
            # The people who entered them: supply users of the province, to the first (highest) level's company.
            joined = users.update(company=company) if index == 0 else 0
            done.append((company.name, len(level_rows), joined))
    return done
