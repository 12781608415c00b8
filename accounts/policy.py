"""Who may do what: the portal's one authorisation policy, on django-rules.

Every entry point asks it: services and views with ``user.has_perm(name, obj)``, the REST API with
``accounts.api.permissions.HasPerm``, the admin with ``<app>.<action>_<model>``, templates with
``perms.app.name`` or ``{% has_perm %}``. ``rules.permissions.ObjectPermissionBackend`` answers from
the rules below; the model backend answers no permission at all, so Django groups and user
permissions never widen a role. An active superuser passes every check (Django's
``User.has_perm``); the predicates themselves never treat a superuser specially.

Predicates take ``(user, obj)`` and read only attributes and model methods of ``obj`` (its
``region``, ``is_reference``, ``open_to_county``…), so accounts never imports the apps above it.
``obj`` None asks about the action in general (a menu link, the admin's change list): only the
role part applies then; every object an entry point acts on is asked about with the object.

Region scope is the one ``restrict(user, action)`` of accounts.scoping; the scope predicates here
ask it about one object.
"""

import rules
from django.db.models import Q

from .models import ROLE_LEVEL, Region, Role
from .scoping import Action, in_scope

# --- roles -----------------------------------------------------------------------------------


def _role(role):
    def check(user):
        return bool(getattr(user, "is_authenticated", False) and user.is_active and getattr(user, "role", None) == role)

    return rules.predicate(check, name=f"is_{role}")


is_county = _role(Role.COUNTY)
is_city = _role(Role.CITY)
is_province = _role(Role.PROVINCE)
is_supply_company = _role(Role.SUPPLY_COMPANY)
is_regulator = _role(Role.REGULATOR)
is_national = _role(Role.NATIONAL)

# Scope questions (accounts.scoping): who reads every region, who never writes through its scope.
reads_everywhere = is_national
read_only = is_national | is_regulator

# Who reads the completion pictures and the statistics tables.
is_report_reader = is_province | is_national | is_regulator
# Who looks after the regions below: their home page lists the assignments to press.
is_official = is_province | is_city | is_national | is_regulator
# The people of a county's sheet: who fills it and who reviews it (reminders go to them).
FILLS_COUNTY_SHEET = Role.COUNTY
REVIEWS_COUNTY_SHEET = Role.CITY
# A province administrator manages these users of its province, in the admin.
MANAGED_ROLES = (Role.COUNTY, Role.CITY, Role.SUPPLY_COMPANY)
# The role whose users belong to a power-supply company (accounts.Company) and enter 附件3.
COMPANY_ROLE = Role.SUPPLY_COMPANY
# An API token acts with its region level's role, or as a supply company of the region.
TOKEN_OTHER_ROLE = Role.SUPPLY_COMPANY


def county_fillers_q(**where):
    """The users who fill county sheets (and hear a county's reminders), as a filter on users."""
    return Q(role=FILLS_COUNTY_SHEET, **where)


def county_reviewers_q(**where):
    """The users who review county sheets, at the city."""
    return Q(role=REVIEWS_COUNTY_SHEET, **where)


def province_officials_q(**where):
    return Q(role=Role.PROVINCE, **where)


def role_has_company(role):
    """Whether users of ``role`` belong to a supply company (and must name it when created)."""
    return role == COMPANY_ROLE


def supply_company_users_q(**where):
    """The users of power-supply companies (who enter 附件3), as a filter on users."""
    return Q(role=COMPANY_ROLE, **where)


def assignable_roles(user):
    """The roles ``user`` may give a user in the admin: all for a superuser."""
    if user.is_superuser:
        return list(Role)
    return list(MANAGED_ROLES) if is_province(user) else []


def token_roles(region):
    """The identities a token of ``region`` may take: its level's role, or a supply company."""
    return [level_role(region.level), TOKEN_OTHER_ROLE]


def level_role(level):
    """The role that works at a region level (county, city or province official)."""
    return next(role for role in (Role.COUNTY, Role.CITY, Role.PROVINCE) if ROLE_LEVEL[role] == level)


# --- scope -----------------------------------------------------------------------------------


def _region_of(obj):
    return obj if isinstance(obj, Region) else obj.region


def _scoped(action, name):
    def check(user, obj):
        # A stored row is asked about as itself, through its model's own scope; an unsaved one (a
        # Submission not stored yet) as its region; data of no region (a period) is everyone's.
        if obj is None:
            return True
        scoped = hasattr(getattr(type(obj), "_default_manager", None), "restrict")
        if scoped and obj.pk is not None:
            return in_scope(user, obj, action)
        if not scoped and not isinstance(obj, Region) and not hasattr(obj, "region"):
            return True
        region = _region_of(obj)
        return region is not None and in_scope(user, region, action)

    return rules.predicate(check, name=name)


viewable = _scoped(Action.VIEW, "viewable")
changeable = _scoped(Action.CHANGE, "changeable")


@rules.predicate
def region_changeable(user, obj):
    """The region ``obj`` is about (or ``obj`` itself, a Region) is in the user's change scope."""
    if obj is None:
        return True
    region = _region_of(obj)
    return region is not None and in_scope(user, region, Action.CHANGE)


@rules.predicate
def region_viewable(user, obj):
    if obj is None:
        return True
    region = _region_of(obj)
    return region is not None and in_scope(user, region, Action.VIEW)


@rules.predicate
def own_region(user, obj):
    """``obj`` (a Region, or a row with ``region_id``) is the user's own region."""
    if obj is None:
        return user.region_id is not None
    region_id = obj.pk if isinstance(obj, Region) else obj.region_id
    return region_id is not None and region_id == user.region_id


@rules.predicate
def region_below(user, obj):
    """``obj``'s region lies strictly below the user's own region."""
    if obj is None:
        return True
    region = _region_of(obj)
    return bool(user.region_id and region is not None and region.pk != user.region_id and region.path.startswith(user.region.path))


@rules.predicate
def region_within(user, obj):
    """``obj``'s region is the user's own or lies below it."""
    if obj is None:
        return True
    region = _region_of(obj)
    return bool(user.region_id and region is not None and region.path.startswith(user.region.path))


# --- states (the models say what a state allows) ----------------------------------------------


@rules.predicate
def open_to_county(user, submission):
    """The county's data is still the county's to change (draft or returned)."""
    return submission is None or submission.open_to_county


@rules.predicate
def local_ledger(user, ledger):
    """A region's own ledger, not the documents' text."""
    return ledger is None or not ledger.is_reference


# --- company units (a company's ledger given to its departments, accounts.OrgUnit) ------------


@rules.predicate
def unit_assigned(user, obj):
    """``obj`` (an assignment) was given to a company's unit rather than to a region."""
    return obj is not None and getattr(obj, "org_unit_id", None) is not None


@rules.predicate
def own_unit(user, obj):
    """``obj`` was given to the user's own unit."""
    if obj is None:
        return user.org_unit_id is not None
    return user.org_unit_id is not None and obj.org_unit_id == user.org_unit_id


@rules.predicate
def head_office(user):
    """A company's user of no unit of its own: the company as a whole (公司本部)."""
    return user.company_id is not None and user.org_unit_id is None


@rules.predicate
def company_province_ledger(user, ledger):
    """A ledger of the province of the user's company (its own, or the province's it takes part in)."""
    return ledger is None or (user.company_id is not None and ledger.region_id == user.company.province_id)


@rules.predicate
def unit_below(user, obj):
    """``obj``'s unit is of the user's company and below the user: any of them for the head office,
    else a unit under the user's own (as a city looks after its counties)."""
    if obj is None:
        return user.company_id is not None
    unit = obj.org_unit if obj.org_unit_id else None
    if unit is None or user.company_id is None or unit.company_id != user.company_id:
        return False
    if user.org_unit_id is None:
        return True
    while unit.parent_id is not None:
        if unit.parent_id == user.org_unit_id:
            return True
        unit = unit.parent
    return False


# --- users (the admin) -----------------------------------------------------------------------


@rules.predicate
def manageable_user(user, target):
    """A user a province administrator manages: a county, city or supply-company user of its
    province — never itself, another administrator, a regulator, a national user."""
    if target is None:
        return True
    return (
        target.role in MANAGED_ROLES
        and not target.is_superuser
        and not target.is_staff
        and target.pk != user.pk
        and target.region_id is not None
        and Region.objects.restrict(user, Action.CHANGE).filter(pk=target.region_id).exists()
    )


# --- jobs (utilities.Job: a compile run or an application import) ----------------------------


@rules.predicate
def job_creator(user, job):
    return job is not None and job.created_by_id is not None and job.created_by_id == user.pk


@rules.predicate
def job_kind_report(user, job):
    return job is None or job.kind == "report"


@rules.predicate
def job_kind_applications(user, job):
    return job is None or job.kind == "applications"


@rules.predicate
def job_region_viewable(user, job):
    """The job's region is in the user's view scope; a national job (no region) only nationally."""
    if job is None:
        return True
    if job.region_id is None:
        return is_national(user)
    return in_scope(user, job.region, Action.VIEW)


# --- second factor (accounts.otp) --------------------------------------------------------------


@rules.predicate
def is_api_client(user):
    """The service user of an API token: the token is its own factor, and it never signs in."""
    return bool(getattr(user, "pk", None)) and hasattr(user, "api_token")


# Who must sign in with a TOTP code as well (等保2.0 8.1.4.1 d): those who read or administer
# whole provinces or the country; everyone else may enrol.
requires_second_factor = (is_province | is_national | is_regulator | rules.is_superuser) & ~is_api_client


def second_factor_required(user):
    """Whether ``user`` must enrol and give a TOTP code after the password (settings.OTP_REQUIRED aside)."""
    return bool(getattr(user, "is_authenticated", False)) and requires_second_factor.test(user)


# --- the permissions -------------------------------------------------------------------------

PERMISSIONS = {
    # 附件2 check-marks and the review flow (obj: the Region acted on; the fill rules a Submission)
    "indicators.fill_county_sheet": ((is_county & open_to_county) | is_province) & region_changeable,
    "indicators.fill_province_sheet": is_province & region_changeable,
    "indicators.submit": is_county & region_changeable,
    "indicators.review_county": (is_city | is_province) & region_changeable,
    "indicators.accept_city": is_province & region_changeable,
    "indicators.confirm_province": is_province & region_changeable,
    "indicators.reopen_province": is_province & region_changeable,
    # A province's page (every city's counties, states and exception reasons): the province's own
    # officials and regulator, the national level; a city reviewer reads only its counties elsewhere.
    "indicators.view_province_page": (is_province | is_regulator | is_national) & region_viewable,
    "indicators.view_review_page": (is_city | is_province | is_national | is_regulator) & region_viewable,
    "indicators.upload_applications": (is_county | is_supply_company) & region_changeable,
    # A new indicator set or ledger loaded through the portal (obj: the unsaved document, by the
    # region it is issued for): the national level for any region or the country, a province for itself.
    "indicators.load_documents": is_national | (is_province & own_region),
    # Statistics (obj: a Region, a snapshot or a job)
    "reporting.read_reports": is_report_reader & viewable,
    "reporting.read_national_reports": is_national,
    "reporting.compile_reports": (is_province | is_national) & region_viewable,
    "reporting.compile_national": is_national,
    "reporting.enter_benefits": is_supply_company & region_changeable,
    "reporting.import_attachment2": is_province & region_changeable,
    # The Getting-Electricity scorecard (obj: the Region ranked) and its SAIDI/SAIFI figures (obj:
    # the county entered for), which province and city officials enter from the reliability centre.
    # Only a region wholly in view: a city's officials would rank their counties as a province's.
    "reporting.view_scorecard": (is_province | is_city | is_national | is_regulator) & region_viewable & (is_national | region_within),
    "reporting.enter_reliability": (is_province | is_city) & region_changeable,
    # Background jobs, whatever their kind
    "utilities.view_job": job_creator
    | (job_kind_report & is_report_reader & job_region_viewable)
    | (job_kind_applications & job_region_viewable),
    # Ledgers (obj: a Region to adapt for, a Ledger, an Assignment)
    "ledger.adapt": (is_province | is_city) & own_region,
    "ledger.edit_items": (is_province | is_city) & local_ledger & own_region,
    "ledger.assign": (is_province | is_city) & local_ledger & own_region,
    "ledger.break_down": is_city & own_region,
    # A company's units (obj: an Assignment with ``org_unit``) report on their own part; the company
    # (its head office, or a unit above) reviews and presses; the region rules are for the rest.
    "ledger.assign_units": is_supply_company & head_office & local_ledger & company_province_ledger,
    "ledger.report_progress": (~unit_assigned & (((is_county | is_city | is_province) & own_region) | (is_supply_company & region_within)))
    | (is_supply_company & own_unit),
    "ledger.review_progress": (~unit_assigned & (is_province | is_city) & region_below) | (is_supply_company & unit_below),
    "ledger.press": (~unit_assigned & (is_province | is_city) & region_below) | (is_supply_company & unit_below),
    "ledger.view_pressing_list": is_official | (is_supply_company & unit_below),
    # API tokens (obj: the Region a token is for, or the token)
    "accounts.manage_tokens": is_province & changeable,
    # Webhook endpoints and their deliveries (obj: a WebhookEndpoint or WebhookDelivery): the
    # province's administrator for its province, the national administrator for the country.
    "accounts.manage_webhooks": (is_province | is_national) & viewable,
}

# The admin: a province administrator manages its province's users, indicator sets and ledgers and
# reads its province's data; regions, periods and the rows the services write stay read-only.
ADMIN_APPS = ("accounts", "indicators", "ledger")
ADMIN_PERMISSIONS = {
    "accounts.view_region": is_province & viewable,
    "accounts.view_user": is_province & viewable,
    # The security-event log, read-only; scoped to the events of the province's own users.
    "accounts.view_securityevent": is_province,
    "accounts.add_user": is_province,
    # Supply companies and their units: a province administrator those of its province.
    "accounts.view_company": is_province & viewable,
    "accounts.add_company": is_province,
    "accounts.change_company": is_province & changeable,
    "accounts.delete_company": is_province & changeable,
    "accounts.view_orgunit": is_province & viewable,
    "accounts.add_orgunit": is_province,
    "accounts.change_orgunit": is_province & changeable,
    "accounts.delete_orgunit": is_province & changeable,
    "accounts.change_user": is_province & manageable_user,
    "accounts.delete_user": is_province & manageable_user,
    "indicators.view_indicatorset": is_province & viewable,
    "indicators.add_indicatorset": is_province,
    "indicators.change_indicatorset": is_province & changeable,
    "indicators.view_indicator": is_province & viewable,
    # Programs (issue 13) are reference data of the whole country: every official reads them;
    # adding, changing and deleting one is left to a superuser (no rule here grants it).
    "indicators.view_program": is_official,
    "indicators.add_indicator": is_province,
    "indicators.change_indicator": is_province & changeable,
    **{
        f"indicators.view_{model}": is_province & viewable
        for model in ("period", "checkmark", "submission", "auditentry", "evidence", "applicationrule", "applicationbatch", "application")
    },
    **{
        f"ledger.{action}_{model}": is_province & (viewable if action == "view" else changeable)
        for model in ("ledger", "ledgeritem")
        for action in ("view", "change", "delete")
    },
    "ledger.add_ledger": is_province,
    "ledger.add_ledgeritem": is_province,
    # has_module_perms(app): whether the admin index lists the app at all
    **dict.fromkeys(ADMIN_APPS, is_province),
}

for _name, _predicate in {**PERMISSIONS, **ADMIN_PERMISSIONS}.items():
    rules.add_perm(_name, _predicate)
