"""Every page at phone width (390 × 844): no sideways scroll, every control on screen.

A control counts as reachable when its box lies within the screen's width: a person
can scroll down to it, never sideways.
"""

import pytest
from playwright.sync_api import expect

from tests.dashboard.browser import screenshot
from tests.dashboard.seed import LONG_AGENT, seed_system

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# What lies outside the screen's width, and how wide the page is.
MEASURE = """() => {
    const width = document.documentElement.clientWidth;
    const off = [];
    const controls = "button, a[href], input, select, textarea, summary, canvas";
    for (const el of document.querySelectorAll(controls)) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;  // not displayed
        if (el.closest("[hidden], .offscreen")) continue;
        if (box.left < -0.5 || box.right > width + 0.5) {
            const name = (el.id ? "#" + el.id : el.tagName.toLowerCase()) +
                " " + (el.textContent || el.value || "").trim().slice(0, 30);
            off.push(`${name} [${Math.round(box.left)}, ${Math.round(box.right)}]`);
        }
    }
    return {
        width,
        scrollWidth: Math.max(document.documentElement.scrollWidth,
                              document.body.scrollWidth),
        off,
    };
}"""


def at_phone_width(page):
    page.set_viewport_size(PHONE)
    assert page.evaluate("() => window.innerWidth") == PHONE["width"]


def assert_fits(page, name: str) -> None:
    measured = page.evaluate(MEASURE)
    assert measured["scrollWidth"] <= PHONE["width"], (
        f"{name} is {measured['scrollWidth']} px wide: {measured['off']}"
    )
    assert measured["off"] == [], f"{name}: controls off screen: {measured['off']}"


@pytest.fixture
def system(db):
    return seed_system()


@pytest.mark.parametrize(
    "name, path, ready",
    [
        ("board", "/", ".mission-card"),
        ("mission", "/missions/{running}/", "#log .line"),
        ("events", "/events/", "#feed-rows tr"),
        ("agents", "/agents/?agent=scout-1", "#agent-rows tr"),
        ("robots", "/robots/?robot=go2-alpha", "#robot-rows tr"),
        ("robot", "/robots/go2-alpha/", "#command-rows tr"),
        ("credits", "/credits/?agent=scout-1", "#balance-rows tr"),
    ],
)
def test_every_page_fits_a_phone_with_every_control_on_screen(
    dash_server, pages, make_user, system, name, path, ready
):
    operator = make_user("operator", name="ada")
    page = pages.open(dash_server, operator, path.format(running=system["running"].id))
    at_phone_width(page)
    page.locator(ready).first.wait_for()
    page.wait_for_load_state("networkidle")
    assert_fits(page, name)
    if name == "events":
        page.locator(".type-filter summary").click()  # the type chips
        page.locator("#feed-rows tr.event").first.click()  # an expanded payload
        expect(page.locator("#feed-rows tr.expanded")).to_have_count(1)
        assert_fits(page, "events, filter and payload open")
    if name == "mission":
        screenshot(page, "phone-mission", full_page=False)


def test_the_controls_the_issue_named_are_on_a_phone_screen(
    dash_server, pages, make_user, system
):
    operator = make_user("operator")
    agents = pages.open(dash_server, operator, "/agents/")
    at_phone_width(agents)
    row = agents.locator(f'#agent-rows tr[data-agent-id="{LONG_AGENT}"]')
    pause = row.get_by_role("button", name="Pause")
    pause.scroll_into_view_if_needed()
    expect(pause).to_be_in_viewport()

    robots = pages.open(dash_server, operator, "/robots/")
    at_phone_width(robots)
    stop = robots.locator('#robot-rows tr[data-robot-id="go2-alpha"]').get_by_role(
        "button", name="Stop"
    )
    stop.scroll_into_view_if_needed()
    expect(stop).to_be_in_viewport()

    mission = pages.open(dash_server, operator, f"/missions/{system['running'].id}/")
    at_phone_width(mission)
    # A long message wraps between words, not inside them ("uploadin g").
    message = mission.locator("#log .line .msg", has_text="uploading results")
    first_word_top = message.evaluate(
        """el => {
            const range = document.createRange();
            const text = el.firstChild;
            range.setStart(text, 0);
            range.setEnd(text, "uploading".length);
            const rects = [...range.getClientRects()];
            return rects.length;
        }"""
    )
    assert first_word_top == 1, "the word 'uploading' is split over two lines"


@pytest.mark.parametrize("path", ["/login/", "/missions/no-such-mission/"])
def test_the_sign_in_and_error_pages_fit_a_phone(dash_server, pages, path):
    pages.allow(r"status of 404 \(Not Found\)")  # the error page's own status
    page = pages.open(dash_server, None, path, wait_live=False)
    at_phone_width(page)
    expect(page.locator("h1")).to_contain_text("BRAiN")
    assert_fits(page, path)
