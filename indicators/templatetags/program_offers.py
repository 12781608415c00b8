"""``{% program_offers sheet running %}``: on a sheet, the √ other programs offer for it (one click to
take them) and, on the offering program's sheet, how many of its √ wait to be taken elsewhere (issue
13 §2). ``running``: the half-year's periods of the programs covering the region
(``programs.periods_beside``)."""

from django import template

from ..mapping import offers, short_name

register = template.Library()


@register.inclusion_tag("indicators/program_offers.html", takes_context=True)
def program_offers(context, sheet, running):
    region, period = sheet.region, sheet.period
    others = [p for p in running if p.pk != period.pk]
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "sheet": sheet,
        "offers": offers(region=region, period=period, running=running),
        "elsewhere": [
            (short_name(other.indicator_set), n) for other in others if (n := len(offers(region=region, period=other, running=running)))
        ],
    }
