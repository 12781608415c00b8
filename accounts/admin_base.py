"""The admin asks the same policy and region scoping as every other entry point.

Each ``has_*_permission(request, obj)`` asks ``request.user.has_perm("<app>.<action>_<model>", obj)``,
answered by accounts.policy (``obj`` None for the change list and the add form), and every save is
asked again about the object as stored, inside the admin's transaction.
"""

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied

from .audit import admin_entry_record
from .scoping import Action, ensure_in_scope


class RestrictedModelAdmin(admin.ModelAdmin):
    def _scoped(self):
        return hasattr(self.model._default_manager, "restrict")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.restrict(request.user, Action.VIEW) if self._scoped() else queryset

    def _allowed(self, request, action, obj=None):
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename(action, self.opts)}", obj)

    def has_view_permission(self, request, obj=None):
        # As Django's: whoever may change an object may view it.
        return self._allowed(request, "view", obj) or self._allowed(request, "change", obj)

    def has_add_permission(self, request):
        return self._allowed(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, "delete", obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related._default_manager, "restrict") and "queryset" not in kwargs:
            kwargs["queryset"] = related._default_manager.restrict(request.user, Action.CHANGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def log_deletions(self, request, queryset):
        # Django saves a single LogEntry (post_save makes it a security event) but bulk-creates
        # several for "delete selected", which sends no signal: those are recorded here.
        entries = super().log_deletions(request, queryset)
        if len(entries) > 1:
            for entry in entries:
                admin_entry_record(entry)
        return entries

    def save_model(self, request, obj, form, change):
        # The admin wraps this in a transaction: re-check after the save, so an object moved out of
        # the user's scope, or into a state the policy does not let them manage, is rolled back
        # rather than stored.
        super().save_model(request, obj, form, change)
        if self._scoped():
            ensure_in_scope(request.user, obj, Action.CHANGE)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied(f"您不能保存这条{self.opts.verbose_name}。")


class ReadOnlyRestrictedAdmin(RestrictedModelAdmin):
    """Data written only through the services (which validate, lock and audit): the admin shows it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
