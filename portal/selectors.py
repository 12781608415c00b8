"""What the home page shows: each user's work, to-do list and documents, from every app (hence the portal)."""

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.scoping import Action
from indicators.models import IndicatorSet
from indicators.selectors import current_period
from ledger.selectors import assignments_to_do, assignments_to_press, ledgers_for


def work_link(*, user, period):
    """Where a user's own work for the current period is, by role."""
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


# The home page shows the first overdue/due-soon assignments; the 督办 page lists them all.
HOME_PRESS_ROWS = 10


def home_overview(*, user):
    """What a user's home page lists: their work, their region's ledger to-do list, for officials
    the assignments to press, and the ledgers and indicator sets in their scope."""
    indicator_sets = IndicatorSet.objects.restrict(user, Action.VIEW).select_related("region").annotate(indicator_count=Count("indicators"))
    period = current_period()
    today = timezone.localdate()
    return {
        "ledgers": ledgers_for(user),
        "indicator_sets": indicator_sets,
        "period": period,
        "work": work_link(user=user, period=period),
        "todo": assignments_to_do(user=user, today=today),
        "can_press": user.has_perm("ledger.view_pressing_list"),
        "to_press": assignments_to_press(user=user, today=today, limit=HOME_PRESS_ROWS),
    }
