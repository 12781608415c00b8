"""The admin goes through the same region scoping as every other entry point."""
from django.contrib import admin

from accounts.scoping import Action, ensure_in_scope


class RestrictedModelAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, Action.VIEW)

    def _in_scope(self, request, obj, action):
        return obj is None or type(obj)._default_manager.restrict(request.user, action).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj, Action.VIEW)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj, Action.CHANGE)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj, Action.CHANGE)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related._default_manager, "restrict") and "queryset" not in kwargs:
            kwargs["queryset"] = related._default_manager.restrict(request.user, Action.CHANGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The admin wraps this in a transaction: re-check after the save, so an object moved
        # out of the user's scope is rolled back rather than stored.
        super().save_model(request, obj, form, change)
        ensure_in_scope(request.user, obj, Action.CHANGE)


class ReadOnlyRestrictedAdmin(RestrictedModelAdmin):
    """Data written only through the services (which validate, lock and audit): the admin shows it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
