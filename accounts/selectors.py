from django.db.models import Count
from django.urls import reverse

from ledger.models import Ledger
from indicators.models import IndicatorSet
from indicators.selectors import current_period

from .scoping import Action


def work_link(*, user, period):
    """Where a user's own work for the current period is, by role."""
    if period is None or user.region is None:
        return None
    region = user.region
    if user.role == "county":
        return reverse("indicators:sheet", args=[period.code, region.code]), f"填报{region.name}{period.label}指标"
    if user.role == "city":
        return reverse("indicators:review", args=[period.code, region.code]), f"审核{region.name}各县{period.label}数据"
    if user.role == "province":
        return reverse("indicators:province", args=[period.code, region.code]), f"{region.name}{period.label}填报与确认"
    if user.role == "supply_company":
        return reverse("reporting:benefits"), f"填报{region.name}“三零”“三省”服务效益"
    return None


def home_overview(*, user):
    """What a user's home page lists: their work, the ledgers and indicator sets in their scope."""
    ledgers = Ledger.objects.restrict(user, Action.VIEW).select_related("region").annotate(item_count=Count("items"))
    indicator_sets = (
        IndicatorSet.objects.restrict(user, Action.VIEW).select_related("region").annotate(indicator_count=Count("indicators"))
    )
    period = current_period()
    return {"ledgers": ledgers, "indicator_sets": indicator_sets, "period": period, "work": work_link(user=user, period=period)}
