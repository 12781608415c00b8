"""The demo site walked page by page in the browser (phone layout, accessibility): ``seed_demo``'s
Sichuan with a user of every role, and the pages each role uses."""

import io

import pytest
from django.core.management import call_command

from accounts.services import DEMO_PASSWORD

# The demo users (accounts.services.DEMO_USERS), one per kind of official and the supply company.
ROLES = ("demo_county", "demo_city", "demo_province", "demo_national", "demo_regulator", "demo_supply")


def demo_login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1")


@pytest.fixture
def demo_pages(transactional_db, reference_data, media):
    """``seed_demo`` run; returns {username: [path, …]}: every page of the main flows per role."""
    from django.utils import timezone

    from indicators.models import Period, Program
    from ledger.models import Ledger

    call_command("seed_demo", stdout=io.StringIO())
    periods = Period.objects.filter(program__code=Program.NATIONAL).order_by("-ends")
    period = periods.first().code
    # The demo's application records and reliability figures are of the periods already ended.
    ended = periods.filter(ends__lt=timezone.localdate()).first().code
    measured = [f"/reporting/scorecard/?period={ended}&region=510000", f"/periods/{ended}/service-levels/510000/"]
    ledger = Ledger.objects.filter(region__code="510000").order_by("pk").first()  # Sichuan's, which every demo user reads
    common = ["/", "/notifications/", "/ledgers/", f"/ledgers/{ledger.code}/", "/account/sessions/", "/account/otp/"]
    sheet, p = f"/periods/{period}/sheet/510104/", f"/periods/{period}"
    reports = ["/reporting/pictures/", "/reporting/pictures/?region=all", "/reporting/", "/reporting/changes/"]
    return {
        "demo_county": [*common, sheet, f"{p}/history/510104/", f"{p}/promises/510104/"],
        "demo_city": [
            *common,
            f"{p}/review/510100/",
            sheet,
            f"{p}/promises/510100/",
            "/ledgers/pressing/",
            *[path.replace("510000", "510100") for path in measured],
        ],
        "demo_province": [
            *common,
            f"{p}/province/510000/",
            f"{p}/blocking/510000/",
            f"{p}/promises/510000/",
            f"{p}/review/510100/",
            *reports,
            "/ledgers/pressing/",
            *measured,
        ],
        "demo_national": [*common, "/reporting/pictures/", "/reporting/pictures/?region=510000", "/reporting/", f"{p}/province/510000/"],
        "demo_regulator": [*common, *reports, f"{p}/province/510000/", f"{p}/blocking/510000/"],
        "demo_supply": [*common, "/reporting/benefits/"],
    }
