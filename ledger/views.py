from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, render

from accounts.scoping import Action

from .models import Ledger


@login_required
def ledger_list(request):
    ledgers = Ledger.objects.restrict(request.user, Action.VIEW).select_related("region").annotate(item_count=Count("items"))
    return render(request, "ledger/ledger_list.html", {"ledgers": ledgers})


@login_required
def ledger_detail(request, code):
    ledger = get_object_or_404(Ledger.objects.restrict(request.user, Action.VIEW).select_related("region"), code=code)
    return render(request, "ledger/ledger_detail.html", {"ledger": ledger, "items": ledger.items.all()})
