"""The one authorisation policy (accounts.policy): the admin's escalation closed, the three access
defects the outside probes found, and the rules each role gets on representative objects.

Regions: 四川 510000 ⊃ 成都 510100 ⊃ 锦江 510104; 重庆 500000 ⊃ 渝中 500103.
"""

from datetime import date

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client

from accounts.models import Region, Role, User
from indicators.models import Submission, SubmissionState
from indicators.services import CheckmarkValue, checkmarks_set, period_open
from ledger import services as ledger_services
from ledger.models import Ledger
from reporting.services import report_job_start
from utilities.errors import ConflictError
from utilities.models import Job, JobKind

pytestmark = pytest.mark.django_db

P = "2022S1"
PASSWORD = "pw-for-tests-1"


@pytest.fixture
def users(make_user):
    return {
        "county": make_user("jj", "county", "510104"),
        "city": make_user("cd", "city", "510100"),
        "province": make_user("sc", "province", "510000", is_staff=True),
        "supply_company": make_user("gw", "supply_company", "510000"),
        "regulator": make_user("sc-jg", "regulator", "510000"),
        "national": make_user("nea", "national"),
        "other_province": make_user("cq", "province", "500000", is_staff=True),
        "second_admin": make_user("sc2", "province", "510000", is_staff=True),
        "cq_county": make_user("yz", "county", "500103"),
        "superuser": User.objects.create_superuser("root", password=PASSWORD, role=Role.NATIONAL),
    }


def client_of(user):
    client = Client()
    client.force_login(user)
    return client


def change_data(user, **fields):
    """What the admin's change form of ``user`` sends back, as a province administrator sees it."""
    return {
        "username": user.username,
        "last_name": user.last_name,
        "first_name": "",
        "email": "",
        "is_active": "on",
        "role": user.role,
        "region": user.region_id or "",
        "organisation": "",
        "phone": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        **fields,
    }


def add_data(username, role, region, **fields):
    return {
        "username": username,
        "usable_password": "true",
        "password1": "Xy#9pass-word",
        "password2": "Xy#9pass-word",
        "role": role,
        "region": region.pk if region else "",
        "organisation": "",
        "phone": "",
        **fields,
    }


def escalation(**extra):
    """Everything that would make an account an administrator, as a crafted POST sends it."""
    group = Group.objects.create(name="全部权限")
    group.permissions.set(Permission.objects.all())
    return {
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [group.pk],
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)[:5]),
        **extra,
    }


def admin_of(user):
    return user.is_superuser, user.is_staff, user.groups.count(), user.user_permissions.count()


# --- the escalation --------------------------------------------------------------------------


def test_a_province_admin_cannot_make_itself_superuser(users):
    admin = users["province"]
    response = client_of(admin).post(f"/admin/accounts/user/{admin.pk}/change/", change_data(admin, **escalation()))
    assert response.status_code == 403
    admin.refresh_from_db()
    assert admin_of(admin) == (False, True, 0, 0)
    # Nor through the password form of its own account.
    assert client_of(admin).get(f"/admin/accounts/user/{admin.pk}/password/").status_code == 403


def test_a_province_admin_sees_its_own_account_read_only(users):
    admin = users["province"]
    page = client_of(admin).get(f"/admin/accounts/user/{admin.pk}/change/").content.decode()
    assert 'name="_save"' not in page and 'name="is_superuser"' not in page and "is_superuser" not in page


def test_a_crafted_post_sets_no_admin_field_on_a_managed_user(users):
    county = users["county"]
    response = client_of(users["province"]).post(
        f"/admin/accounts/user/{county.pk}/change/", change_data(county, last_name="锦江新名", **escalation())
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    county.refresh_from_db()
    assert county.last_name == "锦江新名"  # the change itself went through
    assert admin_of(county) == (False, False, 0, 0)
    assert not county.has_perm("accounts.change_user")


def test_a_crafted_add_sets_no_admin_field(users):
    response = client_of(users["province"]).post(
        "/admin/accounts/user/add/", add_data("new-county", "county", Region.objects.get(code="510104"), **escalation())
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="new-county")
    assert (created.role, created.region.code) == ("county", "510104")
    assert admin_of(created) == (False, False, 0, 0)


@pytest.mark.parametrize("target", ["regulator", "second_admin", "other_province", "national", "cq_county", "superuser"])
def test_a_province_admin_changes_no_one_above_or_outside(users, target):
    """Regulators and other administrators of its province: read-only (403 on a save); users of
    another province and national users: not even found (the admin redirects)."""
    other = users[target]
    client = client_of(users["province"])
    before = (other.last_name, other.role, other.region_id, admin_of(other))
    response = client.post(f"/admin/accounts/user/{other.pk}/change/", change_data(other, last_name="改", **escalation()))
    assert response.status_code == (403 if target in ("regulator", "second_admin") else 302)
    deleted = client.post(f"/admin/accounts/user/{other.pk}/delete/", {"post": "yes"})
    assert deleted.status_code in (302, 403)
    other.refresh_from_db()
    assert (other.last_name, other.role, other.region_id, admin_of(other)) == before


def test_a_managed_user_cannot_be_promoted_or_moved_out(users):
    county = users["county"]
    client = client_of(users["province"])
    for data in (
        change_data(county, role="regulator", region=Region.objects.get(code="510000").pk),
        change_data(county, role="province", region=Region.objects.get(code="510000").pk),
        change_data(county, region=Region.objects.get(code="500103").pk),
    ):
        response = client.post(f"/admin/accounts/user/{county.pk}/change/", data)
        assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    county.refresh_from_db()
    assert (county.role, county.region.code) == ("county", "510104")


@pytest.mark.parametrize(
    "role, code, created",
    [
        ("county", "510104", True),
        ("city", "510100", True),
        ("supply_company", "510000", True),
        ("regulator", "510000", False),
        ("province", "510000", False),
        ("national", None, False),
        ("county", "500103", False),  # another province's county
    ],
)
def test_what_a_province_admin_may_create(users, role, code, created):
    region = Region.objects.get(code=code) if code else None
    # A new supply-company user names its company (users["supply_company"]'s, of 四川).
    company = {"company": users["supply_company"].company_id} if role == "supply_company" else {}
    response = client_of(users["province"]).post("/admin/accounts/user/add/", add_data("made", role, region, **company))
    assert (response.status_code == 302) is created
    assert User.objects.filter(username="made").exists() is created
    if not created:
        assert "选择一个有效的选项" in response.content.decode()


def test_the_role_and_region_choices_offered(users):
    page = client_of(users["province"]).get("/admin/accounts/user/add/").content.decode()
    offered = {r.value for r in Role if f'<option value="{r.value}"' in page}
    assert offered == {"county", "city", "supply_company"}
    page = client_of(users["superuser"]).get("/admin/accounts/user/add/").content.decode()
    assert {r.value for r in Role if f'<option value="{r.value}"' in page} == set(Role.values)


def test_the_delete_action_asks_about_every_user_selected(users):
    client = client_of(users["province"])
    regulator, county = users["regulator"], users["county"]
    action = {"action": "delete_selected", "_selected_action": [regulator.pk, county.pk], "post": "yes"}
    assert client.post("/admin/accounts/user/", action).status_code == 403
    assert User.objects.filter(pk__in=[regulator.pk, county.pk]).count() == 2
    client.post("/admin/accounts/user/", {**action, "_selected_action": [county.pk]})
    assert not User.objects.filter(pk=county.pk).exists()


def test_regions_are_read_only_for_a_province_admin(users):
    client = client_of(users["province"])
    chengdu = Region.objects.get(code="510100")
    assert client.get(f"/admin/accounts/region/{chengdu.pk}/change/").status_code == 200
    assert client.get("/admin/accounts/region/add/").status_code == 403
    response = client.post(f"/admin/accounts/region/{chengdu.pk}/change/", {"code": "510100", "name": "改名", "level": "city"})
    assert response.status_code == 403
    assert client.post(f"/admin/accounts/region/{chengdu.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Region.objects.get(pk=chengdu.pk).name == "成都市"


def test_groups_and_user_permissions_grant_nothing(users):
    """The model backend answers no permission: a group with every permission changes nothing."""
    county = users["county"]
    group = Group.objects.create(name="全部")
    group.permissions.set(Permission.objects.all())
    county.groups.add(group)
    county.user_permissions.set(Permission.objects.all())
    county.is_staff = True
    county.save()
    county = User.objects.get(pk=county.pk)  # no cached permissions
    assert not county.has_perm("accounts.change_user") and not county.has_perm("indicators.view_checkmark")
    assert county.get_all_permissions() == set()
    assert client_of(county).get("/admin/accounts/user/").status_code == 403


def test_api_tokens_only_in_the_admins_province(users):
    client = client_of(users["province"])
    response = client.post("/api/tokens/", {"name": "渝中平台", "region": "500103", "access": "read"})
    assert response.status_code == 400
    response = client.post("/api/tokens/", {"name": "锦江平台", "region": "510104", "access": "read"})
    assert response.status_code == 200 and "锦江平台" in response.content.decode()
    for principal in ("county", "city", "regulator", "national", "supply_company"):
        assert client_of(users[principal]).get("/api/tokens/").status_code == 403, principal


# --- the three access defects ----------------------------------------------------------------


@pytest.fixture
def period(db):
    return period_open(code=P)[0]


@pytest.mark.parametrize(
    "principal, status",
    [
        ("city", 403),
        ("county", 403),
        ("supply_company", 403),
        ("province", 200),
        ("regulator", 200),
        ("national", 200),
        ("superuser", 200),
        ("other_province", 404),
    ],
)
def test_the_province_page_is_for_the_provinces_readers(users, period, principal, status):
    assert client_of(users[principal]).get(f"/periods/{P}/province/510000/").status_code == status


def test_a_city_reviewer_still_reads_its_counties_on_the_blocking_page(users, period):
    response = client_of(users["city"]).get(f"/periods/{P}/blocking/510000/")
    assert response.status_code == 200 and response.context["city_only"] is True
    assert client_of(users["province"]).get(f"/periods/{P}/blocking/510000/").context["city_only"] is False


@pytest.mark.parametrize(
    "principal, page, api",
    [
        ("supply_company", 404, 403),
        ("county", 404, 403),
        ("city", 404, 403),
        ("other_province", 404, 404),
        ("province", 200, 200),
        ("regulator", 200, 200),
        ("national", 200, 200),
    ],
)
def test_report_jobs_ask_the_same_permission_on_pages_and_api(users, period, settings, tmp_path, principal, page, api):
    settings.MEDIA_ROOT = tmp_path
    job = report_job_start(user=users["province"], province=Region.objects.get(code="510000"), period=period)
    client = client_of(users[principal])
    for url in (f"/reporting/jobs/{job.pk}/", f"/reporting/jobs/{job.pk}/status/", f"/jobs/{job.job_id}/", f"/jobs/{job.job_id}/status/"):
        assert client.get(url).status_code == page, url
    assert client.get(f"/api/v1/report-jobs/{job.pk}/").status_code == api


def _write_accepted(user, region, period):
    """Whether checkmarks_set takes a write of ``user`` now (rolled back either way)."""
    with transaction.atomic():
        try:
            checkmarks_set(user=user, region=region, period=period, values={1: CheckmarkValue(status="")})
            accepted = True
        except (PermissionDenied, ConflictError):  # ConflictError: WrongState, PeriodLocked
            accepted = False
        transaction.set_rollback(True)
    return accepted


@pytest.mark.parametrize("state", [SubmissionState.DRAFT, SubmissionState.SUBMITTED, SubmissionState.RETURNED, SubmissionState.APPROVED])
@pytest.mark.parametrize("principal", ["county", "city", "province", "supply_company", "regulator", "national", "superuser"])
def test_the_sheet_shows_a_form_exactly_when_the_service_takes_the_write(users, period, state, principal):
    region = Region.objects.get(code="510104")
    Submission.objects.update_or_create(region=region, period=period, defaults={"state": state})
    user = users[principal]
    response = client_of(user).get(f"/periods/{P}/sheet/510104/")
    assert response.status_code == 200
    can_edit = response.context["can_edit"]
    assert can_edit == _write_accepted(user, region, period)
    expected = principal in ("province", "superuser") or (principal == "county" and state in ("draft", "returned"))
    assert can_edit is expected


def test_a_province_writes_a_submitted_county_sheet_from_the_page(users, period):
    region = Region.objects.get(code="510104")
    Submission.objects.update_or_create(region=region, period=period, defaults={"state": "submitted"})
    page = client_of(users["province"]).get(f"/periods/{P}/sheet/510104/").content.decode()
    assert "当前为只读" not in page and 'name="version"' in page


# --- the rules, role by role -----------------------------------------------------------------

ROLES = ("county", "city", "province", "supply_company", "regulator", "national", "other_province")


def _objects(users, period):
    region = Region.objects.get
    sichuan_ledger = ledger_services.ledger_adapt(
        user=users["province"],
        region=region(code="510000"),
        year=2022,
        source=Ledger.objects.get(code="national-2021"),
    )
    item = sichuan_ledger.items.get(number=3)
    city_part = ledger_services.assignment_create(
        user=users["province"],
        item=item,
        region=region(code="510100"),
        responsible_unit="成都市发改委",
    )
    county_part = ledger_services.assignment_create(
        user=users["city"],
        item=item,
        parent=city_part,
        region=region(code="510104"),
        responsible_unit="锦江区发改局",
        milestone=date(2022, 9, 30),
    )
    return {
        "jinjiang": region(code="510104"),
        "chengdu": region(code="510100"),
        "sichuan": region(code="510000"),
        "chongqing": region(code="500000"),
        "draft": Submission(region=region(code="510104"), period=period, state=SubmissionState.DRAFT),
        "submitted": Submission(region=region(code="510104"), period=period, state=SubmissionState.SUBMITTED),
        "sichuan_sheet": Submission(region=region(code="510000"), period=period),
        "ledger": sichuan_ledger,
        "reference": Ledger.objects.get(code="national-2021"),
        "city_part": city_part,
        "county_part": county_part,
        "report_job": Job(kind=JobKind.REPORT, region=region(code="510000"), created_by=users["national"]),
        "national_job": Job(kind=JobKind.REPORT, region=None, created_by=users["national"]),
        "import_job": Job(kind=JobKind.APPLICATIONS, region=region(code="510104"), created_by=None),
        "own_import": Job(kind=JobKind.APPLICATIONS, region=region(code="510104"), created_by=users["other_province"]),
        None: None,
    }


#                                                          county city prov supply regul natnl 渝
RULES = {
    ("indicators.fill_county_sheet", "draft"): "1 0 1 0 0 0 0",
    ("indicators.fill_county_sheet", "submitted"): "0 0 1 0 0 0 0",
    ("indicators.fill_province_sheet", "sichuan_sheet"): "0 0 1 0 0 0 0",
    ("indicators.submit", "jinjiang"): "1 0 0 0 0 0 0",
    ("indicators.review_county", "jinjiang"): "0 1 1 0 0 0 0",
    ("indicators.accept_city", "chengdu"): "0 0 1 0 0 0 0",
    ("indicators.confirm_province", "sichuan"): "0 0 1 0 0 0 0",
    ("indicators.confirm_province", "chongqing"): "0 0 0 0 0 0 1",
    ("indicators.reopen_province", "sichuan"): "0 0 1 0 0 0 0",
    ("indicators.view_province_page", "sichuan"): "0 0 1 0 1 1 0",
    ("indicators.view_review_page", "chengdu"): "0 1 1 0 1 1 0",
    ("indicators.upload_applications", "jinjiang"): "1 0 0 1 0 0 0",
    ("reporting.read_reports", "sichuan"): "0 0 1 0 1 1 0",
    ("reporting.read_reports", "chongqing"): "0 0 0 0 0 1 1",
    ("reporting.read_national_reports", None): "0 0 0 0 0 1 0",
    ("reporting.compile_reports", "sichuan"): "0 0 1 0 0 1 0",
    ("reporting.compile_national", None): "0 0 0 0 0 1 0",
    ("reporting.enter_benefits", "sichuan"): "0 0 0 1 0 0 0",
    ("reporting.import_attachment2", "sichuan"): "0 0 1 0 0 0 0",
    ("utilities.view_job", "report_job"): "0 0 1 0 1 1 0",
    ("utilities.view_job", "national_job"): "0 0 0 0 0 1 0",
    ("utilities.view_job", "import_job"): "1 1 1 1 1 1 0",
    ("utilities.view_job", "own_import"): "1 1 1 1 1 1 1",
    ("ledger.adapt", "sichuan"): "0 0 1 0 0 0 0",
    ("ledger.adapt", "chengdu"): "0 1 0 0 0 0 0",
    ("ledger.edit_items", "ledger"): "0 0 1 0 0 0 0",
    ("ledger.edit_items", "reference"): "0 0 0 0 0 0 0",
    ("ledger.assign", "ledger"): "0 0 1 0 0 0 0",
    ("ledger.break_down", "city_part"): "0 1 0 0 0 0 0",
    ("ledger.report_progress", "county_part"): "1 0 0 1 0 0 0",
    ("ledger.report_progress", "city_part"): "0 1 0 1 0 0 0",
    ("ledger.review_progress", "county_part"): "0 1 1 0 0 0 0",
    ("ledger.press", "city_part"): "0 0 1 0 0 0 0",
    # A supply company's head office presses its own units (its company's ledger given to departments).
    ("ledger.press", None): "0 1 1 1 0 0 1",
    ("ledger.view_pressing_list", None): "0 1 1 1 1 1 1",
    ("accounts.manage_tokens", "jinjiang"): "0 0 1 0 0 0 0",
    ("accounts.manage_tokens", "chongqing"): "0 0 0 0 0 0 1",
    ("accounts.manage_webhooks", "sichuan"): "0 0 1 0 0 1 0",
    ("accounts.manage_webhooks", "chongqing"): "0 0 0 0 0 1 1",
    ("accounts.view_user", "county"): "0 0 1 0 0 0 0",
    ("accounts.change_user", "county"): "0 0 1 0 0 0 0",
    ("accounts.change_user", "regulator"): "0 0 0 0 0 0 0",
    ("accounts.change_user", "province"): "0 0 0 0 0 0 0",
    ("accounts.delete_user", "supply_company"): "0 0 1 0 0 0 0",
    ("accounts.add_user", None): "0 0 1 0 0 0 1",
    ("accounts.change_region", "jinjiang"): "0 0 0 0 0 0 0",
}


def test_the_rules_per_role(users, period):
    objects = _objects(users, period)
    failures = []
    for (perm, name), row in RULES.items():
        obj = users[name] if name in users else objects[name]
        actual = " ".join("1" if users[role].has_perm(perm, obj) else "0" for role in ROLES)
        if actual != row:
            failures.append(f"{perm} on {name}: {actual} ≠ {row}")
        assert users["superuser"].has_perm(perm, obj), perm  # a superuser passes every rule
    assert not failures, "\n".join(failures)


def test_an_inactive_or_anonymous_user_gets_nothing(users):
    from django.contrib.auth.models import AnonymousUser

    province = users["province"]
    province.is_active = False
    assert not province.has_perm("reporting.read_reports") and not province.has_perm("accounts.add_user")
    assert not AnonymousUser().has_perm("reporting.read_reports")
