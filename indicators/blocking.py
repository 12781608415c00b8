"""Who is holding a province's period up (issue 8 §5): the counties still missing something, what
they miss, whom to chase and how many days are left.

The one definition of "still missing something", read by the 未完成报送情况 page and by the
deadline reminders (indicators.reminders). A county holds its province up while its Submission
is 填报中 / 已退回 (the county is to act) or 已上报 (its city's reviewers are to act); a county of a
province that has confirmed the period holds nothing up unless it was named as a SignoffException
of that confirmation (or of its city's acceptance). Every read here runs a fixed number of queries
whatever the number of counties.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Substr

from accounts import policy
from accounts.models import NotificationLevel, Region, User
from accounts.scoping import Action

from .models import Checkmark, Indicator, SignoffException, Submission, SubmissionState, month_label
from .signoff import not_approved

# The county states that hold a province up, most urgent first: sent back, never submitted, and
# submitted but waiting for the city's review.
HOLDING_STATES = (SubmissionState.RETURNED, SubmissionState.DRAFT, SubmissionState.SUBMITTED)


@dataclass(frozen=True)
class Blocker:
    """One thing that stops a region's submission: an indicator not filled (``month`` None), or
    one whose expected month has passed (``month``: that month)."""

    indicator: Indicator
    month: object = None

    @property
    def passed(self):
        return self.month is not None

    @property
    def text(self):
        return f"{self.indicator.label}（{month_label(self.month)}）" if self.passed else self.indicator.label


def blockers(indicators, marks, today):
    """Everything that stops a region's submission, in indicator order.

    ``indicators``: the region level's indicators, in order; ``marks``: the region's Checkmarks by
    indicator pk. Encouraging (鼓励性) indicators may stay blank. The sheet's summary lists exactly
    these, so it names every blocker the submit refuses for.
    """
    found = []
    for indicator in indicators:
        if indicator.encouraging:
            continue
        mark = marks.get(indicator.pk)
        if mark is None or not mark.complete:
            found.append(Blocker(indicator))
        elif mark.overdue(today):
            found.append(Blocker(indicator, mark.expected_month))
    return found


def entries_missing(indicators, marks, today):
    """``blockers`` as labels: ``(missing, passed)``, the passed ones with their month."""
    found = blockers(indicators, marks, today)
    return [b.text for b in found if not b.passed], [b.text for b in found if b.passed]


def region_missing(*, region, period, today):
    """``entries_missing`` of one region (two queries)."""
    indicators = Indicator.objects.filter(indicator_set=period.indicator_set_id, level=region.level).order_by("number")
    marks = {c.indicator_id: c for c in Checkmark.objects.filter(region=region, period=period).select_related("indicator")}
    return entries_missing(indicators, marks, today)


def deadline_level(days_left, *, days_before=None):
    """The colour of a number of days left: 红色 on the deadline day and after it, 黄色 from
    REMINDER_YELLOW_DAYS days before, 蓝色 from ``days_before`` (REMINDER_DAYS_BEFORE); 提示 earlier."""
    days_before = settings.REMINDER_DAYS_BEFORE if days_before is None else days_before
    if days_left <= 0:
        return NotificationLevel.RED
    if days_left <= settings.REMINDER_YELLOW_DAYS:
        return NotificationLevel.YELLOW
    if days_left <= days_before:
        return NotificationLevel.BLUE
    return NotificationLevel.INFO


def days_label(days_left):
    if days_left > 0:
        return f"还有{days_left}天"
    return "今天截止" if days_left == 0 else f"已逾期{-days_left}天"


@dataclass
class Holdup:
    """One county holding its province's period up."""

    county: Region  # with its city as ``parent``
    state: str
    reason: str  # the city's return reason, when returned
    exception: str  # why the sign-off was made without it, when it was
    missing: list
    passed: list
    days_left: int
    level: str
    county_people: list = field(default_factory=list)
    city_people: list = field(default_factory=list)

    @property
    def city(self):
        return self.county.parent

    @property
    def state_label(self):
        return SubmissionState(self.state).label

    @property
    def county_to_act(self):
        """True when the county has to fill or submit; False when its city has to review."""
        return self.state != SubmissionState.SUBMITTED

    @property
    def chase(self):
        return self.county_people if self.county_to_act else self.city_people

    @property
    def days_label(self):
        return days_label(self.days_left)

    def urgency(self):
        return (self.days_left, HOLDING_STATES.index(self.state), -len(self.missing) - len(self.passed), self.county.code)


def _holding(counties, period):
    """The counties of ``counties`` holding ``period`` up: not approved (``signoff.not_approved``, with
    their state and return reason), outside a confirmed province unless named an exception."""
    # A region's path starts with its province's code: "510000/510100/510104/".
    confirmed = Submission.objects.filter(period=period, state=SubmissionState.CONFIRMED, region__code=Substr(OuterRef("path"), 1, 6))
    # Exceptions go with their sign-off (removed when it is undone): any left in the period still stand.
    exception = SignoffException.objects.filter(county=OuterRef("pk"), submission__period=period)
    return (
        not_approved(counties, period)
        .annotate(exception=Coalesce(Subquery(exception.values("reason")[:1]), Value("")))
        .exclude(Exists(confirmed) & ~Exists(exception))
    )


def holdups(*, counties, period, today, days_before=None):
    """Every county of ``counties`` (a Region queryset) holding ``period`` up, most urgent first,
    with what it misses and the active people of the county and of its city (four queries)."""
    holding = _holding(counties, period)
    rows = list(holding.select_related("parent").order_by("code"))
    if not rows:
        return []
    indicators = list(Indicator.objects.filter(indicator_set=period.indicator_set_id, level="county").order_by("number"))
    by_pk = {i.pk: i for i in indicators}
    marks = defaultdict(dict)
    checkmarks = Checkmark.objects.filter(period=period, indicator__in=by_pk, region__in=holding.values("pk")).only(
        "region_id", "indicator_id", "status", "done_month", "expected_month"
    )
    for mark in checkmarks:
        mark.indicator = by_pk[mark.indicator_id]  # read above: no query per check-mark
        marks[mark.region_id][mark.indicator_id] = mark
    people = defaultdict(list)
    for person in (
        User.objects.people()
        .filter(
            policy.county_fillers_q(region__in=holding.values("pk")) | policy.county_reviewers_q(region__in=holding.values("parent_id"))
        )
        .only("username", "first_name", "last_name", "email", "phone", "role", "region")
        .order_by("username")
    ):
        people[person.region_id].append(person)
    days_left = (period.deadline - today).days
    level = deadline_level(days_left, days_before=days_before)
    result = []
    for county in rows:
        missing, passed = entries_missing(indicators, marks[county.pk], today)
        result.append(
            Holdup(
                county=county,
                state=county.state,
                reason=county.reason if county.state == SubmissionState.RETURNED else "",
                exception=county.exception,
                missing=missing,
                passed=passed,
                days_left=days_left,
                level=level,
                county_people=people[county.pk],
                city_people=people[county.parent_id],
            )
        )
    return sorted(result, key=Holdup.urgency)


@dataclass
class Blocking:
    province: Region
    period: object
    days_left: int
    level: str
    rows: list
    province_missing: list  # the province's own starred indicators not filled, and passed expected months
    province_passed: list

    @property
    def days_label(self):
        return days_label(self.days_left)

    @property
    def to_fill(self):
        return sum(row.county_to_act for row in self.rows)

    @property
    def to_review(self):
        return len(self.rows) - self.to_fill


def blocking(*, province, period, today, user=None):
    """未完成报送情况 of a province: its counties holding ``period`` up, most urgent first, and its
    own missing starred indicators. With a ``user``, only the counties in the user's scope (a city
    reviewer: their city's). Six queries, whatever the number of counties."""
    counties = Region.objects.filter(path__startswith=province.path)
    if user is not None:
        counties = counties.filter(pk__in=Region.objects.restrict(user, Action.VIEW).values("pk"))
    rows = holdups(counties=counties, period=period, today=today)
    missing, passed = region_missing(region=province, period=period, today=today)
    days_left = (period.deadline - today).days
    return Blocking(province, period, days_left, deadline_level(days_left), rows, missing, passed)
