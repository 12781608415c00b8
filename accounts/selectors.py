from django.db.models import Count

from ledger.models import Ledger
from indicators.models import IndicatorSet

from .scoping import Action


def home_overview(*, user):
    """What a user's home page lists: the ledgers and indicator sets in their scope."""
    ledgers = Ledger.objects.restrict(user, Action.VIEW).select_related("region").annotate(item_count=Count("items"))
    indicator_sets = (
        IndicatorSet.objects.restrict(user, Action.VIEW).select_related("region").annotate(indicator_count=Count("indicators"))
    )
    return {"ledgers": ledgers, "indicator_sets": indicator_sets}
