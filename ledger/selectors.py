"""Reads for the ledger pages: every queryset goes through ``restrict`` and each page costs a fixed
number of queries, whatever the number of items, regions and assignments."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Exists, F, IntegerField, Max, OuterRef, Prefetch, Q, Value, When
from django.shortcuts import get_object_or_404

from accounts.models import Region, RegionLevel
from accounts.scoping import Action
from indicators.models import Indicator

from . import services
from .models import Assignment, AssignmentStatus, Ledger, LedgerItem, Pressing, ProgressEvidence, ProgressUpdate

OPEN_STATES = (AssignmentStatus.NOT_STARTED, AssignmentStatus.IN_PROGRESS)
# As the overdue job (services.assignments_mark_overdue) counts “due soon”.
DUE_SOON_DAYS = 7


def allowed(check, user, obj):
    """Whether a service's permission rule lets ``user`` act on ``obj``: the pages show a form only
    then, from the one rule the service applies again on every write."""
    try:
        check(user, obj)
    except PermissionDenied:
        return False
    return True


def can_edit(user, ledger):
    return allowed(services._can_edit_ledger, user, ledger)


def can_assign_units(user, ledger):
    """Whether to offer a company's head office to give the ledger's items to its units."""
    return user.company_id is not None and allowed(services._can_assign_units, user, ledger)


# A page that only edits a ledger refuses (403) with the service's own reason.
ensure_can_edit = services._can_edit_ledger


def can_adapt(user):
    """Whether to offer “制定本地台账”: as ``ledger_adapt`` allows, for the user's own region."""
    return user.region is not None and user.has_perm("ledger.adapt", user.region)


def ledgers_for(user):
    return Ledger.objects.restrict(user, Action.VIEW).select_related("region").annotate(item_count=Count("items"))


def ledger_for(*, user, code):
    return get_object_or_404(Ledger.objects.restrict(user, Action.VIEW).select_related("region"), code=code)


def item_for(*, user, ledger, number):
    return get_object_or_404(LedgerItem.objects.restrict(user, Action.VIEW).select_related("ledger"), ledger=ledger, number=number)


def overdue_q(today):
    """Late: marked 逾期 by the job, or open with its milestone passed (the job has not run yet)."""
    return Q(status=AssignmentStatus.OVERDUE) | Q(status__in=OPEN_STATES, milestone__lt=today)


def _late_first(assignments, today):
    """Overdue first, then by milestone (none last)."""
    late = Case(When(overdue_q(today), then=Value(0)), default=Value(1), output_field=IntegerField())
    return assignments.annotate(late_rank=late).order_by("late_rank", F("milestone").asc(nulls_last=True), "pk")


def _mark_late(assignments, today):
    for assignment in assignments:
        assignment.late = assignment.status == AssignmentStatus.OVERDUE or assignment.overdue(today)
    return assignments


def _visible_assignments(user):
    return Assignment.objects.restrict(user, Action.VIEW).select_related("region__parent", "org_unit__company")


def _updates(user):
    """Progress updates with who made them and their evidence files (one query each)."""
    evidence = ProgressEvidence.objects.restrict(user, Action.VIEW)
    return (
        ProgressUpdate.objects.restrict(user, Action.VIEW).select_related("user").prefetch_related(Prefetch("evidence", queryset=evidence))
    )


# --- the board --------------------------------------------------------------------------------


def extra_pairs(item):
    """An item's extra columns as (column, value), in the ledger's order."""
    return list(zip(item.ledger.extra_columns, item.extra_values))


@dataclass
class BoardRow:
    item: LedgerItem
    assignments: list
    late: bool

    @property
    def extra(self):
        return extra_pairs(self.item)


def _items(user, ledger):
    return LedgerItem.objects.restrict(user, Action.VIEW).filter(ledger=ledger)


def categories(*, user, ledger):
    return list(_items(user, ledger).exclude(category="").order_by("category").values_list("category", flat=True).distinct())


def ledger_board(*, user, ledger, today, category="", unit="", status="", before=None):
    """The ledger's items with the assignments the user may see, late items first (two queries).

    Unit and deadline match an item's own 责任单位 / 完成期限 or one of its assignments; a status
    only an assignment. With any of the three, an item's list keeps only the assignments that match.
    """
    items = _items(user, ledger).select_related("ledger")
    if category:
        items = items.filter(category=category)
    matching = _visible_assignments(user).order_by("region__path", "responsible_unit")
    if unit or status or before:
        # An item matches on its own fields too, so an unassigned ledger can be filtered; never on a status.
        own = Q(pk__in=[])
        if not status:
            own = Q(responsible_units__icontains=unit) if unit else Q()
            if before:
                own &= Q(due_date__lte=before)
        if unit:
            matching = matching.filter(responsible_unit__icontains=unit)
        if status:
            matching = matching.filter(overdue_q(today) if status == AssignmentStatus.OVERDUE else Q(status=status))
        if before:
            matching = matching.filter(milestone__lte=before)
        items = items.filter(own | Q(Exists(matching.filter(item=OuterRef("pk")))))
    items = items.prefetch_related(Prefetch("assignments", queryset=matching, to_attr="shown"))
    rows = []
    for item in items:
        shown = _mark_late(item.shown, today)
        rows.append(BoardRow(item, shown, any(a.late for a in shown)))
    rows.sort(key=lambda row: (not row.late, row.item.number))
    return rows


# --- an item ------------------------------------------------------------------------------------


def item_page(*, user, item, today):
    """An item's indicators, the assignments the user may see and its timeline (four queries)."""
    indicators = (
        Indicator.objects.restrict(user, Action.VIEW)
        .filter(ledger_items=item)
        .select_related("indicator_set")
        .order_by("indicator_set__code", "number")
    )
    assignments = _visible_assignments(user).filter(item=item).order_by("region__path", "responsible_unit")
    timeline = _updates(user).filter(assignment__item=item).select_related("assignment__region__parent", "assignment__org_unit__company")
    return {
        "extra": extra_pairs(item),
        "indicators": list(indicators),
        "assignments": _mark_late(list(assignments), today),
        "timeline": list(timeline),
    }


def indicator_choices(*, user, ledger):
    """The indicators that may measure the ledger's items: those of the national sets and of the
    ledger's region and the regions above it (e.g. 重庆's own 42 besides the national 38)."""
    codes = [*ledger.region.ancestor_codes(), ledger.region.code] if ledger.region else []
    return (
        Indicator.objects.restrict(user, Action.VIEW)
        .filter(Q(indicator_set__region__isnull=True) | Q(indicator_set__region__code__in=codes))
        .select_related("indicator_set")
        .order_by("indicator_set__region__code", "indicator_set__code", "number")
    )


def assignable_regions(*, user, within, levels):
    """The regions below ``within`` the user may assign to, cities followed by their counties."""
    return (
        Region.objects.restrict(user, Action.CHANGE)
        .filter(path__startswith=within.path, level__in=levels)
        .exclude(pk=within.pk)
        .select_related("parent")
        .order_by("path")
    )


# --- an assignment ------------------------------------------------------------------------------


@dataclass
class AssignmentPage:
    assignment: Assignment
    history: list
    pressings: list
    children: list
    can_report: bool = False
    can_review: bool = False
    can_break_down: bool = False
    regions: object = field(default=None, repr=False)


def assignment_page(*, user, pk, today):
    """An assignment in the user's scope (404 otherwise), its history, 督办 and breakdown (five queries)."""
    assignment = get_object_or_404(
        Assignment.objects.restrict(user, Action.VIEW).select_related(
            "item__ledger__region", "region__parent", "org_unit__company", "updated_by"
        ),
        pk=pk,
    )
    _mark_late([assignment], today)
    history = _updates(user).filter(assignment=assignment)
    pressings = Pressing.objects.restrict(user, Action.VIEW).filter(assignment=assignment).select_related("by")
    children = _visible_assignments(user).filter(parent=assignment).order_by("region__path")
    page = AssignmentPage(
        assignment,
        list(history),
        list(pressings),
        _mark_late(list(children), today),
        can_report=allowed(services._reporter, user, assignment),
        can_review=allowed(services._reviewer, user, assignment),
        can_break_down=assignment.region.level == RegionLevel.CITY and allowed(services._breaker, user, assignment),
    )
    if page.can_break_down:
        page.regions = assignable_regions(user=user, within=assignment.region, levels=[RegionLevel.COUNTY])
    return page


# --- to-do and 督办 -------------------------------------------------------------------------------


def assignments_to_do(*, user, today):
    """The user's own region's assignments not done yet, overdue first; a company unit's user's, its unit's."""
    if user.org_unit_id is not None:
        mine = Q(org_unit=user.org_unit_id)
    elif user.region_id is not None:
        mine = Q(region=user.region_id, org_unit__isnull=True)  # a company's units' work is theirs, not the region's
    else:
        return []
    todo = _visible_assignments(user).filter(mine).exclude(status=AssignmentStatus.DONE)
    return _mark_late(list(_late_first(todo.select_related("item__ledger"), today)), today)


def assignments_to_press(*, user, today, limit=None):
    """Overdue and due-soon assignments below the user's region (a company's users: of the units
    below them), overdue first, with how often they were pressed; ``can_press`` per row from the 督办
    rule itself. At most ``limit`` rows. For the officials who look after the regions below and the
    companies that look after their units (accounts.policy), else none."""
    if not user.has_perm("ledger.view_pressing_list"):
        return []
    if user.company_id is not None:
        below = Q(org_unit__isnull=False) & ~Q(org_unit=user.org_unit_id)
    else:
        below = ~Q(region=user.region_id)
    late = (
        _visible_assignments(user)
        .select_related("item__ledger")
        .filter(status__in=[*OPEN_STATES, AssignmentStatus.OVERDUE], milestone__lte=today + timedelta(days=DUE_SOON_DAYS))
        .filter(below)
        .annotate(press_count=Count("pressings"), last_pressed=Max("pressings__at"))
    )
    rows = _mark_late(list(_late_first(late, today)[:limit]), today)
    for assignment in rows:
        assignment.can_press = user.has_perm("ledger.press", assignment)
    return rows


def evidence_for(*, user, pk):
    return get_object_or_404(ProgressEvidence.objects.restrict(user, Action.VIEW), pk=pk)


def attach_measured_by(*, user, region, indicators):
    """Set ``indicator.measured_by`` on each indicator: the items of the region's own ledgers (its
    province's, its city's, not the documents' text) that it measures, in one query."""
    codes = [*region.ancestor_codes(), region.code]
    items = (
        LedgerItem.objects.restrict(user, Action.VIEW)
        .filter(ledger__region__code__in=codes, ledger__is_reference=False, indicators__in=indicators)
        .select_related("ledger")
        .annotate(measured=F("indicators"))
        .order_by("ledger__year", "number")
    )
    by_indicator = defaultdict(list)
    for item in items:
        by_indicator[item.measured].append(item)
    for indicator in indicators:
        indicator.measured_by = by_indicator[indicator.pk]
