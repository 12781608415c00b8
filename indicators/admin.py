from django.contrib import admin

from utilities.admin import RestrictedModelAdmin

from .models import Indicator, IndicatorSet


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ("number", "label", "group", "level", "encouraging", "content", "standard")


@admin.register(IndicatorSet)
class IndicatorSetAdmin(RestrictedModelAdmin):
    list_display = ("code", "name", "document", "region", "year")
    inlines = [IndicatorInline]


@admin.register(Indicator)
class IndicatorAdmin(RestrictedModelAdmin):
    list_display = ("indicator_set", "label", "group", "level", "encouraging", "content")
    list_filter = ("indicator_set", "level", "group")
    search_fields = ("content", "standard")
