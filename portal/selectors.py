"""What the home page (待办) shows: each user's work for a period, from every app (hence the portal).

Every part is a fixed number of queries whatever the number of regions, check-marks or users.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.models import Notification, Region, RegionLevel
from accounts.scoping import Action
from indicators.blocking import days_label, deadline_level, holdups, region_missing
from indicators.models import Checkmark, Indicator, IndicatorSet, Period, Program, Submission, SubmissionState
from indicators.programs import PeriodNotFound
from indicators.selectors import city_overview, submission_of
from ledger.selectors import assignments_to_do, assignments_to_press, ledgers_for
from reporting.models import Benefit
from utilities.models import Job, JobKind

# The home page shows the first overdue/due-soon assignments; the 督办 page lists them all.
HOME_PRESS_ROWS = 10
# The latest unread notices shown; the 通知 page lists them all.
HOME_NOTICES = 5
HOME_JOBS = 5


def home_periods():
    """The national program's periods, latest first: the first is the one people work on."""
    return list(Period.objects.filter(program__code=Program.NATIONAL).select_related("program").order_by("-ends"))


def home_period(*, periods, code=None):
    """The period chosen (``?period=``), else the current one; an unknown code raises PeriodNotFound."""
    if not code:
        return periods[0] if periods else None
    chosen = next((p for p in periods if p.code == code), None)
    if chosen is None:
        raise PeriodNotFound(f"报告期“{code}”不存在或尚未开放。")
    return chosen


def work_link(*, user, period):
    """Where a user's own work for the period is, by role."""
    if period is None or user.region is None:
        return None
    region = user.region
    if policy.is_county(user):
        return reverse("indicators:sheet", args=[period.code, region.code]), f"填报{region.name}{period.label}指标"
    if policy.is_city(user):
        return reverse("indicators:review", args=[period.code, region.code]), f"审核{region.name}各县{period.label}数据"
    if policy.is_province(user):
        return reverse("indicators:province", args=[period.code, region.code]), f"{region.name}{period.label}填报与确认"
    if policy.is_supply_company(user):
        return reverse("reporting:benefits"), f"填报{region.name}“三零”“三省”服务效益"
    return None


@dataclass
class Deadline:
    days_left: int
    level: str

    @property
    def label(self):
        return days_label(self.days_left)


def _deadline(period, today):
    days_left = (period.deadline - today).days
    if days_left < -settings.REMINDER_DAYS_AFTER:  # a half-year long closed: "已逾期1603天" would only be noise
        return ClosedDeadline(days_left, "closed")
    return Deadline(days_left, deadline_level(days_left))


class ClosedDeadline(Deadline):
    @property
    def label(self):
        return "报送已截止"


@dataclass
class Entry:
    """An indicator still stopping the sheet: its number (the sheet's ``#indicator-N``), label, why."""

    number: int
    label: str
    why: str
    link: str


@dataclass
class CountyHome:
    sheet_url: str
    submission: Submission
    done: int
    total: int
    blockers: list  # Entry: not filled, then expected months passed

    @property
    def returned(self):
        return self.submission.state == SubmissionState.RETURNED


def county_home(*, county, period, today):
    """A county's sheet for the period: its state, done / total and each blocker (three queries)."""
    sheet_url = reverse("indicators:sheet", args=[period.code, county.code]) + period.program_query
    indicators = list(Indicator.objects.filter(indicator_set=period.indicator_set_id, level=county.level).order_by("number"))
    by_pk = {i.pk: i for i in indicators}
    marks = {}
    for mark in Checkmark.objects.filter(region=county, period=period, indicator__in=by_pk):
        mark.indicator = by_pk[mark.indicator_id]  # read above: no query per check-mark
        marks[mark.indicator_id] = mark
    done, missing, passed = 0, [], []
    for indicator in indicators:
        mark = marks.get(indicator.pk)
        link = f"{sheet_url}#indicator-{indicator.number}"
        if mark is not None and mark.complete and mark.status == "done":
            done += 1
        elif indicator.encouraging:
            continue
        elif mark is None or not mark.complete:
            missing.append(Entry(indicator.number, indicator.label, "未填写", link))
        elif mark.overdue(today):
            passed.append(
                Entry(indicator.number, indicator.label, f"预计{mark.expected_month.year}年{mark.expected_month.month}月完成，已过期", link)
            )
    return CountyHome(sheet_url, submission_of(region=county, period=period), done, len(indicators), missing + passed)


@dataclass
class CityHome:
    city: Region
    review_url: str
    submission: Submission
    total: int
    to_review: list = field(default_factory=list)  # blocking.Holdup rows
    returned: list = field(default_factory=list)
    not_started: list = field(default_factory=list)

    @property
    def approved(self):
        return self.total - len(self.to_review) - len(self.returned) - len(self.not_started)


def city_home(*, city, period, today):
    """A city's counties for the period: waiting for its review, returned, not submitted (seven queries)."""
    counties = Region.objects.filter(parent=city)
    home = CityHome(
        city,
        reverse("indicators:review", args=[period.code, city.code]) + period.program_query,
        submission_of(region=city, period=period),
        counties.count(),
    )
    for row in holdups(counties=counties, period=period, today=today):
        row.sheet_url = reverse("indicators:sheet", args=[period.code, row.county.code]) + period.program_query
        {SubmissionState.SUBMITTED: home.to_review, SubmissionState.RETURNED: home.returned}.get(row.state, home.not_started).append(row)
    return home


@dataclass
class ProvinceHome:
    province: Region
    page_url: str
    blocking_url: str
    submission: Submission
    cities: list  # city_overview rows, with blocking / ready / review_url
    missing: list  # the province's own starred indicators not filled
    passed: list
    jobs: list

    @property
    def counties(self):
        return sum(row["counties"] for row in self.cities)

    @property
    def approved(self):
        return sum(row["approved"] for row in self.cities)

    @property
    def accepted(self):
        return sum(row["submission"].state == SubmissionState.ACCEPTED for row in self.cities)

    @property
    def to_accept(self):
        return [row for row in self.cities if row["ready"]]

    @property
    def blocking(self):
        return sorted((row for row in self.cities if row["blocking"]), key=lambda row: -row["blocking"])


def recent_jobs(*, region):
    """The latest compile jobs of a province (``region``), or national ones (None)."""
    return list(Job.objects.filter(kind=JobKind.REPORT, region=region)[:HOME_JOBS])


def province_home(*, province, period, today):
    """A province's cities for the period, what holds it up, what it can accept and confirm, its
    recent compile jobs (seven queries)."""
    query = period.program_query
    cities = city_overview(province=province, period=period)
    for row in cities:
        row["blocking"] = row["counties"] - row["approved"]
        row["not_started"] = row["blocking"] - row["submitted"] - row["returned"]
        row["ready"] = not row["blocking"] and row["submission"].state != SubmissionState.ACCEPTED
        row["review_url"] = reverse("indicators:review", args=[period.code, row["city"].code]) + query
    missing, passed = region_missing(region=province, period=period, today=today)
    return ProvinceHome(
        province,
        reverse("indicators:province", args=[period.code, province.code]) + query,
        reverse("indicators:blocking", args=[period.code, province.code]) + query,
        submission_of(region=province, period=period),
        cities,
        missing,
        passed,
        recent_jobs(region=province),
    )


@dataclass
class ProvinceRow:
    province: Region
    counties: int
    submitted: int  # 已上报, waiting for the city
    approved: int
    returned: int
    state: str
    page_url: str = ""

    @property
    def state_label(self):
        return SubmissionState(self.state).label

    @property
    def confirmed(self):
        return self.state == SubmissionState.CONFIRMED

    @property
    def share(self):
        return f"{self.approved * 100 / self.counties:.0f}%" if self.counties else "—"


def provinces_home(*, user, period):
    """Every province in the user's view scope, with its counties' progress and its own sign-off
    (four queries, whatever the number of provinces and counties)."""
    provinces = list(Region.objects.restrict(user, Action.VIEW).filter(level=RegionLevel.PROVINCE).order_by("code"))
    codes = [p.code for p in provinces]
    # A region's path starts with its province's code: "510000/510100/510104/".
    counties = dict(
        Region.objects.filter(level=RegionLevel.COUNTY)
        .annotate(province=Substr("path", 1, 6))
        .filter(province__in=codes)
        .values_list("province")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_state = {}
    rows = (
        Submission.objects.filter(period=period, region__level=RegionLevel.COUNTY)
        .annotate(province=Substr("region__path", 1, 6))
        .filter(province__in=codes)
        .values_list("province", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for code, state, n in rows:
        by_state[code, state] = n
    states = dict(Submission.objects.filter(period=period, region__in=provinces).values_list("region_id", "state"))
    return [
        ProvinceRow(
            p,
            counties.get(p.code, 0),
            by_state.get((p.code, SubmissionState.SUBMITTED), 0),
            by_state.get((p.code, SubmissionState.APPROVED), 0),
            by_state.get((p.code, SubmissionState.RETURNED), 0),
            states.get(p.pk, SubmissionState.DRAFT),
            reverse("indicators:province", args=[period.code, p.code]) + period.program_query,
        )
        for p in provinces
    ]


@dataclass
class AreaRow:
    region: Region
    entered: bool
    link: str


def company_home(*, user, period):
    """A supply company's service area and whether each region's 附件3 figures of the period's
    half-year are in (two queries). A full-year period asks for the second half."""
    year, half = period.year, 1 if period.kind == "half" else 2
    if user.company_id is None:
        return year, half, []
    areas = Region.objects.filter(pk__in=user.company.service_area.values("pk")).order_by("code")
    entered = set(Benefit.objects.filter(company=user.company_id, year=year, half=half).values_list("region_id", flat=True))
    base = reverse("reporting:benefits")
    return year, half, [AreaRow(r, r.pk in entered, f"{base}?year={year}&half={half}&region={r.code}") for r in areas]


def unread_notices(*, user):
    return list(Notification.objects.filter(user=user, read_at__isnull=True).order_by("-created_at", "-pk")[:HOME_NOTICES])


def home_overview(*, user, period, periods, today=None):
    """What a user's home page lists: their role's work for ``period``, their latest unread notices,
    their region's ledger to-do list, for officials the assignments to press, and the ledgers and
    indicator sets in their scope."""
    today = today or timezone.localdate()
    indicator_sets = IndicatorSet.objects.restrict(user, Action.VIEW).select_related("region").annotate(indicator_count=Count("indicators"))
    context = {
        "ledgers": ledgers_for(user),
        "indicator_sets": indicator_sets,
        "period": period,
        "periods": periods,
        "work": work_link(user=user, period=period),
        "notices": unread_notices(user=user),
        "todo": assignments_to_do(user=user, today=today),
        "can_press": user.has_perm("ledger.view_pressing_list"),
        "to_press": assignments_to_press(user=user, today=today, limit=HOME_PRESS_ROWS),
    }
    if period is None:
        return context
    context["deadline"] = _deadline(period, today)
    region = user.region
    if region is not None and policy.is_county(user):
        context["county"] = county_home(county=region, period=period, today=today)
    elif region is not None and policy.is_city(user):
        context["city"] = city_home(city=region, period=period, today=today)
    elif region is not None and policy.is_province(user):
        context["province"] = province_home(province=region, period=period, today=today)
    elif policy.is_supply_company(user):
        context["benefit_year"], context["benefit_half"], context["areas"] = company_home(user=user, period=period)
    elif policy.is_national(user) or policy.is_regulator(user):
        context["provinces"] = provinces_home(user=user, period=period)
        if policy.is_national(user):
            context["jobs"] = recent_jobs(region=None)
    return context
