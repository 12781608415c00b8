"""A region named in an API path, resolved through the one scoping rule (accounts.scoping)."""

from rest_framework.exceptions import NotFound

from accounts.models import Region, RegionLevel
from accounts.scoping import Action, scope_q

OUT_OF_SCOPE = "没有代码为 {code} 的区域，或该区域不在您的管辖范围内。"


class _RegionRowsOf:
    """``model``'s scope rule applied to Region itself: the regions whose ``model`` rows a user reaches."""

    region_lookup = ""

    def __init__(self, model):
        self.visible_from_below = model.visible_from_below


def scoped_region(user, code, model, levels=None):
    """The region ``code`` if ``user`` may view ``model``'s rows of it, else 404.

    Out of scope answers like unknown (404), so the API never tells what lies outside a client's
    region; a region in view that the user may not change is refused later, by the service (403).
    ``levels`` limits the levels the endpoint serves: another level is a 404 as well.
    """
    region = Region.objects.filter(scope_q(user, Action.VIEW, _RegionRowsOf(model)), code=code).first()
    if region is None:
        raise NotFound(OUT_OF_SCOPE.format(code=code))
    if levels and region.level not in levels:
        wanted = "、".join(RegionLevel(level).label for level in levels)
        raise NotFound(f"{region.name}是{region.get_level_display()}级区域；此接口只适用于{wanted}级区域。")
    return region
