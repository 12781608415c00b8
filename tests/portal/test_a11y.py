"""Accessibility (issue 17 §8, WCAG 2.1 AA): axe-core (PyPI axe-playwright-python, which ships it)
run on every page of every role, at a desktop and a phone width: no serious or critical violation."""

import pytest

from tests.portal.conftest import ROLES, demo_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def serious(results):
    """The serious and critical violations, each as rule id, its help and the first few targets."""
    return [
        (v["id"], v["help"], [node["target"] for node in v["nodes"][:3]])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("size", SIZES)
def test_no_serious_violations_on_any_page_for_any_role(browser_page, live_server, demo_pages, size):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = browser_page
    page.set_viewport_size(SIZES[size])
    found = []
    for username in ROLES:
        page.context.clear_cookies()
        demo_login(page, live_server, username)
        for path in demo_pages[username]:
            page.goto(f"{live_server.url}{path}")
            violations = serious(axe.run(page))
            if violations:
                found.append((username, path, violations))
    assert not found, "\n".join(map(repr, found))


def test_the_login_page_has_no_serious_violations(browser_page, live_server):
    from axe_playwright_python.sync_playwright import Axe

    browser_page.goto(f"{live_server.url}/login/")
    assert not serious(Axe().run(browser_page))
