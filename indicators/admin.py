from django.contrib import admin

from accounts.admin_base import ReadOnlyRestrictedAdmin, RestrictedModelAdmin

from .models import (
    Application,
    ApplicationBatch,
    ApplicationRule,
    AuditEntry,
    Checkmark,
    Evidence,
    Indicator,
    IndicatorSet,
    Period,
    Program,
    Submission,
)


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


@admin.register(Program)
class ProgramAdmin(RestrictedModelAdmin):
    """Programs are reference data (programs.csv, load_reference): officials read them, only a
    superuser edits them (accounts.policy)."""

    list_display = ("code", "name", "document", "indicator_set", "tables", "order")
    filter_horizontal = ("regions",)
    list_select_related = ("indicator_set",)


@admin.register(Period)
class PeriodAdmin(ReadOnlyRestrictedAdmin):
    """Periods are opened with `manage.py open_period`, which carries every region forward."""

    list_display = ("code", "label", "program", "starts", "ends", "deadline", "indicator_set")
    list_filter = ("program",)
    list_select_related = ("program", "indicator_set")


@admin.register(Checkmark)
class CheckmarkAdmin(ReadOnlyRestrictedAdmin):
    list_display = ("region", "period", "indicator", "status", "done_month", "expected_month", "updated_by", "updated_at")
    list_filter = ("period", "status", "indicator__level")
    search_fields = ("region__name", "region__code")
    list_select_related = ("region", "period", "indicator", "updated_by")


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyRestrictedAdmin):
    list_display = ("region", "period", "state", "reason", "state_changed_by", "state_changed_at")
    list_filter = ("period", "state", "region__level")
    search_fields = ("region__name", "region__code")
    list_select_related = ("region", "period", "state_changed_by")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyRestrictedAdmin):
    list_display = ("at", "user", "channel", "action", "region", "period", "indicator", "before", "after", "reason")
    list_filter = ("channel", "action", "period")
    search_fields = ("region__name", "region__code", "user__username")
    list_select_related = ("user", "region", "period", "indicator")


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyRestrictedAdmin):
    list_display = ("name", "kind", "size", "checkmark", "uploaded_by", "uploaded_at")
    list_select_related = ("checkmark__region", "checkmark__period", "checkmark__indicator", "uploaded_by")


@admin.register(ApplicationRule)
class ApplicationRuleAdmin(ReadOnlyRestrictedAdmin):
    """Rules are data of the programs, loaded with `manage.py load_reference`."""

    list_display = (
        "program",
        "indicator",
        "applies_to",
        "measure",
        "statistic",
        "stages",
        "limit",
        "documents",
        "excludes_force_majeure",
        "source",
    )
    list_filter = ("program", "measure", "statistic")
    list_select_related = ("program", "indicator__indicator_set")


@admin.register(ApplicationBatch)
class ApplicationBatchAdmin(ReadOnlyRestrictedAdmin):
    # Who, when, for which county and how it went are the batch's Job's (utilities.models.Job).
    list_display = ("region", "period", "file_name", "row_count", "state", "progress", "created_by", "created_at")
    list_filter = ("period", "job__state")
    search_fields = ("job__region__name", "job__region__code", "file_name")
    list_select_related = ("job__region", "job__created_by", "period")


@admin.register(Application)
class ApplicationAdmin(ReadOnlyRestrictedAdmin):
    list_display = (
        "number",
        "region",
        "period",
        "customer_class",
        "capacity_kw",
        "acceptance_start",
        "connection_end",
        "days_elapsed",
        "stage_count",
        "force_majeure",
    )
    list_filter = ("period", "customer_class", "small_micro", "three_zero", "force_majeure")
    search_fields = ("number", "region__name", "region__code")
    list_select_related = ("region", "period")
