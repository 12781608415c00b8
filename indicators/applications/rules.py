"""The rules application records are measured against: one ``ApplicationRule`` per program,
indicator (or none: a target of the program), predicate over the records' attributes and check,
read from ``fixtures/reference/application_rules.csv`` by ``load_reference`` (``rules_parse``,
``rules_sync``); and the documents the standards allow at acceptance, under the
names a company's system writes for them (``document_set``)."""

import re
from collections import defaultdict
from itertools import combinations

from django.core.exceptions import ValidationError

from utilities.csvdata import DataError, DataFileError, read_rows

from ..models import (
    ApplicationRule,
    Indicator,
    Program,
    RuleMeasure,
    RuleStatistic,
    Stage,
)
from . import predicate

# --- documents asked for at acceptance -----------------------------------------------------------

ID_DOCUMENT = "用电人有效身份证件"
PROPERTY_DOCUMENT = "用电地址物权证件"
APPROVAL_DOCUMENT = "用电工程项目批准文件"
# The names the standards use (37号文 附件2-2 指标13、14; 渝经信电力〔2021〕14号 附件2) and the ones
# a company's system writes for the same paper. Any other name is an extra document.
DOCUMENT_NAMES = {
    ID_DOCUMENT: ("有效身份证件", "身份证件", "身份证", "居民身份证", "用电人身份证件", "营业执照"),
    PROPERTY_DOCUMENT: ("用电地址权证", "物权证件", "用电地址物权证明", "产权证明", "房产证", "不动产权证书", "不动产权证"),
    APPROVAL_DOCUMENT: ("项目批准文件",),
}
_CANONICAL = {alias: name for name, aliases in DOCUMENT_NAMES.items() for alias in (name, *aliases)}
_DOCUMENT_SEPARATORS = re.compile(r"[、，,；;/／\s]+")
_COPY_SUFFIX = re.compile(r"(?:复印件|原件|扫描件)$")


def document_set(text):
    """The documents written in ``text`` as canonical names, deduplicated, sorted, joined with “、”."""
    names = {_COPY_SUFFIX.sub("", part) for part in _DOCUMENT_SEPARATORS.split(text or "") if part}
    return "、".join(sorted({_CANONICAL.get(name, name) for name in names if name}))


def allowed_sets(rule):
    """Every document_set value that asks for nothing beyond the rule's documents."""
    names = sorted(set(rule.document_list))
    return ["、".join(subset) for size in range(1, len(names) + 1) for subset in combinations(names, size)]


# --- the rules: fixture rows and loading ---------------------------------------------------------

RULE_COLUMNS = (
    "program",
    "indicator",
    "applies_to",
    "measure",
    "statistic",
    "stages",
    "limit",
    "documents",
    "force_majeure",
    "source",
    "note",
)


def rules_parse(path, errors):
    """The rows of the rules fixture as ``(line, program code, indicator number or None, fields)``;
    problems go to ``errors`` (DataError, located by file, line and field)."""
    _header, rows = read_rows(path, RULE_COLUMNS)
    parsed = []
    for line, row in rows:
        where = (path.name, line)
        problems = len(errors)
        for name, choices in (("measure", RuleMeasure), ("statistic", RuleStatistic)):
            if row[name] not in choices.values:
                errors.append(DataError(*where, name, f"“{row[name]}”应为 {'、'.join(choices.values)} 之一。"))
        try:
            predicate.parse(row["applies_to"])
        except ValueError as exc:
            errors.append(DataError(*where, "applies_to", f"{exc}。"))
        if any(s not in Stage.values for s in row["stages"].split("+") if row["stages"]):
            errors.append(DataError(*where, "stages", f"“{row['stages']}”中有未知环节：应为 {'、'.join(Stage.values)}，以“+”相连。"))
        unknown = [d for d in row["documents"].split("、") if d and d not in DOCUMENT_NAMES]
        if unknown:
            errors.append(DataError(*where, "documents", f"资料须写规范名称（{'、'.join(DOCUMENT_NAMES)}），“{'、'.join(unknown)}”不是。"))
        if row["force_majeure"] not in ("0", "1"):
            errors.append(DataError(*where, "force_majeure", f"“{row['force_majeure']}”应为 0 或 1。"))
        for name in ("program", "source", "note"):
            if not row[name]:
                errors.append(DataError(*where, name, "不能为空。"))
        if row["indicator"] and not row["indicator"].isdigit():
            errors.append(DataError(*where, "indicator", f"“{row['indicator']}”不是指标序号。"))
        if row["limit"] and not row["limit"].isdigit():
            errors.append(DataError(*where, "limit", f"“{row['limit']}”不是非负整数。"))
        if len(errors) > problems:
            continue
        parsed.append(
            (
                line,
                row["program"],
                int(row["indicator"]) if row["indicator"] else None,
                dict(
                    applies_to=row["applies_to"],
                    measure=row["measure"],
                    statistic=row["statistic"],
                    stages=row["stages"],
                    limit=int(row["limit"]) if row["limit"] else None,
                    documents=row["documents"],
                    excludes_force_majeure=row["force_majeure"] == "1",
                    source=row["source"],
                    note=row["note"],
                ),
            )
        )
    return parsed


def rules_sync(rows, file_name):
    """Make the rules of every program named in ``rows`` exactly those rows; DataFileError lists
    what is wrong. Returns the number of rules. Run inside ``reference_load``'s transaction, after
    the programs."""
    codes = {code for _line, code, _number, _fields in rows}
    programs = {p.code: p for p in Program.objects.filter(code__in=codes)}
    indicators = {(i.indicator_set_id, i.number): i for i in Indicator.objects.filter(indicator_set__programs__code__in=codes)}
    errors, rules, seen = [], [], {}
    for line, code, number, fields in rows:
        program = programs.get(code)
        if program is None:
            errors.append(DataError(file_name, line, "program", f"方案 {code} 不存在：须在 programs.csv 中列出。"))
            continue
        indicator = None
        if number is not None:
            indicator = indicators.get((program.indicator_set_id, number))
            if indicator is None or indicator.level != "county":
                errors.append(DataError(file_name, line, "indicator", f"方案 {code} 的指标体系没有县级指标 {number}。"))
                continue
        key = (code, number, predicate.parse(fields["applies_to"]), fields["measure"], fields["statistic"], fields["stages"])
        if seen.setdefault(key, line) != line:
            errors.append(
                DataError(file_name, line, None, f"与第 {seen[key]} 行重复：同一方案、指标、适用记录、考核内容、口径和环节只能有一条规则。")
            )
            continue
        rule = ApplicationRule(program=program, indicator=indicator, **fields)
        try:
            rule.full_clean(exclude=["program", "indicator"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.extend(DataError(file_name, line, name, "；".join(messages)) for name, messages in exc.message_dict.items())
            continue
        rules.append(rule)
    if errors:
        raise DataFileError(errors)
    ApplicationRule.objects.filter(program__in=programs.values()).delete()
    ApplicationRule.objects.bulk_create(rules)
    return len(rules)


def rules_by_indicator(indicator_set_id):
    """{Indicator: [ApplicationRule]} of a set, in indicator order (one query)."""
    rules = defaultdict(list)
    for rule in (
        ApplicationRule.objects.filter(indicator__indicator_set_id=indicator_set_id)
        .select_related("indicator")
        .order_by("indicator__number", "pk")
    ):
        rules[rule.indicator].append(rule)
    return dict(rules)
