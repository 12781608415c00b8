"""Reads for the check-mark pages: a fixed number of queries per page, whatever the region's size."""

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q
from django.utils import timezone

from accounts.models import Region

from .applications import tallies
from .blocking import Blocker, blockers
from .models import AuditEntry, Checkmark, Evidence, Indicator, Period, Program, Submission, SubmissionState
from .programs import PeriodNotFound, ProgramNotFound, period_get, periods_beside, program_codes, program_get, programs_covering
from .signoff import province_locks

# The program and period lookups live in .programs (the services use them, and this module imports
# modules that import the services); they are read from here like every other selector.
__all__ = ["PeriodNotFound", "ProgramNotFound", "period_get", "periods_beside", "program_codes", "program_get", "programs_covering"]


@dataclass
class SheetRow:
    indicator: Indicator
    checkmark: Checkmark | None
    evidence: list = field(default_factory=list)
    blocker: Blocker | None = None  # what stops the submission at this indicator, if anything
    records: object = None  # applications.Tally: what the county's application records say, if they cover it

    @property
    def records_conflict(self):
        return self.records.conflict(self.checkmark) if self.records else ""

    @property
    def missing(self):
        return self.blocker is not None and not self.blocker.passed

    @property
    def overdue(self):
        return self.blocker is not None and self.blocker.passed


@dataclass
class Sheet:
    region: Region
    period: Period
    submission: Submission
    lock: Submission | None
    groups: list

    @property
    def rows(self):
        return [row for _group, rows in self.groups for row in rows]

    @property
    def blockers(self):
        """What stops the submission, in order: the rows' blockers (``blocking.blockers``)."""
        return [row.blocker for row in self.rows if row.blocker is not None]

    @property
    def done(self):
        return sum(1 for row in self.rows if row.checkmark is not None and row.checkmark.status == "done")

    @property
    def editable_by_county(self):
        return self.lock is None and self.submission.state in (SubmissionState.DRAFT, SubmissionState.RETURNED)


def current_period(program=None):
    """The period people are working on: the latest one opened (of the national program unless
    another is given)."""
    program = program or Program.NATIONAL
    lookup = {"program": program} if isinstance(program, Program) else {"program__code": program}
    return Period.objects.filter(**lookup).order_by("-ends").first()


def submission_of(*, region, period):
    return Submission.objects.filter(region=region, period=period).select_related("updated_by", "state_changed_by").first() or Submission(
        region=region, period=period
    )


def indicators_with_marks(*, region, period):
    """The region's indicators of the period in order, and their check-marks by indicator id: one
    query (at most one check-mark per region, period and indicator)."""
    mark = FilteredRelation("checkmarks", condition=Q(checkmarks__region=region, checkmarks__period=period))
    indicators = list(
        Indicator.objects.filter(indicator_set=period.indicator_set_id, level=region.level)
        .annotate(mark=mark)
        .select_related("mark")
        .order_by("number")
    )
    marks = {}
    for indicator in indicators:
        if (found := getattr(indicator, "mark", None)) is not None:  # no check-mark: Django sets no attribute
            found.indicator = indicator
            marks[indicator.pk] = found
    return indicators, marks


def sheet(*, region, period, today=None):
    """One region's indicators of a period with their check-marks and evidence, in groups (five
    queries: the county page's budget is benchmarks/run.py's TARGET_PAGE_QUERIES)."""
    today = today or timezone.localdate()
    indicators, marks = indicators_with_marks(region=region, period=period)
    # The same function county_submit refuses with: the summary never misses what stops the submit.
    stops = {b.indicator.pk: b for b in blockers(indicators, marks, today)}
    evidence = defaultdict(list)
    for item in Evidence.objects.filter(checkmark__region=region, checkmark__period=period).select_related("checkmark"):
        evidence[item.checkmark.indicator_id].append(item)
    records = tallies(regions=[region], period=period) if region.level == "county" else {}
    rows = []
    for indicator in indicators:
        mark = marks.get(indicator.pk)
        rows.append(SheetRow(indicator, mark, evidence[indicator.pk], stops.get(indicator.pk), records.get((region.pk, indicator.pk))))
    groups = [(group, list(items)) for group, items in groupby(rows, key=lambda r: r.indicator.group)]
    # The region's own Submission and the confirmation locking it (the province's, maybe the same
    # row) in one query; which rows lock is province_locks' rule, asked in the same statement.
    locks = province_locks(region=region, period=period)
    own, lock = None, None
    for row in (
        Submission.objects.filter(Q(region=region, period=period) | Q(pk__in=locks.values("pk")))
        .annotate(locking=Exists(locks.filter(pk=OuterRef("pk"))))
        .select_related("region", "updated_by", "state_changed_by")
    ):
        own = row if row.region_id == region.pk else own
        lock = row if row.locking else lock
    return Sheet(region, period, own or Submission(region=region, period=period), lock, groups)


@dataclass
class MatrixRow:
    county: Region
    submission: Submission
    cells: list  # per county indicator: (display, css class, records: {"label", "conflict"} or None)
    done: int
    conflicts: int = 0  # indicators whose check-mark the county's application records contradict
    changes: object = None  # signoff.Changes: what changed since the county was approved (set by the view)


def review_matrix(*, city, period, today=None):
    """A city's counties × county indicators, with each county's review state and what their
    application records say (six queries)."""
    today = today or timezone.localdate()
    indicators = list(Indicator.objects.filter(indicator_set=period.indicator_set_id, level="county").order_by("number"))
    counties = list(Region.objects.filter(parent=city).order_by("code"))
    marks = {
        (c.region_id, c.indicator_id): c
        for c in Checkmark.objects.filter(region__parent=city, period=period, indicator__level="county").select_related("indicator")
    }
    submissions = {s.region_id: s for s in Submission.objects.filter(region__parent=city, period=period).select_related("state_changed_by")}
    records = tallies(regions=counties, period=period)
    rows = []
    for county in counties:
        cells, done, conflicts = [], 0, 0
        for indicator in indicators:
            mark = marks.get((county.pk, indicator.pk))
            tally = records.get((county.pk, indicator.pk))
            said = {"label": tally.label, "conflict": tally.conflict(mark)} if tally and tally.total else None
            conflicts += bool(said and said["conflict"])
            if mark is None or not mark.complete:
                cells.append(("", "missing", said))
            elif mark.status == "done":
                cells.append(("√", "done", said))
                done += 1
            else:
                cells.append((f"{mark.expected_month:%Y.%m}", "overdue" if mark.overdue(today) else "pending", said))
        rows.append(MatrixRow(county, submissions.get(county.pk) or Submission(region=county, period=period), cells, done, conflicts))
    return indicators, rows


def city_overview(*, province, period):
    """Per city: counties, how many approved, and the city's own state (three queries)."""
    cities = list(Region.objects.filter(parent=province).order_by("code"))
    counts = defaultdict(lambda: defaultdict(int))
    by_state = (
        Submission.objects.filter(region__parent__parent=province, period=period)
        .values_list("region__parent_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for parent_id, state, n in by_state:
        counts[parent_id][state] = n
    totals = dict(Region.objects.filter(parent__parent=province).values_list("parent_id").annotate(n=Count("id")).order_by())
    states = {s.region_id: s for s in Submission.objects.filter(region__parent=province, period=period)}
    return [
        {
            "city": city,
            "counties": totals.get(city.pk, 0),
            "approved": counts[city.pk][SubmissionState.APPROVED],
            "submitted": counts[city.pk][SubmissionState.SUBMITTED],
            "returned": counts[city.pk][SubmissionState.RETURNED],
            "submission": states.get(city.pk) or Submission(region=city, period=period),
        }
        for city in cities
    ]


def history(*, user, region, period, indicator=None):
    entries = AuditEntry.objects.restrict(user, "view").filter(region=region, period=period)
    if indicator is not None:
        entries = entries.filter(indicator=indicator)
    return entries.select_related("user", "indicator")
