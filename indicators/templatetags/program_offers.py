"""``{% program_offers sheet %}``: on a sheet, the √ other programs offer for it (one click to take
them) and, on the offering program's sheet, how many of its √ wait to be taken elsewhere (issue 13 §2)."""

from django import template

from ..mapping import offers, short_name
from ..models import Period
from ..programs import programs_covering

register = template.Library()


@register.inclusion_tag("indicators/program_offers.html", takes_context=True)
def program_offers(context, sheet):
    region, period = sheet.region, sheet.period
    others = (
        Period.objects.filter(code=period.code, program__in=programs_covering(region))
        .exclude(pk=period.pk)
        .select_related("indicator_set__region")
    )
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "sheet": sheet,
        "offers": offers(region=region, period=period),
        "elsewhere": [(short_name(other.indicator_set), n) for other in others if (n := len(offers(region=region, period=other)))],
    }
