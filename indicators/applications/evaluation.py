"""What a county's records say about its indicators: ``tallies`` (per county and indicator: how
many applications count and how many fail, one grouped query), ``evaluate`` (the same for one county
with every failing application and what it overran), ``county_evaluation`` (for the county page)
``conflicts`` (check-marks the records contradict) and ``targets`` (a program's limits without an
indicator: an average, a longest time, or every application's limit)."""

import operator
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce

from django.db.models import Avg, Count, F, Max, Q

from accounts.models import Region, RegionLevel
from accounts.scoping import Action

from ..models import (
    Application,
    ApplicationRule,
    Checkmark,
    CheckmarkStatus,
    Indicator,
    IndicatorSet,
    RuleMeasure,
    RuleStatistic,
)
from ..programs import programs_covering
from .measure import applies, applies_q, breach, measured_value, meets_q
from .rules import rules_by_indicator

MAX_LISTED = 200  # failing applications listed per indicator on the county page
MAX_FAILING_LOADED = 5000  # failing applications loaded for that listing

# How the records line reads, by what an indicator's rules check.
PHRASES = {
    RuleMeasure.STAGE_DAYS: "在时限内",
    RuleMeasure.TOTAL_DAYS: "在时限内",
    RuleMeasure.ELAPSED_DAYS: "在时限内",
    RuleMeasure.STAGE_COUNT: "环节数达标",
    RuleMeasure.DOCUMENTS: "申请资料合规",
    RuleMeasure.ZERO_INVESTMENT: "零投资",
}


@dataclass(frozen=True)
class Tally:
    """What a county's records say about one indicator: how many applications it covers, how many fail."""

    indicator: Indicator
    rules: tuple
    total: int
    failed: int

    @property
    def met(self):
        return self.total - self.failed

    @property
    def label(self):
        phrases = {PHRASES[r.measure] for r in self.rules}
        phrase = phrases.pop() if len(phrases) == 1 else "符合要求"
        return f"{self.met:,} / {self.total:,} {phrase}"

    @property
    def rule_lines(self):
        """The rules as lines, the records they apply to with the same rules on one line:
        “低压非居民、未实行“三零”服务：业务受理用时 ≤ 1 个工作日；…”."""
        return _rule_lines(self.rules)

    def conflict(self, checkmark):
        """Why the county's check-mark and its records disagree, or "" when they do not."""
        if not self.total:
            return ""
        done = checkmark is not None and checkmark.status == CheckmarkStatus.DONE
        if done and self.failed:
            return f"已打√，但记录显示 {self.failed:,} 件不符合"
        if not done and not self.failed:
            return "记录全部符合，但尚未打√"
        return ""


def _rule_lines(rules):
    by_records = defaultdict(list)
    for rule in rules:
        exception = "（不可抗力除外）" if rule.excludes_force_majeure else ""
        by_records[rule.applies_label].append(rule.describe() + exception)
    lines = defaultdict(list)
    for kind, texts in by_records.items():
        lines["；".join(texts)].append(kind)
    return [f"{'、'.join(kinds)}：{texts}" for texts, kinds in lines.items()]


def _aggregates(rules):
    """Per indicator: Count of the applications it covers, and of those failing one of its rules."""
    aggregates = {}
    for indicator, its_rules in rules.items():
        covered = reduce(operator.or_, (applies_q(r) for r in its_rules))
        failing = reduce(operator.or_, (applies_q(r) & ~meets_q(r) for r in its_rules))
        aggregates[f"total_{indicator.pk}"] = Count("pk", filter=covered)
        aggregates[f"failed_{indicator.pk}"] = Count("pk", filter=failing)
    return aggregates


def tallies(*, regions, period, indicator_set_id=None):
    """{(county id, indicator id): Tally} for the counties in ``regions`` (a queryset or list), under
    the rules of ``indicator_set_id`` (default: the period's set). Two queries: the rules, then one
    grouped count over the records; none when the set has no rules. Counties without records are absent."""
    rules = rules_by_indicator(indicator_set_id or period.indicator_set_id)
    if not rules:
        return {}
    rows = Application.objects.filter(region__in=regions, period=period).values("region_id").order_by().annotate(**_aggregates(rules))
    return {
        (row["region_id"], indicator.pk): Tally(indicator, tuple(its_rules), row[f"total_{indicator.pk}"], row[f"failed_{indicator.pk}"])
        for row in rows
        for indicator, its_rules in rules.items()
    }


@dataclass
class IndicatorResult:
    tally: Tally
    failing: list = field(default_factory=list)  # [(Application, [Breach])], at most MAX_LISTED

    @property
    def unlisted(self):
        return self.tally.failed - len(self.failing)


def evaluate(*, region, period, indicator_set):
    """One county's records of a period under a set's rules: per indicator the Tally and the
    failing applications with every rule they break and by how much (three queries)."""
    rules = rules_by_indicator(indicator_set.pk)
    if not rules:
        return []
    records = Application.objects.filter(region=region, period=period)
    counts = next(iter(records.values("region_id").order_by().annotate(**_aggregates(rules))), {})
    results = {
        indicator: IndicatorResult(
            Tally(indicator, tuple(r), counts.get(f"total_{indicator.pk}", 0), counts.get(f"failed_{indicator.pk}", 0))
        )
        for indicator, r in rules.items()
    }
    any_failing = reduce(operator.or_, (applies_q(r) & ~meets_q(r) for its_rules in rules.values() for r in its_rules))
    for record in records.filter(any_failing).order_by("number")[:MAX_FAILING_LOADED]:
        for indicator, its_rules in rules.items():
            result = results[indicator]
            breaches = [b for b in (breach(r, record) for r in its_rules if applies(r, record)) if b]
            if breaches and len(result.failing) < MAX_LISTED:
                result.failing.append((record, breaches))
    return list(results.values())


def county_evaluation(*, region, period):
    """For each set with rules that applies to a county: (set, whether the county ticks it, rows of
    (IndicatorResult, the county's Checkmark, the conflict between them)). The county ticks the
    period's set only; another set (its province's own) is shown for comparison, without ticks."""
    marks = {m.indicator_id: m for m in Checkmark.objects.filter(region=region, period=period)}
    sets = []
    for indicator_set in rule_sets_for(region):
        ticked = indicator_set.pk == period.indicator_set_id
        rows = []
        for result in evaluate(region=region, period=period, indicator_set=indicator_set):
            mark = marks.get(result.tally.indicator.pk) if ticked else None
            rows.append((result, mark, result.tally.conflict(mark) if ticked else ""))
        sets.append((indicator_set, ticked, rows))
    return sets


def rule_sets_for(region):
    """The indicator sets with rules that apply to a county: the national one and its province's own."""
    ancestors = region.ancestor_codes()
    return list(
        IndicatorSet.objects.filter(Q(region__isnull=True) | Q(region__code__in=ancestors))
        .filter(indicators__application_rules__isnull=False)
        .distinct()
        .order_by(F("region__code").asc(nulls_first=True), "year", "code")
    )


@dataclass(frozen=True)
class Conflict:
    county: Region
    tally: Tally
    checkmark: Checkmark | None
    reason: str


def conflicts(*, user, region, period):
    """Every county under ``region`` that ``user`` may see whose check-mark of an indicator its
    records contradict, under the period's set, in region order (four queries)."""
    counties = Region.objects.restrict(user, Action.VIEW).filter(level=RegionLevel.COUNTY, path__startswith=region.path)
    counts = tallies(regions=counties, period=period)
    if not counts:
        return []
    indicator_ids = {indicator_id for _county, indicator_id in counts}
    marks = {
        (m.region_id, m.indicator_id): m
        for m in Checkmark.objects.filter(region__in=counties, period=period, indicator_id__in=indicator_ids).select_related("indicator")
    }
    names = {c.pk: c for c in Region.objects.filter(pk__in={county_id for county_id, _ in counts}).select_related("parent")}
    found = []
    for (county_id, indicator_id), tally in counts.items():
        mark = marks.get((county_id, indicator_id))
        reason = tally.conflict(mark)
        if reason:
            found.append(Conflict(names[county_id], tally, mark, reason))
    return sorted(found, key=lambda c: (c.county.path, c.tally.indicator.number))


# --- a program's targets: limits without an indicator (SGCC, Sichuan, Guiyang, Chongqing's 10 kV) -----


@dataclass(frozen=True)
class TargetResult:
    """What a county's records show against one target: how many it covers and, for a limit on
    every application, how many fail; for an average or longest time, the measured value."""

    rule: object
    total: int
    failed: int  # every-application targets only
    value: object  # the average (Decimal, one place) or longest working days; None without records

    @property
    def met(self):
        if not self.total:
            return None
        if self.rule.statistic == RuleStatistic.EACH:
            return not self.failed
        return self.value <= self.rule.limit

    @property
    def label(self):
        if not self.total:
            return "无此类记录"
        if self.rule.statistic == RuleStatistic.EACH:
            return f"{self.total - self.failed:,} / {self.total:,} 符合"
        measured = f"{self.value:.1f}" if self.rule.statistic == RuleStatistic.AVERAGE else f"{self.value}"
        return f"{self.rule.get_statistic_display()} {measured} 个工作日（{self.total:,} 件）"


def targets(*, region, period):
    """[(program, [TargetResult])] for the programs covering a county that set targets on
    application records, under the county's records of a period (two queries: the rules of the
    programs covering it, one aggregate over the records)."""
    rules = list(
        ApplicationRule.objects.filter(indicator__isnull=True, program__in=programs_covering(region))
        .select_related("program")
        .order_by("program__order", "program__code", "pk")
    )
    if not rules:
        return []
    aggregates = {}
    for rule in rules:
        covered = applies_q(rule)
        aggregates[f"n_{rule.pk}"] = Count("pk", filter=covered)
        if rule.statistic == RuleStatistic.EACH:
            aggregates[f"f_{rule.pk}"] = Count("pk", filter=covered & ~meets_q(rule))
        else:
            statistic = Avg if rule.statistic == RuleStatistic.AVERAGE else Max
            aggregates[f"v_{rule.pk}"] = statistic(measured_value(rule), filter=covered)
    values = Application.objects.filter(region=region, period=period).aggregate(**aggregates)
    by_program = defaultdict(list)
    for rule in rules:
        value = values.get(f"v_{rule.pk}")
        by_program[rule.program].append(
            TargetResult(rule, values[f"n_{rule.pk}"], values.get(f"f_{rule.pk}") or 0, None if value is None else Decimal(str(value)))
        )
    return list(by_program.items())
