"""The API's permission matrix: every role and token scope × target regions × every endpoint and method.

The regions (GB/T 2260):

    四川 510000 ⊃ 成都 510100 ⊃ 锦江 510104     重庆 500000 ⊃ 重庆 500100 ⊃ 渝中 500103
         510000 ⊃ 绵阳 510700 ⊃ 涪城 510703

Principals sit at: county 锦江, city 成都, province / supply_company / regulator 四川, national 全国.
So for each of them a target is its own region, a region below (or above) it, or another region
(another city's county, another province). A cell is the HTTP status; 404 means out of scope
(answered like unknown), 403 in view but not allowed. Tokens (``role:read`` / ``role:write``)
must answer exactly as their role; a read token answers 403 to every unsafe method.
"""

from datetime import date

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from rest_framework.test import APIClient

from accounts.changes import change_record
from accounts.models import Region
from accounts.services import api_token_create
from accounts.webhooks import webhook_endpoint_create
from indicators.models import Checkmark, Indicator, Submission
from ledger import services as ledger_services
from ledger.models import Ledger
from reporting.models import ReportJob, ReportSnapshot
from tests.conftest import TOKEN_COMPANIES, company_for_tests
from utilities import jobs
from utilities.models import JobKind

pytestmark = pytest.mark.django_db

ROLES = {
    "county": "510104",
    "city": "510100",
    "province": "510000",
    "supply_company": "510000",
    "regulator": "510000",
    "national": None,
}
TOKEN_ROLES = ("county", "city", "province", "supply_company")
PRINCIPALS = [*ROLES, *(f"{role}:{access}" for role in TOKEN_ROLES for access in ("read", "write"))]
NATIONAL = "全国"

REGIONS = ("510000", "510100", "510104", "510703", "500000")
SHEETS = ("510000", "510104", "510703", "500103")
COUNTIES = ("510104", "510703", "500103")
CITIES = ("510100", "510700", "500100")
PROVINCES = ("510000", "500000")
BENEFITS = ("510000", "510100", "510104", "500000")
REPORTS = ("510000", "500000", NATIONAL)
LIST = ("列表",)
LEDGERS = ("510000-2024", "national-2021", "500000-2024")  # 四川's own, the national original, 重庆's own
ASSIGNMENTS = ("510100", "510104", "510703", "500103")  # item 3 given to each of these regions

# Rows shared by endpoints that answer alike.
VIEW_TREE = {  # regions and their states: own subtree and the regions above are in view
    "county": "200 200 200 404 404",
    "city": "200 200 200 404 404",
    "province": "200 200 200 200 404",
    "supply_company": "200 200 200 200 404",
    "regulator": "200 200 200 200 404",
    "national": "200 200 200 200 200",
}
REVIEW_COUNTY = {  # return and approve: a city its counties, a province all of its own
    "county": "403 404 404",
    "city": "200 404 404",
    "province": "200 200 404",
    "supply_company": "403 403 404",
    "regulator": "403 403 404",
    "national": "403 403 403",
}
PROVINCE_STEP = {  # confirm and reopen: the province's own officials only
    "county": "403 404",
    "city": "403 404",
    "province": "200 404",
    "supply_company": "403 404",
    "regulator": "403 404",
    "national": "403 403",
}
READ_REPORTS = {  # compiled tables: report readers, each within their scope
    "county": "403 403 403",
    "city": "403 403 403",
    "province": "200 404 404",
    "supply_company": "403 403 403",
    "regulator": "200 404 404",
    "national": "200 200 200",
}
READ_REGION_DATA = {  # a region's own data (附件3 figures, service levels): the region and those above it
    "county": "404 404 200 404",
    "city": "404 200 200 404",
    "province": "200 200 200 404",
    "supply_company": "200 200 200 404",
    "regulator": "200 200 200 404",
    "national": "200 200 200 200",
}

VIEW_LEDGER = {  # ledgers are seen from below: the national one, and the own province's
    "county": "200 200 404",
    "city": "200 200 404",
    "province": "200 200 404",
    "supply_company": "200 200 404",
    "regulator": "200 200 404",
    "national": "200 200 200",
}
EDIT_LEDGER = {  # the ledger's own officials; the documents' originals are read-only
    "county": "403 403 404",
    "city": "403 403 404",
    "province": "{} 403 404",
    "supply_company": "403 403 404",
    "regulator": "403 403 404",
    "national": "403 403 403",
}
VIEW_ASSIGNMENT = {  # assignments are seen from above only: own region and below
    "county": "404 200 404 404",
    "city": "200 200 404 404",
    "province": "200 200 200 404",
    "supply_company": "200 200 200 404",
    "regulator": "200 200 200 404",
    "national": "200 200 200 200",
}
REVIEW_ASSIGNMENT = {  # review and 督办: the officials of a region above the assigned one
    "county": "404 403 404 404",
    "city": "403 {0} 404 404",
    "province": "{0} {0} {0} 404",
    "supply_company": "403 403 403 404",
    "regulator": "403 403 403 404",
    "national": "403 403 403 403",
}
WEBHOOKS = ("510000", "500000", NATIONAL)  # endpoints of 四川's, 重庆's and the national administrator


def manage_webhooks(ok):
    """Webhooks: a province administrator its own province's endpoints, the national one every endpoint."""
    return {**dict.fromkeys(ROLES, "403 403 403"), "province": f"{ok} 404 404", "national": f"{ok} {ok} {ok}"}


ALL_READ = dict.fromkeys(ROLES, "200")
READERS_ONLY = {"county": "403", "city": "403", "province": "200", "supply_company": "403", "regulator": "200", "national": "200"}

# endpoint: (targets, {role: a status per target})
MATRIX = {
    "GET regions/{code}/": (REGIONS, VIEW_TREE),
    "GET periods/{p}/regions/{code}/": (REGIONS, VIEW_TREE),
    "GET periods/{p}/regions/{code}/checkmarks/": (
        SHEETS,
        {
            "county": "200 200 404 404",
            "city": "200 200 404 404",
            "province": "200 200 200 404",
            "supply_company": "200 200 200 404",
            "regulator": "200 200 200 404",
            "national": "200 200 200 200",
        },
    ),
    "PUT periods/{p}/regions/{code}/checkmarks/": (
        SHEETS,
        {
            "county": "403 200 404 404",
            "city": "403 403 404 404",
            "province": "200 200 200 404",
            "supply_company": "403 403 403 404",
            "regulator": "403 403 403 404",
            "national": "403 403 403 403",
        },
    ),
    "POST periods/{p}/regions/{code}/checkmarks/{n}/evidence/": (
        SHEETS,
        {  # whoever may write the check-marks
            "county": "403 201 404 404",
            "city": "403 403 404 404",
            "province": "201 201 201 404",
            "supply_company": "403 403 403 404",
            "regulator": "403 403 403 404",
            "national": "403 403 403 403",
        },
    ),
    "POST periods/{p}/regions/{code}/submit/": (
        COUNTIES,
        {
            "county": "200 404 404",
            "city": "403 404 404",
            "province": "403 403 404",
            "supply_company": "403 403 404",
            "regulator": "403 403 404",
            "national": "403 403 403",
        },
    ),
    "POST periods/{p}/regions/{code}/return/": (COUNTIES, REVIEW_COUNTY),
    "POST periods/{p}/regions/{code}/approve/": (COUNTIES, REVIEW_COUNTY),
    "POST periods/{p}/regions/{code}/accept/": (
        CITIES,
        {
            "county": "403 404 404",
            "city": "403 404 404",
            "province": "200 200 404",
            "supply_company": "403 403 404",
            "regulator": "403 403 404",
            "national": "403 403 403",
        },
    ),
    "POST periods/{p}/regions/{code}/confirm/": (PROVINCES, PROVINCE_STEP),
    "POST periods/{p}/regions/{code}/reopen/": (PROVINCES, PROVINCE_STEP),
    "GET benefits/{code}/2022/1/": (BENEFITS, READ_REGION_DATA),
    "PUT benefits/{code}/2022/1/": (
        BENEFITS,
        {
            "county": "404 404 403 404",
            "city": "404 403 403 404",
            "province": "403 403 403 404",
            # Its company serves 四川 at the province level: a city or county of it is another
            # level, outside the service area (400, accounts.Company), though in scope.
            "supply_company": "200 400 400 404",
            "regulator": "403 403 403 404",
            "national": "403 403 403 403",
        },
    ),
    "POST periods/{p}/regions/{code}/report-jobs/ and periods/{p}/report-jobs/": (
        REPORTS,
        {
            "county": "403 403 403",
            "city": "403 403 403",
            "province": "202 404 403",
            "supply_company": "403 403 403",
            "regulator": "403 404 403",
            "national": "202 202 202",
        },
    ),
    "GET report-jobs/{id}/": (REPORTS, READ_REPORTS),
    "GET report-snapshots/{id}/": (REPORTS, READ_REPORTS),
    "GET report-snapshots/{id}/xlsx/": (REPORTS, READ_REPORTS),
    # The scorecard ranks a province's or city's counties: officials of a region wholly in view.
    "GET periods/{p}/regions/{code}/scorecard/": (
        BENEFITS,
        {
            "county": "403 403 403 403",
            "city": "404 200 404 404",
            "province": "200 200 404 404",
            "supply_company": "403 403 403 403",
            "regulator": "200 200 404 404",
            "national": "200 200 404 200",
        },
    ),
    # Measured service levels from the application records: whoever reads a region's records.
    "GET periods/{p}/regions/{code}/service-levels/": (BENEFITS, READ_REGION_DATA),
    **{f"GET {path}": (LEDGERS, VIEW_LEDGER) for path in ("ledgers/{code}/", "ledgers/{code}/items/", "ledgers/{code}/items/{n}/")},
    "PUT ledgers/{code}/items/{n}/": (LEDGERS, {role: row.format("200") for role, row in EDIT_LEDGER.items()}),
    "POST ledgers/{code}/items/{n}/assignments/": (LEDGERS, {role: row.format("201") for role, row in EDIT_LEDGER.items()}),
    "GET assignments/{id}/": (ASSIGNMENTS, VIEW_ASSIGNMENT),
    "GET assignments/{id}/progress/": (ASSIGNMENTS, VIEW_ASSIGNMENT),
    "POST assignments/{id}/progress/": (
        ASSIGNMENTS,
        {  # the assigned region itself, or a supply company serving it
            "county": "404 201 404 404",
            "city": "201 403 404 404",
            "province": "403 403 403 404",
            "supply_company": "201 201 201 404",
            "regulator": "403 403 403 404",
            "national": "403 403 403 403",
        },
    ),
    "POST assignments/{id}/review/": (ASSIGNMENTS, {role: row.format("200") for role, row in REVIEW_ASSIGNMENT.items()}),
    "POST assignments/{id}/press/": (ASSIGNMENTS, {role: row.format("201") for role, row in REVIEW_ASSIGNMENT.items()}),
    **{
        f"GET {path}": (LIST, ALL_READ)
        for path in (
            "regions/",
            "indicator-sets/",
            "indicator-sets/national-2021/",
            "indicator-sets/national-2021/indicators/",
            "programs/",
            "programs/national-2021/",
            "periods/",
            "periods/{p}/",
            "periods/{p}/regions/",
            "benefits/",
            "ledgers/",
            "assignments/",
            "changes/",
        )
    },
    **{f"GET {path}": (LIST, READERS_ONLY) for path in ("report-jobs/", "report-snapshots/")},
    "GET webhooks/": (LIST, {role: row.split()[0] for role, row in manage_webhooks("200").items()}),
    "POST webhooks/": (LIST, {role: row.split()[0] for role, row in manage_webhooks("201").items()}),
    "GET webhooks/{id}/": (WEBHOOKS, manage_webhooks("200")),
    "GET webhooks/{id}/deliveries/": (WEBHOOKS, manage_webhooks("200")),
    "POST webhooks/{id}/disable/": (WEBHOOKS, manage_webhooks("200")),
    "POST webhooks/{id}/replay-failed/": (WEBHOOKS, manage_webhooks("202")),
    "POST webhooks/{id}/deliveries/{delivery_id}/replay/": (WEBHOOKS, manage_webhooks("202")),
}

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def expected(endpoint, principal):
    """The role's row; a read token is refused every unsafe method before anything else."""
    targets, rows = MATRIX[endpoint]
    role, _, access = principal.partition(":")
    statuses = rows[role].split()
    if access == "read" and endpoint.split()[0] in UNSAFE:
        statuses = ["403"] * len(statuses)
    return dict(zip(targets, statuses))


class World:
    """The period, the data each endpoint needs to succeed, and a client per principal."""

    def __init__(self, period, make_user):
        self.period = period
        self.make_user = make_user
        self.admin = make_user("admin", "province", "510000")
        self.objects = {}

    def client(self, principal):
        role, _, access = principal.partition(":")
        client = APIClient()
        if access:
            where = Region.objects.get(code=ROLES[role])
            supply = role == "supply_company"  # as the user of that role: a company serving its region
            token, secret = api_token_create(
                user=self.admin,
                name=principal,
                region=where,
                access=access,
                role="supply_company" if supply else None,
                company=company_for_tests(f"token-{next(TOKEN_COMPANIES)}", where) if supply else None,
            )
            client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        else:
            client.force_login(self.make_user(f"u-{role}", role, ROLES[role]))
        return client

    def submissions(self, regions, state):
        Submission.objects.bulk_create([Submission(region=r, period=self.period, state=state) for r in regions])

    def tick(self, codes, level):
        indicators = Indicator.objects.filter(indicator_set=self.period.indicator_set, level=level, encouraging=False)
        Checkmark.objects.bulk_create(
            [
                Checkmark(region=region, period=self.period, indicator=i, status="done", done_month=date(2022, 3, 1))
                for region in Region.objects.filter(code__in=codes)
                for i in indicators
            ]
        )

    def reports(self):
        for target in REPORTS:
            region = None if target == NATIONAL else Region.objects.get(code=target)
            kind = "national" if region is None else "attachment2"
            snapshot = ReportSnapshot(kind=kind, region=region, period=self.period, data={"rows": []}, data_state="测试")
            snapshot.xlsx.save(f"{target}.xlsx", ContentFile(b"PK\x03\x04"), save=False)
            snapshot.save()
            job = jobs.create(kind=JobKind.REPORT, region=region, user=None)
            jobs.finish(job)
            job = ReportJob.objects.create(job=job, period=self.period)
            job.snapshots.set([snapshot])
            self.objects[target] = job.pk, snapshot.pk

    def ledgers(self):
        """四川's and 重庆's own ledgers; item 3 given to a city, a county and another city's county
        of 四川, and to a county of 重庆."""
        national = Ledger.objects.get(code="national-2021")
        chongqing_admin = self.make_user("cq-admin", "province", "500000")
        own = {
            "510000": ledger_services.ledger_adapt(user=self.admin, region=Region.objects.get(code="510000"), year=2024, source=national),
            "500000": ledger_services.ledger_adapt(
                user=chongqing_admin, region=Region.objects.get(code="500000"), year=2024, source=national
            ),
        }
        assert {ledger.code for ledger in own.values()} == {LEDGERS[0], LEDGERS[2]}
        for code in ASSIGNMENTS:
            province = "500000" if code.startswith("50") else "510000"
            assignment = ledger_services.assignment_create(
                user=chongqing_admin if province == "500000" else self.admin,
                item=own[province].items.get(number=3),
                region=Region.objects.get(code=code),
                responsible_unit=f"{code}发改局",
            )
            self.objects[code] = assignment.pk

    def webhooks(self):
        """An endpoint per WEBHOOKS target, each with a delivery (of a change in 锦江 or 渝中)."""
        owners = {
            "510000": self.admin,
            "500000": self.make_user("cq-hooks", "province", "500000"),
            NATIONAL: self.make_user("nea-hooks", "national"),
        }
        endpoints = {t: webhook_endpoint_create(user=u, name=t, url="http://127.0.0.1:9/hook")[0] for t, u in owners.items()}
        for code in ("510104", "500103"):
            change_record(type="checkmark.changed", object_url="/x/", region=Region.objects.get(code=code), channel="web", data={})
        for target, endpoint in endpoints.items():
            self.objects[target] = endpoint.pk, endpoint.deliveries.first().pk


def _sheet_body(code):
    number = 21 if code.endswith("0000") else 1
    return {"checkmarks": [{"number": number, "status": "done", "done_month": "2022-03"}]}


P = "2022S1"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# endpoint: (the state it needs, how to call it on a target)
CALLS = {
    "GET regions/{code}/": (None, lambda c, w, t: c.get(f"/api/v1/regions/{t}/")),
    "GET periods/{p}/regions/{code}/": (None, lambda c, w, t: c.get(f"/api/v1/periods/{P}/regions/{t}/")),
    "GET periods/{p}/regions/{code}/checkmarks/": (None, lambda c, w, t: c.get(f"/api/v1/periods/{P}/regions/{t}/checkmarks/")),
    "PUT periods/{p}/regions/{code}/checkmarks/": (
        None,
        lambda c, w, t: c.put(f"/api/v1/periods/{P}/regions/{t}/checkmarks/", _sheet_body(t), format="json", HTTP_IF_MATCH="*"),
    ),
    "POST periods/{p}/regions/{code}/checkmarks/{n}/evidence/": (
        None,
        lambda c, w, t: c.post(
            f"/api/v1/periods/{P}/regions/{t}/checkmarks/{_sheet_body(t)['checkmarks'][0]['number']}/evidence/",
            {"file": SimpleUploadedFile("佐证.pdf", PDF, content_type="application/pdf")},
            format="multipart",
        ),
    ),
    "POST periods/{p}/regions/{code}/submit/": (
        lambda w: w.tick(COUNTIES, "county"),
        lambda c, w, t: c.post(f"/api/v1/periods/{P}/regions/{t}/submit/"),
    ),
    "POST periods/{p}/regions/{code}/return/": (
        lambda w: w.submissions(Region.objects.filter(code__in=COUNTIES), "submitted"),
        lambda c, w, t: c.post(f"/api/v1/periods/{P}/regions/{t}/return/", {"reason": "请补充佐证"}, format="json"),
    ),
    "POST periods/{p}/regions/{code}/approve/": (
        lambda w: w.submissions(Region.objects.filter(code__in=COUNTIES), "submitted"),
        lambda c, w, t: c.post(f"/api/v1/periods/{P}/regions/{t}/approve/"),
    ),
    "POST periods/{p}/regions/{code}/accept/": (
        lambda w: w.submissions(Region.objects.filter(parent__code__in=CITIES), "approved"),
        lambda c, w, t: c.post(f"/api/v1/periods/{P}/regions/{t}/accept/"),
    ),
    "POST periods/{p}/regions/{code}/confirm/": (
        lambda w: (w.submissions(Region.objects.filter(parent__code__in=PROVINCES), "accepted"), w.tick(PROVINCES, "province")),
        lambda c, w, t: c.post(f"/api/v1/periods/{P}/regions/{t}/confirm/"),
    ),
    "POST periods/{p}/regions/{code}/reopen/": (
        lambda w: w.submissions(Region.objects.filter(code__in=PROVINCES), "confirmed"),
        lambda c, w, t: c.post(f"/api/v1/periods/{P}/regions/{t}/reopen/", {"reason": "更正"}, format="json"),
    ),
    "GET benefits/{code}/2022/1/": (None, lambda c, w, t: c.get(f"/api/v1/benefits/{t}/2022/1/")),
    "PUT benefits/{code}/2022/1/": (
        None,
        lambda c, w, t: c.put(f"/api/v1/benefits/{t}/2022/1/", {"residential": {"households": 3}}, format="json"),
    ),
    "POST periods/{p}/regions/{code}/report-jobs/ and periods/{p}/report-jobs/": (
        None,
        lambda c, w, t: c.post(f"/api/v1/periods/{P}/report-jobs/" if t == NATIONAL else f"/api/v1/periods/{P}/regions/{t}/report-jobs/"),
    ),
    **{
        f"GET ledgers/{{code}}/{path}": (World.ledgers, lambda c, w, t, sub=sub: c.get(f"/api/v1/ledgers/{t}/{sub}"))
        for path, sub in (("", ""), ("items/", "items/"), ("items/{n}/", "items/3/"))
    },
    "PUT ledgers/{code}/items/{n}/": (
        World.ledgers,
        lambda c, w, t: c.put(f"/api/v1/ledgers/{t}/items/3/", {"task": "新的任务", "due_text": "2024年6月底前"}, format="json"),
    ),
    "POST ledgers/{code}/items/{n}/assignments/": (
        World.ledgers,
        lambda c, w, t: c.post(
            f"/api/v1/ledgers/{t}/items/5/assignments/",
            {"region": "500103" if t.startswith("50") else "510104", "responsible_unit": "发改局"},
            format="json",
        ),
    ),
    "GET assignments/{id}/": (World.ledgers, lambda c, w, t: c.get(f"/api/v1/assignments/{w.objects[t]}/")),
    "GET assignments/{id}/progress/": (World.ledgers, lambda c, w, t: c.get(f"/api/v1/assignments/{w.objects[t]}/progress/")),
    "POST assignments/{id}/progress/": (
        World.ledgers,
        lambda c, w, t: c.post(
            f"/api/v1/assignments/{w.objects[t]}/progress/", {"status": "in_progress", "note": "推进中"}, format="json", HTTP_IF_MATCH="*"
        ),
    ),
    "POST assignments/{id}/review/": (
        World.ledgers,
        lambda c, w, t: c.post(f"/api/v1/assignments/{w.objects[t]}/review/", {"note": "请加快进度"}, format="json"),
    ),
    "POST assignments/{id}/press/": (
        World.ledgers,
        lambda c, w, t: c.post(f"/api/v1/assignments/{w.objects[t]}/press/", {"note": "请于本周内报送进展"}, format="json"),
    ),
    "POST webhooks/": (
        None,
        lambda c, w, t: c.post("/api/v1/webhooks/", {"name": "政务平台", "url": "http://127.0.0.1:9/"}, format="json"),
    ),
    **{
        f"{method} webhooks/{{id}}/{path}": (
            World.webhooks,
            lambda c, w, t, method=method, path=path: getattr(c, method.lower())(
                f"/api/v1/webhooks/{w.objects[t][0]}/{path.replace('{delivery_id}', str(w.objects[t][1]))}"
            ),
        )
        for method, path in (
            ("GET", ""),
            ("GET", "deliveries/"),
            ("POST", "disable/"),
            ("POST", "replay-failed/"),
            ("POST", "deliveries/{delivery_id}/replay/"),
        )
    },
    "GET report-jobs/{id}/": (World.reports, lambda c, w, t: c.get(f"/api/v1/report-jobs/{w.objects[t][0]}/")),
    "GET report-snapshots/{id}/": (World.reports, lambda c, w, t: c.get(f"/api/v1/report-snapshots/{w.objects[t][1]}/")),
    "GET report-snapshots/{id}/xlsx/": (World.reports, lambda c, w, t: c.get(f"/api/v1/report-snapshots/{w.objects[t][1]}/xlsx/")),
    "GET periods/{p}/regions/{code}/scorecard/": (None, lambda c, w, t: c.get(f"/api/v1/periods/{P}/regions/{t}/scorecard/")),
    "GET periods/{p}/regions/{code}/service-levels/": (None, lambda c, w, t: c.get(f"/api/v1/periods/{P}/regions/{t}/service-levels/")),
}


def call(endpoint):
    if endpoint in CALLS:
        return CALLS[endpoint]
    path = endpoint.split()[1].replace("{p}", P)
    return None, lambda c, w, t: c.get(f"/api/v1/{path}")


def test_the_matrix_covers_every_operation_of_the_schema(client):
    """Every documented operation has its row here: a new endpoint cannot skip the matrix."""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    documented = {f"{method.upper()} {path.removeprefix('/api/v1/')}" for path, item in schema["paths"].items() for method in item}
    covered = set()
    for endpoint in MATRIX:
        method, paths = endpoint.split(" ", 1)
        covered |= {f"{method} {path}" for path in paths.split(" and ")}

    def shape(operation):  # path parameters by position, whatever their names
        method, path = operation.split(" ", 1)
        parts = ["{}" if part.startswith("{") or part in ("national-2021", "2022", "1") else part for part in path.split("/")]
        return method, "/".join(parts)

    assert {shape(o) for o in documented} == {shape(o) for o in covered}


@pytest.mark.parametrize("endpoint, principal", [(e, p) for e in MATRIX for p in PRINCIPALS])
def test_permission_matrix(endpoint, principal, period, make_user, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    cache.clear()  # throttle counts from earlier tests
    world = World(period, make_user)
    prepare, request = call(endpoint)
    if prepare:
        prepare(world)
    client = world.client(principal)
    actual = {}
    for target in MATRIX[endpoint][0]:
        with transaction.atomic():  # each cell starts from the same data
            response = request(client, world, target)
            transaction.set_rollback(True)
        if response.streaming:  # read the file to its end: the test client then closes it
            b"".join(response.streaming_content)
        actual[target] = str(response.status_code)
    assert actual == expected(endpoint, principal)
