"""``{% period_switcher period region page [periods] %}``: another period of the program a region's
page shows (page: the indicators URL name — sheet, review, province, promises, blocking…).
``periods``: the program's periods, newest first, when the view has read them already."""

from django import template

register = template.Library()


@register.inclusion_tag("indicators/_period_switcher.html")
def period_switcher(period, region, page, periods=None):
    if periods is None:
        periods = period.program.periods.order_by("-ends")
    return {"period": period, "region": region, "page": page, "periods": periods}
