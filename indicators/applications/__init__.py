"""Application records (用电报装) and the indicators they prove (domain.md §8, issue 8 §1–§2).

A power-supply company's export of a county's applications — the customer's attributes (class,
voltage, single or dual source, capacity, urban or rural, 小微企业, “三零”), the dates each stage
started and ended, the number of stages, the documents asked for at acceptance, the customer's
investment, force majeure — proves or disproves the indicators that speak of *every* application
(national 3–10, 13, 14, 22–24, 34, 35; Chongqing's equivalents) and the programs' own targets
(averages and longest times too). The package, by responsibility (docs/applications.md):

- ``predicate``: which records a rule applies to, one parser and one evaluator (SQL and Python);
- ``rules``: the rules, read from ``fixtures/reference/application_rules.csv`` by ``load_reference``
  (``rules_parse``, ``rules_sync``), one ``ApplicationRule`` per program, indicator (or target),
  predicate and check; the documents asked for at acceptance (``document_set``);
- ``layout``: the file layout, one row per application under Chinese headers (``COLUMNS``; the old
  layout with one customer type, ``LEGACY_COLUMNS``, still reads), and the template ``records_template``;
- ``reading``: a file read from .xlsx or CSV with located messages (``read_records``);
- ``measure``: working days stored on each record when it is imported (``measure``), so a rule is a
  SQL condition on stored numbers (``meets_q``) and, for the listing, the same comparison in Python
  (``breach``);
- ``services``: ``applications_upload`` (a small file is read at once, a large one queued for a
  Celery worker) and ``applications_batch_run`` (what the worker runs); a batch read without error
  replaces the county's records of the period, all or nothing;
- ``evaluation``: ``tallies`` (per county and indicator: how many applications count and how many
  fail, one grouped query), ``evaluate`` (the same for one county with every failing application
  and what it overran), ``county_evaluation`` and ``conflicts`` (check-marks the records contradict).

The names below are what the rest of the portal imports from ``indicators.applications``.
"""

from .evaluation import (
    MAX_FAILING_LOADED,
    MAX_LISTED,
    PHRASES,
    Conflict,
    IndicatorResult,
    Tally,
    TargetResult,
    conflicts,
    county_evaluation,
    evaluate,
    rule_sets_for,
    tallies,
    targets,
)
from .layout import (
    COLUMN_BY_HEADER,
    COLUMNS,
    DOCUMENT,
    INLINE_ROWS,
    LEGACY_COLUMNS,
    LEGACY_TYPES,
    NOTES_SHEET,
    SHEET,
    Column,
    records_template,
)
from .measure import Breach, applies, applies_q, breach, measure, meets_q
from .reading import (
    HEADER_SEARCH_ROWS,
    MAX_ERRORS,
    MAX_UNCOMPRESSED,
    PROGRESS_EVERY,
    READERS,
    read_records,
)
from .rules import (
    APPROVAL_DOCUMENT,
    DOCUMENT_NAMES,
    ID_DOCUMENT,
    PROPERTY_DOCUMENT,
    RULE_COLUMNS,
    allowed_sets,
    document_set,
    rules_by_indicator,
    rules_parse,
    rules_sync,
)
from .services import (
    INSERT_CHUNK,
    MAX_BYTES,
    applications_batch_run,
    applications_upload,
)

__all__ = [
    "APPROVAL_DOCUMENT",
    "COLUMNS",
    "COLUMN_BY_HEADER",
    "DOCUMENT",
    "DOCUMENT_NAMES",
    "HEADER_SEARCH_ROWS",
    "ID_DOCUMENT",
    "INLINE_ROWS",
    "INSERT_CHUNK",
    "LEGACY_COLUMNS",
    "LEGACY_TYPES",
    "MAX_BYTES",
    "MAX_ERRORS",
    "MAX_FAILING_LOADED",
    "MAX_LISTED",
    "MAX_UNCOMPRESSED",
    "NOTES_SHEET",
    "PHRASES",
    "PROGRESS_EVERY",
    "PROPERTY_DOCUMENT",
    "READERS",
    "RULE_COLUMNS",
    "SHEET",
    "Breach",
    "Column",
    "Conflict",
    "IndicatorResult",
    "Tally",
    "TargetResult",
    "allowed_sets",
    "applications_batch_run",
    "applications_upload",
    "applies",
    "applies_q",
    "breach",
    "conflicts",
    "county_evaluation",
    "document_set",
    "evaluate",
    "measure",
    "meets_q",
    "read_records",
    "records_template",
    "rule_sets_for",
    "rules_by_indicator",
    "rules_parse",
    "rules_sync",
    "tallies",
    "targets",
]
