"""Measured service levels (issue 14 §3): what a region's application records show, per customer
class — how many, the average and longest working days of each stage, of all stages together and
of the whole process, the share within each of the program's limits, the zero-investment share —
for the region and each of its children, with the program's average and longest targets met or
missed (the region's and each child's), a distribution of the whole process's days, and the same
figures across the program's periods, per class and for all classes.

Every figure is aggregated in the database, in a fixed number of queries whatever the number of
counties and records (``service_levels``: five). The region and its children come from one query
grouped by child and class: counts, sums and maxima add up exactly, so the region's own figures
are the children's combined in Python rather than a second scan, and each child's targets are read
from its own sums and maxima in that same query.
"""

import operator
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Max, Q, Sum, Value
from django.db.models.functions import Least, Substr

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from utilities.formatting import percent, percent_text

from ..models import DAY_MEASURES, Application, ApplicationRule, CustomerClass, Period, RuleMeasure, RuleStatistic, Stage
from ..programs import ProgramNotFound, programs_covering
from .evaluation import TargetResult
from .measure import applies_q, measured_value, meets_q

# A region's path is its ancestors' six-digit codes and its own, each followed by “/”.
_PATH_STEP = 7
# The distribution's last bucket holds this many working days and more.
HISTOGRAM_CAP = 40
ONE_PLACE = Decimal("0.1")


def _rounded(value):
    return value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


@dataclass
class Spread:
    """Working days over a population: how many went through, their sum and the longest."""

    count: int = 0
    days: int = 0
    longest: int | None = None

    def add(self, count, days, longest):
        self.count += count
        self.days += days or 0
        if count and longest is not None:
            self.longest = longest if self.longest is None else max(self.longest, longest)

    @property
    def average(self):
        return _rounded(Decimal(self.days) / self.count) if self.count else None


@dataclass(frozen=True)
class Target(TargetResult):
    """A target's result as the page, the workbook and the API all show it (``met`` stays
    ``TargetResult``'s one comparison)."""

    @property
    def shown_value(self):
        """The measured value as shown: an average to one place (half up), the longest as is."""
        if self.value is None or self.rule.statistic == RuleStatistic.LONGEST:
            return self.value
        return _rounded(self.value)

    @property
    def met_word(self):
        # a mark and a word, never colour alone (WCAG 1.4.1)
        return "—" if self.met is None else ("√ 达到" if self.met else "✗ 未达到")

    @property
    def verdict(self):
        """“平均 12.3 个工作日 ≤ 15 √ 达到”, “最长 58 个工作日 > 55 ✗ 未达到”; “无此类记录” without records."""
        if self.met is None:
            return "无此类记录"
        sign = "≤" if self.met else ">"
        return f"{self.rule.get_statistic_display()} {self.shown_value} 个工作日 {sign} {self.rule.limit} {self.met_word}"


@dataclass
class Share:
    """One of the program's limits on every application: how many it covers, how many meet it."""

    rule: ApplicationRule
    covered: int = 0
    met: int = 0

    @property
    def percent(self):
        return percent(self.met, self.covered)

    @property
    def percent_text(self):
        return percent_text(self.met, self.covered)


class _ZeroInvestment:
    """The zero-investment share of a population with ``count`` and ``zero_investment``."""

    @property
    def zero_percent(self):
        return percent(self.zero_investment, self.count)

    @property
    def zero_percent_text(self):
        return percent_text(self.zero_investment, self.count)


@dataclass
class Level(_ZeroInvestment):
    """The measured figures of one population (a region or child, all classes or one)."""

    count: int = 0
    stages: dict = field(default_factory=lambda: {stage: Spread() for stage in Stage})
    total: Spread = field(default_factory=Spread)  # 各环节合计
    elapsed: Spread = field(default_factory=Spread)  # 全过程
    zero_investment: int = 0
    covered: dict = field(default_factory=dict)  # rule pk → applications the rule applies to
    shares: dict = field(default_factory=dict)  # rule pk → Share, for the limits on every application
    measured: dict = field(default_factory=dict)  # rule pk → sum (average targets) or longest (longest targets)

    def add_row(self, row, rules):
        self.count += row["n"]
        for stage in Stage:
            self.stages[stage].add(row[f"n_{stage}"], row[f"s_{stage}"], row[f"m_{stage}"])
        self.total.add(row["n"], row["s_total"], row["m_total"])
        self.elapsed.add(row["n"], row["s_elapsed"], row["m_elapsed"])
        self.zero_investment += row["zero"]
        for rule in rules:
            covered = row[f"c_{rule.pk}"]
            self.covered[rule.pk] = self.covered.get(rule.pk, 0) + covered
            if rule.statistic == RuleStatistic.EACH:
                share = self.shares.setdefault(rule.pk, Share(rule))
                share.covered += covered
                share.met += row[f"ok_{rule.pk}"]
                continue
            value, kept = row[f"v_{rule.pk}"], self.measured.get(rule.pk)
            if value is not None:
                combine = operator.add if rule.statistic == RuleStatistic.AVERAGE else max
                self.measured[rule.pk] = value if kept is None else combine(kept, value)

    def target_results(self, rules):
        """The average and longest targets met or missed ([Target]), measured as ``evaluation.targets`` does."""
        results = []
        for rule in rules:
            if rule.statistic == RuleStatistic.EACH:
                continue
            covered, value = self.covered.get(rule.pk, 0), self.measured.get(rule.pk)
            if covered and rule.statistic == RuleStatistic.AVERAGE:
                value = Decimal(value) / covered
            results.append(Target(rule, covered, 0, Decimal(value) if covered else None))
        return results

    def shares_list(self):
        """The limits with records to cover, in the rules' order."""
        return [s for s in self.shares.values() if s.covered]


@dataclass
class TrendPoint(_ZeroInvestment):
    """One period's figures of the trend: the number, the whole process, all stages, zero investment;
    of one class, or of all classes (``customer_class`` None) with each class's own in ``classes``."""

    period: Period
    customer_class: CustomerClass | None = None
    classes: dict = field(default_factory=dict)  # CustomerClass → TrendPoint; all classes' point only
    count: int = 0
    elapsed: Spread = field(default_factory=Spread)
    total: Spread = field(default_factory=Spread)
    zero_investment: int = 0

    def add(self, row):
        self.count += row["n"]
        self.elapsed.add(row["n"], row["s_elapsed"], row["m_elapsed"])
        self.total.add(row["n"], row["s_total"], row["m_total"])
        self.zero_investment += row["zero"]

    @property
    def class_points(self):
        return [self.classes[c] for c in CustomerClass if c in self.classes]

    @property
    def rows(self):
        """[(label, point)]: each class's, then all classes' as 合计 — the trend table's rows of a period."""
        return [(p.customer_class.label, p) for p in self.class_points] + [("合计", self)]


@dataclass(frozen=True)
class Histogram:
    """How many applications of a class took each number of working days from acceptance to
    connection (the last bucket: HISTOGRAM_CAP and more), and the limits on that time."""

    buckets: list  # [(days, count)], every day from 0 to the largest present
    limits: list  # [(limit, [rules with that limit])], smallest first

    @property
    def tallest(self):
        return max((n for _days, n in self.buckets), default=0)


@dataclass(frozen=True)
class ServiceLevels:
    region: Region
    period: object
    program: object
    rules: list
    overall: Level
    by_class: dict  # CustomerClass → Level (classes with records)
    children: list  # [(Region, Level, {CustomerClass: Level}, [Target])]; empty for a county
    targets: list  # [Target] of the region; each child's are in the same order
    histograms: dict  # CustomerClass → Histogram
    trend: list  # [TrendPoint of all classes], one per period, oldest first

    @property
    def classes(self):
        return [(c, self.by_class[c]) for c in CustomerClass if c in self.by_class]


def _spread_aggregates(prefix, name):
    return {f"s_{prefix}": Sum(name), f"m_{prefix}": Max(name)}


def _aggregates(rules):
    aggregates = {"n": Count("pk"), "zero": Count("pk", filter=Q(investment=0))}
    for stage in Stage:
        aggregates[f"n_{stage}"] = Count("pk", filter=Q(**{f"{stage}_start__isnull": False}))
        aggregates |= _spread_aggregates(str(stage), f"days_{stage}")
    aggregates |= _spread_aggregates("total", "days_total") | _spread_aggregates("elapsed", "days_elapsed")
    for rule in rules:
        covered = applies_q(rule)
        aggregates[f"c_{rule.pk}"] = Count("pk", filter=covered)
        if rule.statistic == RuleStatistic.EACH:
            aggregates[f"ok_{rule.pk}"] = Count("pk", filter=covered & meets_q(rule))
        else:
            statistic = Sum if rule.statistic == RuleStatistic.AVERAGE else Max
            aggregates[f"v_{rule.pk}"] = statistic(measured_value(rule), filter=covered)
    return aggregates


def limits_program(*, region, period, code=None):
    """The program whose limits are measured: ``code`` among the programs covering ``region``, or
    the period's own when none is given; ProgramNotFound (a 404) otherwise."""
    if not code or code == period.program.code:
        return period.program
    program = programs_covering(region).filter(code=code).first()
    if program is None:
        raise ProgramNotFound(f"方案“{code}”不存在或不覆盖{region.name}。")
    return program


def _records(user, region):
    return Application.objects.restrict(user, Action.VIEW).filter(region__path__startswith=region.path)


def service_levels(*, user, region, period, program=None):
    """The measured service levels of ``region`` (county, city or province) in ``period`` under the
    limits of ``program`` (default: the period's), over the records ``user`` may view. Five queries:
    the rules, the records grouped by child and class, the children, the distribution, the trend."""
    program = program or period.program
    rules = list(
        ApplicationRule.objects.filter(program=program, measure__in=DAY_MEASURES)
        .select_related("indicator")
        .order_by(F("indicator__number").asc(nulls_last=True), "pk")
    )
    child_path = Substr("region__path", 1, len(region.path) + _PATH_STEP)
    rows = _records(user, region).filter(period=period).values("customer_class", child=child_path).order_by().annotate(**_aggregates(rules))
    overall, by_class = Level(), defaultdict(Level)
    by_child, by_child_class = defaultdict(Level), defaultdict(lambda: defaultdict(Level))
    for row in rows:
        customer_class = CustomerClass(row["customer_class"])
        for level in (overall, by_class[customer_class], by_child[row["child"]], by_child_class[row["child"]][customer_class]):
            level.add_row(row, rules)
    children = []
    if region.level != RegionLevel.COUNTY:
        for child in Region.objects.restrict(user, Action.VIEW).filter(parent=region).order_by("code"):
            level = by_child.get(child.path, Level())
            children.append((child, level, dict(by_child_class.get(child.path, {})), level.target_results(rules)))
    return ServiceLevels(
        region=region,
        period=period,
        program=program,
        rules=rules,
        overall=overall,
        by_class=dict(by_class),
        children=children,
        targets=overall.target_results(rules),
        histograms=_histograms(user, region, period, rules, by_class),
        trend=_trend(user, region, period),
    )


def _histograms(user, region, period, rules, by_class):
    """Per class, the applications counted by working days from acceptance to connection (one
    grouped query), with the limits on that time of the rules covering the class's records."""
    bucket = Least(F("days_elapsed"), Value(HISTOGRAM_CAP))
    counts = defaultdict(dict)
    rows = _records(user, region).filter(period=period).values("customer_class", bucket=bucket).order_by().annotate(n=Count("pk"))
    for row in rows:
        counts[CustomerClass(row["customer_class"])][row["bucket"]] = row["n"]
    histograms = {}
    for customer_class, days in counts.items():
        level = by_class[customer_class]
        limits = defaultdict(list)
        for rule in rules:
            if rule.measure == RuleMeasure.ELAPSED_DAYS and level.covered.get(rule.pk):
                limits[rule.limit].append(rule)
        histograms[customer_class] = Histogram([(d, days.get(d, 0)) for d in range(max(days) + 1)], sorted(limits.items()))
    return histograms


def _trend(user, region, period):
    """The same region across its program's periods, per class (one grouped query, the periods'
    fields read with it)."""
    fields = ("period_id", "period__code", "period__year", "period__kind", "period__ends")
    rows = (
        _records(user, region)
        .filter(period__program_id=period.program_id)
        .values(*fields, "customer_class")
        .order_by()
        .annotate(
            n=Count("pk"),
            zero=Count("pk", filter=Q(investment=0)),
            **_spread_aggregates("total", "days_total"),
            **_spread_aggregates("elapsed", "days_elapsed"),
        )
    )
    periods, points = {}, defaultdict(dict)
    for row in rows:
        pk = row["period_id"]
        periods.setdefault(
            pk, Period(pk=pk, code=row["period__code"], year=row["period__year"], kind=row["period__kind"], ends=row["period__ends"])
        )
        points[pk][CustomerClass(row["customer_class"])] = row
    trend = []
    for pk in sorted(points, key=lambda pk: periods[pk].ends):
        everyone = TrendPoint(periods[pk])
        for customer_class, row in points[pk].items():
            point = everyone.classes[customer_class] = TrendPoint(periods[pk], customer_class)
            for into in (point, everyone):
                into.add(row)
        trend.append(everyone)
    return trend


def elapsed_aggregates():
    """The aggregates behind the whole process's working days (全过程, ``Level.elapsed``), for a
    caller grouping the records its own way (the scorecard) that must measure the same time: the
    same field, nothing excluded; read a row back with ``elapsed_spread``."""
    return {"n": Count("pk"), **_spread_aggregates("elapsed", "days_elapsed")}


def elapsed_spread(row):
    """The Spread of a row annotated with ``elapsed_aggregates``: its ``average`` rounds as the
    service levels' figure does."""
    spread = Spread()
    spread.add(row["n"], row["s_elapsed"], row["m_elapsed"])
    return spread
