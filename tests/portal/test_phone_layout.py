"""Every page of every role at 390×844 (issue 17 §7): no horizontal page scroll (wide tables scroll
inside their own container), and the officials' navigation folded into a menu that opens."""

import pytest

from tests.helpers import screenshot
from tests.portal.conftest import ROLES, demo_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_every_page_fits_a_phone_for_every_role(browser_page, live_server, demo_pages):
    page = browser_page
    page.set_viewport_size(PHONE)
    too_wide = []
    for username in ROLES:
        page.context.clear_cookies()
        demo_login(page, live_server, username)
        for path in demo_pages[username]:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, (username, path, response.status)
            if path == "/" or path.startswith("/reporting/pictures/"):
                query = path.partition("?")[2].replace("=", "-") or "default"
                screenshot(page, f"phone-{username}-{'home' if path == '/' else 'pictures-' + query}")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"] + 1:
                widest = page.evaluate(
                    """() => [...document.querySelectorAll('main *, header *')]
                        .filter(e => e.getBoundingClientRect().right > 391 && !e.closest('table, .table-scroll, .heatmap-wrap, .matrix-wrap'))
                        .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
                )
                too_wide.append((username, path, width, widest))
    assert not too_wide, too_wide


def test_the_officials_menu_folds_on_a_phone_and_opens_without_script(browser_page, live_server, demo_pages):
    page = browser_page
    page.set_viewport_size(PHONE)
    demo_login(page, live_server, "demo_province")
    nav = page.locator("header nav")
    assert not nav.is_visible() and page.locator(".menu-button").is_visible()
    page.click(".menu-button")
    assert nav.is_visible() and page.locator("header nav a", has_text="统计报表").is_visible()
    screenshot(page, "phone-demo_province-menu-open")
    page.click(".menu-button")  # closed again
    assert not nav.is_visible()
    page.set_viewport_size({"width": 1366, "height": 900})  # a desktop: no menu, the links in the bar
    assert not page.locator(".menu-button").is_visible() and nav.is_visible()
