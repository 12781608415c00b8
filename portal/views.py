from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from utilities.selectors import worker_status

from .selectors import home_overview


@login_required
def home(request):
    context = home_overview(user=request.user)
    context["worker"] = worker_status()
    return render(request, "home.html", context)


@require_GET
def health(request):
    """Liveness for load balancers and docker: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
