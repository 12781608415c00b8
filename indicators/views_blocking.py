"""未完成报送情况 (待办督促): a province's counties still holding a period up, and whom to chase."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from .blocking import blocking
from .views import _period_and_region, _reviewer


@login_required
def blocking_view(request, code, region_code):
    """Province, national and regulator readers see the whole province; a city reviewer, their city's counties."""
    _reviewer(request)
    period, province = _period_and_region(request, code, region_code, {"province"})
    data = blocking(province=province, period=period, today=timezone.localdate(), user=request.user)
    return render(
        request,
        "indicators/blocking.html",
        {
            "period": period,
            "province": province,
            "data": data,
            # Whoever may not read the province's page (a city reviewer) sees only their city's counties.
            "city_only": not request.user.has_perm("indicators.view_province_page", province),
        },
    )
