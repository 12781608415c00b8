from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from indicators.programs import PeriodNotFound
from utilities.selectors import worker_status

from .selectors import home_overview, home_period, home_periods


@login_required
def home(request):
    """待办: the user's work for the current period, or the one chosen with ``?period=``."""
    periods = home_periods()
    try:
        period = home_period(periods=periods, code=request.GET.get("period"))
    except PeriodNotFound as exc:
        raise Http404(str(exc)) from None
    context = home_overview(user=request.user, period=period, periods=periods)
    context["worker"] = worker_status()
    return render(request, "home.html", context)


@require_GET
def health(request):
    """Liveness for load balancers and docker: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
