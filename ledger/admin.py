from django.contrib import admin

from accounts.admin_base import RestrictedModelAdmin

from .models import Ledger, LedgerItem


@admin.register(Ledger)
class LedgerAdmin(RestrictedModelAdmin):
    list_display = ("code", "name", "document", "region", "year")
    list_filter = ("year",)


@admin.register(LedgerItem)
class LedgerItemAdmin(RestrictedModelAdmin):
    list_display = ("ledger", "number", "category", "task", "responsible_units", "due_text", "due_date", "ongoing")
    list_filter = ("ledger", "category", "ongoing")
    search_fields = ("task", "responsible_units")
