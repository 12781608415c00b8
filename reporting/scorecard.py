"""The Getting-Electricity scorecard (issue 14 §4, docs/scorecard.md): pure functions, no database.

The World Bank's Doing Business "Getting Electricity" method, adapted to what the portal holds:
each component is scored 0–100 as its distance to the frontier, 100 × (worst − x) / (worst − best),
clipped to 0–100, between the worst and best values of ``FRONTIERS``; a region's overall score is the
average of the components it has figures for; counties are ranked by it, and compared with their
rank and score of the previous period. A city or province is scored on its counties' records pooled.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from accounts.models import RegionLevel
from indicators.applications.levels import Spread

ONE_PLACE = Decimal("0.1")
FIGURE_PLACES = Decimal("0.001")  # SAIDI/SAIFI are entered with three decimals
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Frontier:
    label: str
    unit: str
    worst: Decimal
    best: Decimal
    source: str


# The one place the frontiers are set; docs/scorecard.md explains each choice.
FRONTIERS = {
    "procedures": Frontier(
        "办电环节",
        "个",
        Decimal(9),
        Decimal(2),
        "最差 9：Doing Business 获得电力评分的最差值；最优 2：四川 2022 居民、低压非居民 ≤ 2 个环节",
    ),
    "time": Frontier(
        "办电时间",
        "个工作日",
        Decimal(55),
        Decimal(3),
        "最差 55：国网重庆 渝电综〔2021〕5号 附件2 高压双电源 55；最优 3：重庆 附件1 居民合计 3",
    ),
    "zero_investment": Frontier("零投资占比", "%", Decimal(0), HUNDRED, "最差 0%，最优 100%（全部零投资）"),
    "saidi": Frontier(
        "户均停电时间", "小时/户", Decimal(12), Decimal(0), "最差 12：Doing Business 可靠性指数的门槛（超过即 0 分）；最优 0"
    ),
    "saifi": Frontier("户均停电次数", "次/户", Decimal(12), Decimal(0), "最差 12：Doing Business 可靠性指数的门槛（超过即 0 分）；最优 0"),
}
# The four components; reliability is the average of its SAIDI and SAIFI scores.
COMPONENTS = (("procedures", "办电环节"), ("time", "办电时间"), ("cost", "办电成本"), ("reliability", "供电可靠性"))


def rounded(value):
    return None if value is None else Decimal(value).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def distance_score(value, frontier):
    """100 × (worst − value) / (worst − best), clipped to 0–100; None for no value."""
    if value is None:
        return None
    score = HUNDRED * (frontier.worst - Decimal(value)) / (frontier.worst - frontier.best)
    return rounded(min(HUNDRED, max(Decimal(0), score)))


def mean(values):
    present = [v for v in values if v is not None]
    return rounded(sum(present) / len(present)) if present else None


@dataclass(frozen=True)
class Inputs:
    """What one region's records (sums, divided once in ``score``) and reliability figures say for a period."""

    applications: int = 0
    stages: int = 0  # 办电环节数, summed
    # Working days from acceptance to connection as the service levels measure them (全过程).
    elapsed: Spread = field(default_factory=Spread)
    zero_investment: int = 0
    investment: Decimal = Decimal(0)  # 用户投资（元）, summed
    saidi: Decimal | None = None
    saifi: Decimal | None = None


def figures_mean(values):
    """The plain mean of the figures present, to the figures' three decimals; None for none."""
    present = [v for v in values if v is not None]
    return (sum(present) / len(present)).quantize(FIGURE_PLACES, rounding=ROUND_HALF_UP) if present else None


def pooled(parts, *, own=(None, None), counties=()):
    """A region's inputs from ``parts`` (the Inputs of its records, its counties' for a city or
    province): the sums added. SAIDI/SAIFI: the region's ``own`` figures if entered, else the plain
    mean of its ``counties``' (pairs) — docs/scorecard.md says why not weighted."""
    elapsed = Spread()
    for part in parts:
        elapsed.add(part.elapsed.count, part.elapsed.days, part.elapsed.longest)
    saidi, saifi = own if own != (None, None) else (figures_mean(c[0] for c in counties), figures_mean(c[1] for c in counties))
    return Inputs(
        applications=sum(p.applications for p in parts),
        stages=sum(p.stages for p in parts),
        elapsed=elapsed,
        zero_investment=sum(p.zero_investment for p in parts),
        investment=sum((p.investment for p in parts), Decimal(0)),
        saidi=saidi,
        saifi=saifi,
    )


def _per_application(total, inputs):
    return rounded(Decimal(total) / inputs.applications) if inputs.applications else None


@dataclass(frozen=True)
class Score:
    """The values and scores of one region and period."""

    applications: int
    procedures: Decimal | None
    time: Decimal | None
    zero_percent: Decimal | None
    investment: Decimal | None  # average customer investment (元), shown beside the cost score
    saidi: Decimal | None
    saifi: Decimal | None
    scores: dict  # component → score or None

    @property
    def overall(self):
        return mean(self.scores.values())


def score(inputs):
    """The scorecard of one region's inputs."""
    procedures, time = _per_application(inputs.stages, inputs), inputs.elapsed.average
    zero = rounded(HUNDRED * inputs.zero_investment / inputs.applications) if inputs.applications else None
    reliability = [distance_score(inputs.saidi, FRONTIERS["saidi"]), distance_score(inputs.saifi, FRONTIERS["saifi"])]
    return Score(
        applications=inputs.applications,
        procedures=procedures,
        time=time,
        zero_percent=zero,
        investment=_per_application(inputs.investment, inputs),
        saidi=inputs.saidi,
        saifi=inputs.saifi,
        scores={
            "procedures": distance_score(procedures, FRONTIERS["procedures"]),
            "time": distance_score(time, FRONTIERS["time"]),
            "cost": distance_score(zero, FRONTIERS["zero_investment"]),
            "reliability": mean(reliability),
        },
    )


def ranks(overall_by_key):
    """Competition ranks (1, 2, 2, 4) by overall score, highest first; no score, no rank."""
    scored = sorted((s for s in overall_by_key.values() if s is not None), reverse=True)
    return {key: (scored.index(s) + 1 if s is not None else None) for key, s in overall_by_key.items()}


@dataclass
class Row:
    """One region's line (a county's, a city's or the province's): this period's score, its ranks,
    and how both moved since the previous period."""

    region: object
    current: Score
    previous: Score | None
    city_rank: int | None = None
    province_rank: int | None = None
    previous_city_rank: int | None = None
    previous_province_rank: int | None = None

    @property
    def score_change(self):
        before = self.previous.overall if self.previous else None
        return None if before is None or self.current.overall is None else self.current.overall - before

    @staticmethod
    def _moved(before, now):
        """Places gained (positive) or lost since the previous period."""
        return None if before is None or now is None else before - now

    @property
    def city_movement(self):
        return self._moved(self.previous_city_rank, self.city_rank)

    @property
    def province_movement(self):
        return self._moved(self.previous_province_rank, self.province_rank)


def ranked(rows, *, whole_province, city_of=None):
    """Rank ``rows`` within their city (``city_of(row)``; not for cities' rows) and, for a province's
    page, the province; the previous period's ranks the same way. Sorted by overall score, best first."""
    for attribute, previous_attribute, group_of in (
        *((("city_rank", "previous_city_rank", city_of),) if city_of else ()),
        *((("province_rank", "previous_province_rank", lambda row: None),) if whole_province else ()),
    ):
        groups = {}
        for row in rows:
            groups.setdefault(group_of(row), []).append(row)
        for members in groups.values():
            now = ranks({id(r): r.current.overall for r in members})
            before = ranks({id(r): r.previous.overall if r.previous else None for r in members})
            for r in members:
                setattr(r, attribute, now[id(r)])
                setattr(r, previous_attribute, before[id(r)])
    return sorted(rows, key=lambda r: (r.current.overall is None, -(r.current.overall or 0), r.region.code))


@dataclass(frozen=True)
class Scorecard:
    """A province's or city's scorecard of a period: its counties, its cities (a city's page: itself)
    and, on a province's page, the province, each ranked; and the period compared with (None for
    the program's first)."""

    region: object
    period: object
    counties: list
    cities: list
    province: Row | None
    previous: object

    @property
    def areas(self):
        """The province's line, then the cities'."""
        return ([self.province] if self.province else []) + self.cities


HEADERS = (
    # The region's name first: on a phone the first column stays in view while the table scrolls.
    "区域",
    "所属地市",
    "排名（地市内）",
    "排名（全省）",
    "名次变化",
    "报装数",
    "平均办电环节（个）",
    "环节得分",
    "平均办电时间（工作日）",
    "时间得分",
    "零投资占比（%）",
    "户均用户投资（元）",
    "成本得分",
    "SAIDI（小时/户）",
    "SAIFI（次/户）",
    "可靠性得分",
    "总分",
    "上期总分",
    "分数变化",
)


def movement_label(places):
    """“↑2”, “↓1”, “持平”, or “—” with nothing to compare."""
    if places is None:
        return "—"
    return f"↑{places}" if places > 0 else f"↓{-places}" if places < 0 else "持平"


def row_cells(row, *, whole_province):
    """One row of the table and the workbook, in HEADERS' order (numbers as numbers). A county's row
    names its city beside it; a city's or the province's row has no city."""
    current, scores, region = row.current, row.current.scores, row.region
    return [
        region.name,
        region.parent.name if region.level == RegionLevel.COUNTY else None,
        row.city_rank,
        row.province_rank if whole_province else None,
        movement_label(row.province_movement if whole_province else row.city_movement),
        current.applications,
        current.procedures,
        scores["procedures"],
        current.time,
        scores["time"],
        current.zero_percent,
        current.investment,
        scores["cost"],
        current.saidi,
        current.saifi,
        scores["reliability"],
        current.overall,
        row.previous.overall if row.previous else None,
        row.score_change,
    ]


def workbook(card, *, title, whole_province):
    """The ranked counties as an .xlsx (bytes), the province and its cities (a city: itself) on a
    second sheet, the frontiers on a third."""
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "获得电力评分"
    for sheet, rows in ((book.active, card.counties), (book.create_sheet("地市与全省"), card.areas)):
        sheet.append([title])
        sheet.append(list(HEADERS))
        for row in rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row_cells(row, whole_province=whole_province)])
    notes = book.create_sheet("评分方法")
    notes.append(["项目", "单位", "最差值", "最优值", "依据"])
    for frontier in FRONTIERS.values():
        notes.append([frontier.label, frontier.unit, float(frontier.worst), float(frontier.best), frontier.source])
    notes.append(["得分 = 100 ×（最差值 − 实际值）/（最差值 − 最优值），截取到 0–100；总分为有数据的各项得分的平均。"])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
