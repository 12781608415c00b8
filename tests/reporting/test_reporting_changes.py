"""The change feed's events from the reporting services (issue 16 §1): each 附件3 figure row written
and each snapshot stored or confirmed, in the write's own transaction, at a path that answers 200 to a
user in scope; a refused write records none; a sheet's rows are recorded in one statement."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Region
from reporting import services
from reporting.tables import BENEFIT_CATEGORIES
from tests.helpers import events, last_seq, read

pytestmark = pytest.mark.django_db

BENEFIT, SNAPSHOT = "benefit.changed", "snapshot.compiled"
CHENGDU, SICHUAN = "510100", "510000"
FIGURES = {
    ("residential", "households"): "1520",
    ("residential", "investment"): "356.2",
    ("residential", "sales"): "88",
    ("residential", "capacity"): "12.50",
    ("sansheng", "households"): "95",
}


@pytest.fixture
def supply(make_user):
    return make_user("s", "supply_company", CHENGDU)  # its own company, serving 成都市


@pytest.fixture
def official(make_user):
    return make_user("p", "province", SICHUAN, last_name="省能源局", phone="13800000000")


# --- 附件3 figures --------------------------------------------------------------------------------


def test_each_figure_row_written_is_an_event_as_stored(supply, official):
    services.benefits_set(user=supply, region=Region.objects.get(code=CHENGDU), year=2022, half=1, figures=FIGURES)
    written = events(BENEFIT)
    assert [e.data["category"] for e in written] == [category for category, _label in BENEFIT_CATEGORIES]
    assert {(e.region.code, e.channel, e.user, e.object_url) for e in written} == {
        (CHENGDU, "web", supply, f"/api/v1/benefits/{CHENGDU}/2022/1/")
    }
    residential = written[0].data
    assert residential == {
        "company": supply.company.code,
        "region": CHENGDU,
        "year": 2022,
        "half": 1,
        "category": "residential",
        "households": 1520,
        "saved_cost": "356.20",
        "investment": "356.20",
        "sales": "88.00",
        "capacity": "12.50",
    }
    assert written[1].data["households"] == 0 and written[1].data["saved_cost"] == "0.00"
    # The company reads its own sheet there, the province the sum of the companies: here the same.
    for user in (supply, official):
        figures = read(user, written[0])["figures"]["residential"]
        assert (figures["households"], figures["investment"]) == (1520, "356.20")


def test_figures_put_through_the_api_are_api_events(client_for):
    api = client_for(CHENGDU, role="supply_company")
    assert api.put(f"/api/v1/benefits/{CHENGDU}/2022/2/", {"other": {"households": 7}}, format="json").status_code == 200
    written = events(BENEFIT)
    assert {e.channel for e in written} == {"api"} and [e.data["households"] for e in written if e.data["category"] == "other"] == [7]


def test_refused_figures_record_nothing(supply, make_user):
    chengdu = Region.objects.get(code=CHENGDU)
    with pytest.raises(ValidationError):  # one bad figure: nothing of the sheet is stored
        services.benefits_set(user=supply, region=chengdu, year=2022, half=1, figures={**FIGURES, ("other", "sales"): "abc"})
    with pytest.raises(ValidationError, match="不在"):  # another level than the company's service area
        services.benefits_set(user=supply, region=Region.objects.get(code="510104"), year=2022, half=1, figures=FIGURES)
    with pytest.raises(PermissionDenied):  # out of the user's scope
        services.benefits_set(user=supply, region=Region.objects.get(code="511100"), year=2022, half=1, figures=FIGURES)
    with pytest.raises(PermissionDenied):  # not a supply company
        services.benefits_set(user=make_user("k", "county", "510104"), region=chengdu, year=2022, half=1, figures=FIGURES)
    assert last_seq() == 0


def test_a_sheets_rows_are_recorded_in_one_statement_whether_created_or_updated(supply):
    chengdu = Region.objects.get(code=CHENGDU)
    for figures in (FIGURES, {("other", "households"): "3"}):
        start = last_seq()
        with CaptureQueriesContext(connection) as queries:
            services.benefits_set(user=supply, region=chengdu, year=2022, half=1, figures=figures)
        assert len(events(BENEFIT, after=start)) == len(BENEFIT_CATEGORIES)
        assert sum("accounts_changeevent" in q["sql"] for q in queries) == 1


# --- snapshots ------------------------------------------------------------------------------------


def test_compiled_and_confirmed_snapshots_are_events(period, official, make_user, media):
    sichuan = Region.objects.get(code=SICHUAN)
    snapshots = services.report_compile(user=official, province=sichuan, period=period)
    compiled = events(SNAPSHOT)
    assert [e.data["id"] for e in compiled] == [s.pk for s in snapshots]
    first = compiled[0]
    assert (first.region, first.channel, first.user, first.object_url) == (
        sichuan,
        "system",
        official,
        f"/api/v1/report-snapshots/{snapshots[0].pk}/",
    )
    shown = read(official, first)
    assert {k: first.data[k] for k in ("id", "kind", "period", "region", "confirmed_at", "data_state")} == {
        k: shown[k] for k in ("id", "kind", "period", "region", "confirmed_at", "data_state")
    }
    assert (first.data["action"], first.data["program"], first.data["confirmed_at"]) == ("compile", period.program.code, None)
    assert first.data["created_at"] == shown["compiled_at"]

    start = last_seq()
    services.snapshot_confirm(user=official, snapshot=snapshots[0])
    [confirmed] = events(SNAPSHOT, after=start)
    assert (confirmed.data["action"], confirmed.data["id"], confirmed.channel) == ("confirm", snapshots[0].pk, "web")
    assert confirmed.data["confirmed_at"] == read(official, confirmed)["confirmed_at"] is not None

    start = last_seq()
    with pytest.raises(ValidationError, match="已经确认"):
        services.snapshot_confirm(user=official, snapshot=snapshots[0])
    with pytest.raises(PermissionDenied):
        services.report_compile(user=make_user("c", "city", CHENGDU), province=sichuan, period=period)
    assert last_seq() == start


def test_the_national_roll_up_is_an_event_of_no_region(period, make_user, media):
    national = make_user("n", "national")
    [snapshot] = services.report_compile(user=national, province=None, period=period)
    [event] = events(SNAPSHOT)
    assert (event.region, event.data["region"], event.data["kind"]) == (None, None, "national")
    assert read(national, event)["id"] == snapshot.pk
