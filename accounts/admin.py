from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import PermissionDenied

from . import policy
from .admin_base import ReadOnlyRestrictedAdmin, RestrictedModelAdmin
from .models import Company, OrgUnit, Region, SecurityEvent, User
from .scoping import Action

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


# What makes a user an administrator: only a superuser sees or sets it.
SUPERUSER_ONLY = ("is_staff", "is_superuser", "groups", "user_permissions")
BELONGS = ("所属", {"fields": ("role", "region", "company", "org_unit", "organisation", "phone")})


def _without(fieldsets, names):
    kept = []
    for title, options in fieldsets:
        fields = tuple(f for f in options["fields"] if f not in names)
        if fields:
            kept.append((title, {**options, "fields": fields}))
    return kept


class AdminSetPasswordForm(AdminPasswordChangeForm):
    """A password an administrator resets is changed by its owner at the next login."""

    def save(self, commit=True):
        self.user.must_change_password = True
        return super().save(commit)


@admin.register(User)
class UserAdmin(RestrictedModelAdmin, DjangoUserAdmin):
    """A superuser manages every user; a province administrator the county, city and supply-company
    users of its province (accounts.policy), never itself, another administrator or anyone above."""

    list_display = ("username", "last_name", "first_name", "role", "region", "company", "organisation", "is_active")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "organisation", "region__name", "region__code")
    raw_id_fields = ("region", "company", "org_unit")
    fieldsets = DjangoUserAdmin.fieldsets + (BELONGS, ("密码策略", {"fields": ("must_change_password", "password_changed_at")}))
    readonly_fields = ("password_changed_at",)
    change_password_form = AdminSetPasswordForm
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        BELONGS,
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if request.user.is_superuser else _without(fieldsets, SUPERUSER_ONLY)

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return filters if request.user.is_superuser else tuple(f for f in filters if f not in SUPERUSER_ONLY)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":
            kwargs["choices"] = [(role.value, role.label) for role in policy.assignable_roles(request.user)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            # The form has no such fields for them; a crafted form still sets nothing of the kind.
            stored = User.objects.filter(pk=obj.pk).first() if change else None
            for name in ("is_staff", "is_superuser"):
                setattr(obj, name, getattr(stored, name) if stored else False)
        if not change:
            obj.must_change_password = True  # an administrator chose it: the owner changes it at first login
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if not request.user.is_superuser and any(name in form.cleaned_data for name in ("groups", "user_permissions")):
            raise PermissionDenied("只有超级管理员可以设置用户组和权限。")
        super().save_related(request, form, formsets, change)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyRestrictedAdmin):
    """Read-only: a superuser reads every event, a province administrator those of its province's users."""

    list_display = ("seq", "at", "kind", "username", "user", "ip", "detail")
    list_filter = ("kind",)
    search_fields = ("username", "ip", "detail")
    date_hierarchy = "at"
    readonly_fields = ("seq", "at", "kind", "username", "user", "ip", "detail", "prev_hash", "hash")


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ("name", "code", "province", "service_area")

    def clean(self):
        cleaned = super().clean()
        # The service area is written after the company, where a refusal would be a 500: asked here.
        province, area = cleaned.get("province"), cleaned.get("service_area")
        if province is not None and area is not None:
            for message in Company(province=province).service_area_errors(list(area)):
                self.add_error("service_area", message)
        return cleaned


class OrgUnitInline(admin.TabularInline):
    model = OrgUnit
    fields = ("name", "kind", "parent")
    raw_id_fields = ("parent",)
    extra = 0


@admin.register(Company)
class CompanyAdmin(RestrictedModelAdmin):
    """A superuser manages every company; a province administrator those of its province (accounts.policy)."""

    form = CompanyForm
    list_display = ("name", "code", "province", "area_text")
    list_filter = ("province",)
    search_fields = ("name", "code")
    autocomplete_fields = ("province", "service_area")
    inlines = [OrgUnitInline]

    @admin.display(description="供电服务区域")
    def area_text(self, obj):
        return "、".join(r.name for r in obj.service_area.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("province").prefetch_related("service_area")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "service_area":
            kwargs["queryset"] = Region.objects.restrict(request.user, Action.CHANGE)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(OrgUnit)
class OrgUnitAdmin(RestrictedModelAdmin):
    list_display = ("name", "kind", "company", "parent")
    list_filter = ("kind", "company")
    search_fields = ("name", "company__name")
    raw_id_fields = ("company", "parent")
