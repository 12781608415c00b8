from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from utilities.admin import RestrictedModelAdmin

from .models import Region, User

admin.site.site_header = "获得电力台账 管理后台"
admin.site.site_title = "获得电力台账"
admin.site.index_title = "管理"


@admin.register(Region)
class RegionAdmin(RestrictedModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    readonly_fields = ("path",)
    raw_id_fields = ("parent",)


@admin.register(User)
class UserAdmin(RestrictedModelAdmin, DjangoUserAdmin):
    list_display = ("username", "last_name", "first_name", "role", "region", "organisation", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "organisation", "region__name", "region__code")
    raw_id_fields = ("region",)
    fieldsets = DjangoUserAdmin.fieldsets + (("所属", {"fields": ("role", "region", "organisation", "phone")}),)
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (("所属", {"fields": ("role", "region", "organisation", "phone")}),)
