"""One tick where the documents agree (issue 13 §2).

``fixtures/reference/indicator_mapping.csv`` links an indicator of one set to an equivalent of
another (Chongqing's 42 → the national 38), each row with both documents' words, and only where
the source's standard equals or is stricter than the target's. A region's √ of the source, in a
period of a program covering it, is then offered for the target in the same region's period of
the same code: shown on the page, taken with one click through ``checkmarks_set`` and audited
with its source. Never the other way round: a target's √ offers nothing.

Loaded by ``load_reference`` (``mapping_parse``, ``mapping_sync``), a ``mapping`` row of
``documents.csv`` after the sets it links.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from utilities.csvdata import DataError, DataFileError, read_rows

from .models import Channel, Checkmark, CheckmarkStatus, Indicator, IndicatorMapping, MappingRelation, Period
from .programs import programs_covering
from .services import CheckmarkValue, checkmarks_set

MAPPING_COLUMNS = ("source_set", "source", "target_set", "target", "relation", "basis")


def mapping_parse(path, errors):
    """The rows of a mapping file as ``(line, source set, number, target set, number, fields)``;
    problems go to ``errors``, located by file, line and field."""
    _header, rows = read_rows(path, MAPPING_COLUMNS)
    parsed = []
    for line, row in rows:
        where = (path.name, line)
        problems = len(errors)
        for name in ("source_set", "target_set", "basis"):
            if not row[name]:
                errors.append(DataError(*where, name, "不能为空。"))
        for name in ("source", "target"):
            if not row[name].isdigit():
                errors.append(DataError(*where, name, f"“{row[name]}”不是指标序号。"))
        if row["relation"] not in MappingRelation.values:
            # Only these two: a looser standard is not recorded, so no √ is offered for it.
            errors.append(DataError(*where, "relation", f"“{row['relation']}”应为 {'、'.join(MappingRelation.values)} 之一。"))
        if row["source_set"] and row["source_set"] == row["target_set"]:
            errors.append(DataError(*where, "target_set", "来源与对应指标须属于不同的指标体系。"))
        if len(errors) == problems:
            parsed.append(
                (line, row["source_set"], int(row["source"]), row["target_set"], int(row["target"]), row["relation"], row["basis"])
            )
    return parsed


def mapping_sync(rows, file_name):
    """Make the mappings between every pair of sets named in ``rows`` exactly those rows;
    DataFileError lists what is wrong. Run inside ``reference_load``'s transaction, after the sets."""
    codes = {code for row in rows for code in (row[1], row[3])}
    indicators = {
        (i.indicator_set.code, i.number): i for i in Indicator.objects.filter(indicator_set__code__in=codes).select_related("indicator_set")
    }
    errors, mappings, seen = [], [], {}
    for line, source_set, source, target_set, target, relation, basis in rows:
        found = {}
        for field, code, number in (("source", source_set, source), ("target", target_set, target)):
            found[field] = indicators.get((code, number))
            if found[field] is None:
                errors.append(DataError(file_name, line, field, f"指标体系 {code} 没有指标 {number}。"))
        if None in found.values():
            continue
        if seen.setdefault((source_set, source, target_set, target), line) != line:
            errors.append(DataError(file_name, line, None, f"与第 {seen[(source_set, source, target_set, target)]} 行重复。"))
            continue
        mapping = IndicatorMapping(**found, relation=relation, basis=basis)
        try:
            mapping.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.extend(DataError(file_name, line, name, "；".join(messages)) for name, messages in exc.message_dict.items())
            continue
        mappings.append(mapping)
    if errors:
        raise DataFileError(errors)
    pairs = {(row[1], row[3]) for row in rows}
    for source_set, target_set in pairs:
        IndicatorMapping.objects.filter(source__indicator_set__code=source_set, target__indicator_set__code=target_set).delete()
    IndicatorMapping.objects.bulk_create(mappings)
    return len(mappings)


def short_name(indicator_set):
    """How the offers name a set's document: 重庆市方案 for a set issued for 重庆市, 全国方案 for a
    national one."""
    return f"{indicator_set.region.name}方案" if indicator_set.region_id else "全国方案"


@dataclass(frozen=True)
class Offer:
    """A target indicator the region may tick because its mapped source is √ in ``source_period``."""

    target: Indicator
    source: Indicator
    source_period: Period
    done_month: date | None
    relation: str

    @property
    def text(self):
        return f"{short_name(self.source.indicator_set)}第{self.source.label}项已完成，可采用"

    @property
    def reason(self):
        """What the audit entry of the taken √ says: its source, by program and indicator."""
        relation = MappingRelation(self.relation).label
        return f"采用{self.source_period.program.name}第{self.source.label}项的√（{relation}）"


def offers(*, region, period, running=None):
    """The offers for ``region`` in ``period`` (the target's period), one per target indicator
    not yet √, in the target's order: a fixed number of queries, none more when no other program
    runs here in this half-year. ``running``: the half-year's periods of the programs covering the
    region, when the caller has read them (``programs.periods_beside``)."""
    if running is None:
        running = Period.objects.filter(code=period.code, program__in=programs_covering(region)).select_related("program")
    source_periods = {p.indicator_set_id: p for p in running if p.pk != period.pk}
    if not source_periods:  # no program offering anything runs here in this half-year
        return []
    mappings = list(
        IndicatorMapping.objects.filter(
            target__indicator_set=period.indicator_set_id, target__level=region.level, source__indicator_set__in=source_periods
        )
        .select_related("source__indicator_set__region", "target")
        .order_by("target__number", "source__number")
    )
    if not mappings:
        return []
    # The √ of the sources and of the targets, in one query.
    done, ticked = {}, set()
    for period_id, indicator_id, done_month in Checkmark.objects.filter(
        Q(period__in=source_periods.values(), indicator__in=[m.source_id for m in mappings])
        | Q(period=period, indicator__in=[m.target_id for m in mappings]),
        region=region,
        status=CheckmarkStatus.DONE,
    ).values_list("period_id", "indicator_id", "done_month"):
        if period_id == period.pk:
            ticked.add(indicator_id)
        else:
            done[(period_id, indicator_id)] = done_month
    found = {}
    for m in mappings:
        source_period = source_periods.get(m.source.indicator_set_id)
        if m.target_id in ticked or m.target_id in found or source_period is None or (source_period.pk, m.source_id) not in done:
            continue
        found[m.target_id] = Offer(m.target, m.source, source_period, done[(source_period.pk, m.source_id)], m.relation)
    return list(found.values())


def mapped_targets(*, indicator_set):
    """For a source set's page: each source number → the target indicators its √ is offered for,
    as ``[(target set's short name, target label), ...]``."""
    targets = {}
    mappings = IndicatorMapping.objects.filter(source__indicator_set=indicator_set).select_related(
        "source", "target__indicator_set__region"
    )
    for m in mappings:
        targets.setdefault(m.source.number, []).append((short_name(m.target.indicator_set), m.target.label))
    return targets


@transaction.atomic
def offers_take(*, user, region, period, numbers=None, channel=Channel.WEB, today=None):
    """Take the offers of ``region`` in ``period`` for the target ``numbers`` (None: all of them):
    √ with the source's done month, the note kept, each audit entry naming its source. Scope,
    role, lock and review state are checked by ``checkmarks_set``; an offer gone meanwhile is
    refused with nothing stored. Returns what ``checkmarks_set`` returns."""
    available = {o.target.number: o for o in offers(region=region, period=period)}
    chosen = list(available) if numbers is None else list(numbers)
    gone = [str(n) for n in chosen if n not in available]
    if gone:
        raise ValidationError(f"指标 {'、'.join(gone)} 没有可采用的其他方案完成情况（可能已采用或来源已修改），请刷新页面。")
    if not chosen:
        raise ValidationError("请至少选择一项要采用的指标。" if available else "没有可采用的其他方案完成情况。")
    notes = dict(
        Checkmark.objects.filter(region=region, period=period, indicator__in=[available[n].target for n in chosen]).values_list(
            "indicator__number", "note"
        )
    )
    values = {n: CheckmarkValue(CheckmarkStatus.DONE, done_month=available[n].done_month, note=notes.get(n, "")) for n in chosen}
    return checkmarks_set(
        user=user,
        region=region,
        period=period,
        values=values,
        channel=channel,
        today=today,
        reasons={n: available[n].reason for n in chosen},
    )
