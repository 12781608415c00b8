"""Sign-off with named exceptions (issue 8 §4): reads.

A city's acceptance or a province's confirmation may go without some counties, each named with its
reason (SignoffException, written by indicators.review.city_accept / period_confirm). These
functions say which counties are still open, which were named, whether a region is locked, and
what changed after a sign-off. Each runs a fixed number of queries whatever the number of counties.
"""

from collections import defaultdict
from dataclasses import dataclass
from os.path import commonprefix

from django.db.models import Count, Exists, F, OuterRef, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber, Substr

from accounts.models import Region
from accounts.scoping import Action

from .models import AuditAction, AuditEntry, SignoffException, Submission, SubmissionState

# The state in which each level's data counts as signed off, and the word for it.
SIGNED = {
    "county": (SubmissionState.APPROVED, "审核"),
    "city": (SubmissionState.ACCEPTED, "接收"),
    "province": (SubmissionState.CONFIRMED, "确认"),
}
DEPTH = {"province": 1, "city": 2, "county": 3}
CODE_WIDTH = 7  # "510104/": a code and its slash in Region.path
CHANGE_ACTIONS = (AuditAction.SET, AuditAction.EVIDENCE)
CHANGES_LISTED = 20  # the latest changes listed per signed region; the count covers them all


def province_locks(*, region, period):
    """The province's confirmation that locks ``region``'s data of ``period``: a queryset of at most
    one Submission, to read alone (``province_lock``) or beside other rows (the sheet).

    A county named an exception of the sign-off (of its city's acceptance or of the province's
    confirmation) was not signed off: the confirmation does not lock it.
    """
    province_code = region.code if region.level == "province" else region.ancestor_codes()[0]
    lock = Submission.objects.filter(region__code=province_code, period=period, state=SubmissionState.CONFIRMED)
    if region.level == "county":
        lock = lock.exclude(Exists(SignoffException.objects.filter(county=region, submission__period=period)))
    return lock


def province_lock(*, region, period):
    """The confirmation that locks ``region``'s data of ``period``, if any. One query."""
    return province_locks(region=region, period=period).select_related("region", "state_changed_by").first()


def not_approved(counties, period):
    """The counties of ``counties`` (a Region queryset) not approved in ``period``, each with
    ``state`` (their Submission's, 填报中 when they have none) and ``reason`` (its return reason)."""
    submissions = Submission.objects.filter(region=OuterRef("pk"), period=period)
    return (
        counties.filter(level="county")
        .exclude(Exists(submissions.filter(state=SubmissionState.APPROVED)))
        .annotate(
            state=Coalesce(Subquery(submissions.values("state")[:1]), Value(SubmissionState.DRAFT.value)),
            reason=Coalesce(Subquery(submissions.values("reason")[:1]), Value("")),
        )
    )


def open_counties(*, within, period):
    """The counties under ``within`` not approved in ``period``, in code order (``not_approved``). One query."""
    return not_approved(Region.objects.filter(path__startswith=within.path), period).select_related("parent").order_by("path")


def exceptions_within(*, province, period):
    """The exceptions named by ``province``'s confirmation and its cities' acceptances of
    ``period``, in county code order, with their county, city and sign-off. One query."""
    return (
        SignoffException.objects.filter(submission__period=period, submission__region__path__startswith=province.path)
        .select_related("county__parent", "submission__region", "named_by")
        .order_by("county__path")
    )


def county_exception(*, county, period):
    """The exception naming ``county`` in ``period``, or None. One query."""
    return SignoffException.objects.filter(county=county, submission__period=period).select_related("submission__region").first()


@dataclass
class Changes:
    """What changed in a signed region's data after its sign-off."""

    verb: str  # 审核, 接收, 确认
    count: int
    entries: list  # the latest CHANGES_LISTED AuditEntry rows, newest first


def changes_since_signoff(*, user, regions, period):
    """For each signed region of ``regions`` (all of one level: approved counties, accepted cities,
    a confirmed province), the changes of data (填报, 上传佐证) in its subtree recorded after it was
    signed off, as far as ``user`` may see them: ``{region id: Changes}``. One query.

    Each audit row is matched to its signed region by the code at that level of its region's path,
    and compared with that region's Submission.state_changed_at; a window counts them per region.
    """
    regions = list(regions)
    if not regions:
        return {}
    level = regions[0].level
    state, verb = SIGNED[level]
    prefix = commonprefix([r.path for r in regions])
    signed_code = Substr("region__path", CODE_WIDTH * (DEPTH[level] - 1) + 1, CODE_WIDTH - 1)
    signed = Submission.objects.filter(region__code=OuterRef("signed_code"), period=period, state=state)
    per_region = {"partition_by": [F("signed_code")]}
    rows = (
        AuditEntry.objects.restrict(user, Action.VIEW)
        .filter(period=period, action__in=CHANGE_ACTIONS, region__path__startswith=prefix[: prefix.rfind("/") + 1])
        .annotate(signed_code=signed_code)
        .filter(signed_code__in=[r.code for r in regions])
        .annotate(signed_at=Subquery(signed.values("state_changed_at")[:1]))
        .filter(at__gt=F("signed_at"))
        .annotate(
            total=Window(Count("pk"), **per_region),
            rank=Window(RowNumber(), order_by=[F("at").desc(), F("pk").desc()], **per_region),
        )
        .filter(rank__lte=CHANGES_LISTED)
        .select_related("user", "region", "indicator")
        .order_by("signed_code", "-at", "-pk")
    )
    by_code = {}
    for entry in rows:
        by_code.setdefault(entry.signed_code, Changes(verb, entry.total, [])).entries.append(entry)
    return {r.pk: by_code[r.code] for r in regions if r.code in by_code}


def named_counties(*, user, named):
    """``named`` ({county code: reason}, as a form or an API body gives it) as ``{county Region:
    reason}``, and the codes that name no county ``user`` may view, as errors keyed by code. One query."""
    counties = {c.code: c for c in Region.objects.restrict(user, Action.VIEW).filter(level="county", code__in=list(named))}
    errors = {code: [f"没有代码为“{code}”的县，或该县不在您的管辖范围内。"] for code in named if code not in counties}
    return {counties[code]: reason for code, reason in named.items() if code in counties}, errors


def province_signoff(*, user, province, period, cities):
    """What the province page shows of the sign-offs. ``cities`` are city_overview's rows; each gets
    ``open`` (its counties not approved), ``exceptions`` (those its acceptance named) and ``changes``
    (since its acceptance). Returns the province's: the counties its confirmation would have to name
    (those not approved in cities not accepted), its exceptions and the changes since. Four queries."""
    counties, named = defaultdict(list), defaultdict(list)
    for county in open_counties(within=province, period=period):
        county.state_label = SubmissionState(county.state).label
        counties[county.parent_id].append(county)
    for exception in exceptions_within(province=province, period=period):
        named[exception.submission.region_id].append(exception)
    changes = changes_since_signoff(user=user, regions=[row["city"] for row in cities], period=period)
    for row in cities:
        pk = row["city"].pk
        row.update(open=counties[pk], exceptions=named[pk], changes=changes.get(pk))
    return {
        "open": [county for row in cities if row["submission"].state != SubmissionState.ACCEPTED for county in row["open"]],
        "exceptions": named[province.pk],
        "changes": changes_since_signoff(user=user, regions=[province], period=period).get(province.pk),
    }
