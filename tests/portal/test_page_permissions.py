"""The portal's permission matrix: pages, exports, imports and the admin × principals.

The regions (GB/T 2260):

    四川 510000 ⊃ 成都 510100 ⊃ 锦江 510104     重庆 500000 ⊃ 重庆 500100 ⊃ 渝中 500103
         510000 ⊃ 绵阳 510700 ⊃ 涪城 510703

Principals: county 锦江, city 成都, province / supply company / regulator 四川, national 全国,
重庆's province official (another province) and an anonymous visitor. A cell is the HTTP status:
302 for an anonymous visitor is the way to the login page (for the admin, the admin's login);
404 means out of scope (answered like unknown), 403 in view but not allowed, 405 a method the page
does not take. A write cell reads ``302+`` when the write took effect and ``302`` when the page
refused it with a message (the review steps answer with a redirect either way).
"""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from accounts.models import Region
from indicators.models import IndicatorSet, Submission
from indicators.services import evidence_add, period_open
from ledger import services as ledger_services
from ledger.models import Ledger, ProgressEvidence
from reporting.services import report_compile, report_job_start

pytestmark = pytest.mark.django_db

P = "2022S1"
PRINCIPALS = ("county", "city", "province", "supply_company", "regulator", "national", "other_province", "anonymous")
WHERE = {
    "county": ("county", "510104"),
    "city": ("city", "510100"),
    "province": ("province", "510000"),
    "supply_company": ("supply_company", "510000"),
    "regulator": ("regulator", "510000"),
    "national": ("national", None),
    "other_province": ("province", "500000"),
}
BOARD = "/ledgers/510000-2022/"

# (method, URL): statuses in the order of PRINCIPALS
#                                                          county city prov supply regul natnl  渝   anon
MATRIX = {
    ("GET", "/"): "200 200 200 200 200 200 200 302",
    # 附件2's sheets: own county, another city's county, another province's county
    ("GET", f"/periods/{P}/sheet/510104/"): "200 200 200 200 200 200 404 302",
    ("GET", f"/periods/{P}/sheet/510703/"): "404 404 200 200 200 200 404 302",
    ("GET", f"/periods/{P}/sheet/500103/"): "404 404 404 404 404 200 200 302",
    ("GET", f"/periods/{P}/review/510100/"): "403 200 200 403 200 200 404 302",
    ("GET", f"/periods/{P}/review/510700/"): "403 404 200 403 200 200 404 302",
    # a province's page (every city's counties, states, exception reasons): not a city reviewer
    ("GET", f"/periods/{P}/province/510000/"): "403 403 200 403 200 200 404 302",
    ("GET", f"/periods/{P}/province/500000/"): "403 404 404 403 404 200 200 302",
    # accept 攀枝花 with its five counties named exceptions (issue 8 §4): a province official's own
    ("POST", f"/periods/{P}/province/510000/"): "403 403 302+ 403 403 403 404 302",
    ("GET", f"/periods/{P}/history/510104/"): "200 200 200 200 200 200 404 302",
    # 完成承诺: a county as its history; a city or province for the reviewers (out of scope: 404 first)
    ("GET", f"/periods/{P}/promises/510104/"): "200 200 200 200 200 200 404 302",
    ("GET", f"/periods/{P}/promises/510703/"): "404 404 200 200 200 200 404 302",
    ("GET", f"/periods/{P}/promises/510100/"): "403 200 200 403 200 200 404 302",
    ("GET", f"/periods/{P}/promises/510700/"): "404 404 200 403 200 200 404 302",
    ("GET", f"/periods/{P}/promises/510000/"): "403 200 200 403 200 200 404 302",
    ("GET", f"/periods/{P}/promises/500000/"): "404 404 404 404 404 200 200 302",
    # 未完成报送情况: the province's readers, a city reviewer (their city's counties); not a county, not a company
    ("GET", f"/periods/{P}/blocking/510000/"): "403 200 200 403 200 200 404 302",
    ("GET", f"/periods/{P}/blocking/500000/"): "403 404 404 403 404 200 200 302",
    ("GET", f"/periods/{P}/blocking/510100/"): "403 404 404 403 404 404 404 302",
    ("GET", f"/periods/{P}/act/510104/"): "405 405 405 405 405 405 405 302",
    ("POST", f"/periods/{P}/act/510104/"): "403 302+ 302+ 403 403 403 404 302",
    ("GET", "/evidence/{evidence}/"): "200 200 200 200 200 200 404 302",
    # reports, exports, imports
    ("GET", "/reporting/pictures/"): "403 403 200 403 200 200 200 302",
    ("GET", "/reporting/?region=510000"): "403 403 200 403 200 200 404 302",
    ("GET", "/reporting/?region=national"): "403 403 200 403 200 200 200 302",
    ("GET", "/reporting/snapshots/{snapshot}/"): "403 403 200 403 200 200 404 302",
    ("GET", "/reporting/snapshots/{snapshot}/download/"): "403 403 200 403 200 200 404 302",
    ("GET", f"/reporting/export/attachment2/?region=510000&period={P}"): "403 403 200 403 200 200 404 302",
    ("GET", f"/reporting/export/attachment2/?region=500000&period={P}"): "403 403 404 403 404 200 200 302",
    ("GET", "/reporting/changes/?region=510000"): "403 403 200 403 200 200 404 302",
    ("GET", "/reporting/changes/?region=500000"): "403 403 404 403 404 200 200 302",
    ("GET", f"/reporting/changes/?region=510000&before={P}&after={P}&format=xlsx"): "403 403 400 403 400 400 404 302",
    ("GET", "/reporting/benefits/"): "403 403 403 200 403 403 403 302",
    ("GET", "/reporting/import/attachment2/"): "403 403 200 403 403 403 200 302",
    # a compile job of 四川 started by its province official: its readers only (404: not told apart)
    ("GET", "/reporting/jobs/{report_job}/"): "404 404 200 404 200 200 404 302",
    ("GET", "/reporting/jobs/{report_job}/status/"): "404 404 200 404 200 200 404 302",
    ("GET", "/jobs/{job}/"): "404 404 200 404 200 200 404 302",
    ("GET", "/jobs/{job}/status/"): "404 404 200 404 200 200 404 302",
    # the ledger (what a page lists is scoped again: see the tests below)
    ("GET", "/ledgers/"): "200 200 200 200 200 200 200 302",
    ("GET", BOARD): "200 200 200 200 200 200 404 302",
    ("GET", BOARD + "items/3/"): "200 200 200 200 200 200 404 302",
    ("GET", BOARD + "adapt/"): "403 200 200 403 403 403 404 302",
    ("GET", BOARD + "import/"): "200 200 200 200 200 200 404 302",
    ("GET", BOARD + "progress-import/"): "200 200 200 200 200 200 404 302",
    ("GET", BOARD + "export.xlsx"): "200 200 200 200 200 200 404 302",
    ("GET", BOARD + "progress.xlsx"): "200 200 200 200 200 200 404 302",
    ("GET", "/ledgers/assignments/{assignment}/"): "200 200 200 200 200 200 404 302",
    ("GET", "/ledgers/evidence/{ledger_evidence}/"): "200 200 200 200 200 200 404 302",
    ("GET", "/ledgers/pressing/"): "200 200 200 200 200 200 200 302",
    ("GET", "/notifications/"): "200 200 200 200 200 200 200 302",
    ("GET", "/api/tokens/"): "403 403 200 403 403 403 200 302",
    # the admin: staff only (none of these principals is staff); its login for everyone else
    ("GET", "/admin/"): "302 302 302 302 302 302 302 302",
    ("GET", "/admin/accounts/user/"): "302 302 302 302 302 302 302 302",
    ("GET", "/admin/indicators/checkmark/"): "302 302 302 302 302 302 302 302",
}


class World:
    """The data every page needs to answer 200 to someone: a period with evidence and a submitted
    county, 四川's compiled tables, 四川's adapted ledger with an assignment to 锦江 with evidence."""

    def __init__(self, make_user, tmp_path):
        self.users = {name: make_user(f"u-{name}", role, code) for name, (role, code) in WHERE.items()}
        region = Region.objects.get
        self.period = period_open(code=P)[0]
        pdf = SimpleUploadedFile("整改报告.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf")
        self.evidence = evidence_add(user=self.users["county"], region=region(code="510104"), period=self.period, number=8, upload=pdf)
        Submission.objects.update_or_create(region=region(code="510104"), period=self.period, defaults={"state": "submitted"})
        self.snapshot = report_compile(user=self.users["province"], province=region(code="510000"), period=self.period)[0]
        self.report_job = report_job_start(user=self.users["province"], province=region(code="510000"), period=self.period)
        ledger = ledger_services.ledger_adapt(
            user=self.users["province"],
            region=region(code="510000"),
            year=2022,
            source=Ledger.objects.get(code="national-2021"),
        )
        item = ledger.items.get(number=3)
        city_part = ledger_services.assignment_create(
            user=self.users["province"],
            item=item,
            region=region(code="510100"),
            responsible_unit="成都市发改委",
            lead=True,
        )
        self.assignment = ledger_services.assignment_create(
            user=self.users["city"],
            item=item,
            parent=city_part,
            region=region(code="510104"),
            responsible_unit="锦江区发改局",
            milestone=date(2022, 9, 30),
        )
        ledger_services.progress_report(
            user=self.users["county"],
            assignment=self.assignment,
            status="in_progress",
            note="推进中",
            uploads=[SimpleUploadedFile("验收单.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")],
        )
        self.ledger_evidence = ProgressEvidence.objects.get(update__assignment=self.assignment)

    def client(self, principal):
        client = Client()
        if principal != "anonymous":
            client.force_login(self.users[principal])
        return client

    def url(self, template):
        return template.format(
            evidence=self.evidence.pk,
            snapshot=self.snapshot.pk,
            assignment=self.assignment.pk,
            ledger_evidence=self.ledger_evidence.pk,
            report_job=self.report_job.pk,
            job=self.report_job.job_id,
        )


def _approved():
    return Submission.objects.filter(region__code="510104", state="approved").exists()


PANZHIHUA_COUNTIES = ("510402", "510403", "510411", "510421", "510422")
ACCEPT_PANZHIHUA = {
    "action": "accept",
    "city": "510400",
    "exception": list(PANZHIHUA_COUNTIES),
    **{f"reason_{code}": "尚未上报" for code in PANZHIHUA_COUNTIES},
}


def _panzhihua_accepted():
    return Submission.objects.filter(region__code="510400", state="accepted").exists()


WRITES = {
    ("POST", f"/periods/{P}/act/510104/"): ({"action": "approve"}, _approved),
    ("POST", f"/periods/{P}/province/510000/"): (ACCEPT_PANZHIHUA, _panzhihua_accepted),
}


def _cell(world, principal, method, template):
    client = world.client(principal)
    url = world.url(template)
    with transaction.atomic():  # every cell starts from the same data
        body, took_effect = WRITES.get((method, template), ({}, None))
        response = client.post(url, body) if method == "POST" else client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        status = str(response.status_code)
        if took_effect is not None and status == "302" and took_effect():
            status += "+"
        transaction.set_rollback(True)
    return status


@pytest.fixture
def world(make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return World(make_user, tmp_path)


@pytest.mark.parametrize("method, url", list(MATRIX))
def test_page_permission_matrix(world, method, url):
    actual = [_cell(world, principal, method, url) for principal in PRINCIPALS]
    assert " ".join(actual) == " ".join(MATRIX[method, url].split())


def test_the_admin_sends_everyone_but_staff_to_its_login(world):
    response = world.client("province").get("/admin/accounts/user/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    staff = world.users["province"]
    staff.is_staff = True
    staff.save()
    client = world.client("province")
    assert client.get("/admin/").status_code == 200
    # What staff may do there is the policy's: a province official manages its province's users.
    assert client.get("/admin/accounts/user/").status_code == 200
    county = world.users["county"]
    county.is_staff = True
    county.save()
    assert world.client("county").get("/admin/accounts/user/").status_code == 403


# --- the admin: what each role may do to each model, and which fields of a user it sees ----------
#
# Every principal here is staff (the admin's door); what it may do inside is the policy's alone.
# A cell lists what the pages allowed: V the object's page opens, A the add page, C the object's
# form saves (its 保存 button), D its delete page; "-" for each refused.

ADMIN_ROLES = ("superuser", "national", "regulator", "province", "city", "county", "supply_company")
ADMIN_WHERE = {
    "national": ("national", None),
    "regulator": ("regulator", "510000"),
    "province": ("province", "510000"),
    "city": ("city", "510100"),
    "county": ("county", "510104"),
    "supply_company": ("supply_company", "510000"),
}

#                                                      superuser national regulator province city county supply
ADMIN_ACTIONS = {
    ("accounts", "user", "county"): "VACD ---- ---- VACD ---- ---- ----",
    ("accounts", "user", "city"): "VACD ---- ---- VACD ---- ---- ----",
    ("accounts", "user", "supply_company"): "VACD ---- ---- VACD ---- ---- ----",
    ("accounts", "user", "regulator"): "VACD ---- ---- VA-- ---- ---- ----",
    ("accounts", "user", "province"): "VACD ---- ---- VA-- ---- ---- ----",  # itself
    ("accounts", "user", "national"): "VACD ---- ---- -A-- ---- ---- ----",
    ("accounts", "user", "other_province"): "VACD ---- ---- -A-- ---- ---- ----",
    ("accounts", "region", "jinjiang"): "VACD ---- ---- V--- ---- ---- ----",
    ("indicators", "indicatorset", "national_set"): "VACD ---- ---- VA-- ---- ---- ----",
    ("indicators", "indicator", "national_indicator"): "VACD ---- ---- VA-- ---- ---- ----",
    ("indicators", "period", "period"): "V--- ---- ---- V--- ---- ---- ----",
    ("indicators", "checkmark", "checkmark"): "V--- ---- ---- V--- ---- ---- ----",
    ("indicators", "submission", "submission"): "V--- ---- ---- V--- ---- ---- ----",
    ("indicators", "auditentry", "audit"): "V--- ---- ---- V--- ---- ---- ----",
    ("indicators", "evidence", "evidence"): "V--- ---- ---- V--- ---- ---- ----",
    ("ledger", "ledger", "ledger"): "VACD ---- ---- VACD ---- ---- ----",
    ("ledger", "ledgeritem", "item"): "VACD ---- ---- VACD ---- ---- ----",
    ("ledger", "ledger", "reference"): "VACD ---- ---- VA-- ---- ---- ----",
}

# The fields of the user form each role is given: the add form, and the change form of 锦江's
# county user. None: the form is refused (403).
ADMIN_FIELDS = ("username", "role", "region", "is_active", "is_staff", "is_superuser", "groups", "user_permissions")
USER_FORM_FIELDS = {
    # superuser, national, regulator, province, city, county, supply company
    "add": ("username role region is_active is_staff is_superuser groups", None, None, "username role region is_active", None, None, None),
    "change": (
        "username role region is_active is_staff is_superuser groups user_permissions",
        None,
        None,
        "username role region is_active",
        None,
        None,
        None,
    ),
}


class AdminWorld:
    def __init__(self, world, make_user):
        from accounts.models import User
        from indicators.models import AuditEntry, Checkmark, Indicator

        self.staff = {"superuser": User.objects.create_superuser("root", password="pw-for-tests-1", role="national")}
        for name, (role, code) in ADMIN_WHERE.items():
            self.staff[name] = make_user(f"staff-{name}", role, code, is_staff=True)
        ledger = Ledger.objects.get(code="510000-2022")
        national_set = IndicatorSet.objects.get(code="national-2021")
        self.objects = {
            **{name: self.staff[name] for name in ("regulator", "province", "national")},
            "county": world.users["county"],
            "city": world.users["city"],
            "supply_company": world.users["supply_company"],
            "other_province": world.users["other_province"],
            "jinjiang": Region.objects.get(code="510104"),
            "national_set": national_set,
            "national_indicator": Indicator.objects.filter(indicator_set=national_set).first(),
            "period": world.period,
            "checkmark": Checkmark.objects.filter(region__code="510104").first(),
            "submission": Submission.objects.get(region__code="510104", period=world.period),
            "audit": AuditEntry.objects.filter(region__code="510104").first(),
            "evidence": world.evidence,
            "ledger": ledger,
            "item": ledger.items.get(number=3),
            "reference": Ledger.objects.get(code="national-2021"),
        }

    def client(self, role):
        client = Client()
        client.force_login(self.staff[role])
        return client


@pytest.fixture
def admin_world(world, make_user):
    return AdminWorld(world, make_user)


def _admin_cell(client, app, model, obj):
    base = f"/admin/{app}/{model}/"
    page = client.get(f"{base}{obj.pk}/change/")
    view = page.status_code == 200
    change = view and 'name="_save"' in page.content.decode()
    add = client.get(f"{base}add/").status_code == 200
    delete = client.get(f"{base}{obj.pk}/delete/").status_code == 200
    return "".join(letter if allowed else "-" for letter, allowed in zip("VACD", (view, add, change, delete)))


@pytest.mark.parametrize("app, model, name", list(ADMIN_ACTIONS))
def test_admin_actions_matrix(admin_world, app, model, name):
    obj = admin_world.objects[name]
    actual = [_admin_cell(admin_world.client(role), app, model, obj) for role in ADMIN_ROLES]
    assert " ".join(actual) == " ".join(ADMIN_ACTIONS[app, model, name].split())


@pytest.mark.parametrize("form", list(USER_FORM_FIELDS))
def test_admin_user_form_fields_matrix(admin_world, form):
    url = "/admin/accounts/user/add/" if form == "add" else f"/admin/accounts/user/{admin_world.objects['county'].pk}/change/"
    actual = []
    for role in ADMIN_ROLES:
        response = admin_world.client(role).get(url)
        if response.status_code == 403:
            actual.append(None)
            continue
        assert response.status_code == 200, role
        page = response.content.decode()
        actual.append(" ".join(field for field in ADMIN_FIELDS if f'name="{field}"' in page))
    assert actual == list(USER_FORM_FIELDS[form])


def test_admin_index_lists_only_what_the_policy_allows(admin_world):
    for role in ADMIN_ROLES:
        page = admin_world.client(role).get("/admin/").content.decode()
        assert ("/admin/accounts/user/" in page) is (role in ("superuser", "province")), role
        assert ("/admin/django_celery_beat/" in page) is (role == "superuser"), role


def _xlsx_text(response):
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(response.content), read_only=True)
    return " ".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v)


def test_ledger_pages_and_exports_show_only_the_assignments_in_scope(world):
    """Another city's assignment on the same item: not on 锦江's or 成都's board, item page or export."""
    province, item = world.users["province"], world.assignment.item
    mianyang = ledger_services.assignment_create(
        user=province,
        item=item,
        region=Region.objects.get(code="510700"),
        responsible_unit="绵阳市经信局",
    )
    for principal in ("county", "city"):  # 锦江 and 成都: 绵阳 is another city
        client = world.client(principal)
        for url in (BOARD, BOARD + "items/3/"):
            page = client.get(url).content.decode()
            assert "锦江区发改局" in page and "绵阳市经信局" not in page, (principal, url)
        assert "绵阳市经信局" not in _xlsx_text(client.get(BOARD + "progress.xlsx")), principal
        assert client.get(f"/ledgers/assignments/{mianyang.pk}/").status_code == 404, principal
    # The province sees both.
    assert "绵阳市经信局" in _xlsx_text(world.client("province").get(BOARD + "progress.xlsx"))
