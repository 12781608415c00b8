"""Measuring: what an imported record stores for the rules to compare (``measure``: working days
per stage, in total and overall; the documents as canonical names), and each rule as a SQL condition
on those stored numbers (``applies_q``, ``meets_q``) and, for the listing, the same comparison in
Python (``applies``, ``breach``); both read the compared value from ``_measured_fields``, and which
records a rule applies to from its predicate (``predicate``)."""

import operator
from dataclasses import dataclass
from functools import reduce

from django.db.models import F, Q
from django.db.models.lookups import LessThanOrEqual

from ..models import ApplicationRule, RuleMeasure, Stage
from ..workdays import working_days_between
from . import predicate
from .rules import allowed_sets, document_set

# The stored field(s) a measure compares with the rule's limit; stage_days sums its stages' days.
_MEASURED_FIELD = {
    RuleMeasure.TOTAL_DAYS: "days_total",
    RuleMeasure.ELAPSED_DAYS: "days_elapsed",
    RuleMeasure.STAGE_COUNT: "stage_count",
    RuleMeasure.ZERO_INVESTMENT: "investment",
    RuleMeasure.DOCUMENTS: "document_set",
}


def _measured_fields(rule):
    if rule.measure == RuleMeasure.STAGE_DAYS:
        return [f"days_{stage}" for stage in rule.stage_list]
    return [_MEASURED_FIELD[rule.measure]]


def _limit(rule):
    return 0 if rule.measure == RuleMeasure.ZERO_INVESTMENT else rule.limit


def applies_q(rule):
    applies = predicate.as_q(rule.terms)
    return applies & Q(force_majeure=False) if rule.excludes_force_majeure else applies


def meets_q(rule):
    if rule.measure == RuleMeasure.DOCUMENTS:
        return Q(document_set__in=allowed_sets(rule))
    return Q(LessThanOrEqual(measured_value(rule), _limit(rule)))


def applies(rule, record):
    return predicate.holds(rule.terms, record) and not (rule.excludes_force_majeure and record.force_majeure)


def measured_value(rule):
    """The expression a day or stage-count rule compares with its limit (an average or longest is taken of it)."""
    return reduce(operator.add, (F(name) for name in _measured_fields(rule)))


@dataclass(frozen=True)
class Breach:
    """One rule an application fails, with what it shows against what the rule allows."""

    rule: ApplicationRule
    value: object  # working days, stages, the investment, or the extra documents
    limit: object

    @property
    def overrun(self):
        """By how much (working days, stages, yuan); None for documents."""
        return None if self.rule.measure == RuleMeasure.DOCUMENTS else self.value - self.limit

    @property
    def text(self):
        rule = self.rule
        if rule.measure == RuleMeasure.DOCUMENTS:
            return f"受理时另收：{self.value}"
        if rule.measure == RuleMeasure.ZERO_INVESTMENT:
            return f"用户投资 {self.value:,.2f} 元（应为 0）"
        return f"{rule.subject} {self.value} {rule.unit}，超出 {self.overrun} 个（上限 {self.limit}）"


def breach(rule, record):
    """The Breach of ``rule`` by ``record``, or None when the record meets it (the same comparison as meets_q)."""
    if rule.measure == RuleMeasure.DOCUMENTS:
        extra = [d for d in record.document_set.split("、") if d and d not in rule.document_list]
        return Breach(rule, "、".join(extra), None) if extra else None
    value = sum(getattr(record, name) for name in _measured_fields(rule))
    limit = _limit(rule)
    return Breach(rule, value, limit) if value > limit else None


def measure(record):
    """Store the working days of each stage, of all stages together and of the whole process, and
    the documents as canonical names, for the rules to compare in SQL."""
    total = 0
    for stage in Stage:
        start, end = record.dates(stage)
        days = working_days_between(start, end) if start else 0
        setattr(record, f"days_{stage}", days)
        total += days
    record.days_total = total
    record.days_elapsed = working_days_between(record.acceptance_start, record.connection_end)
    record.document_set = document_set(record.documents)
