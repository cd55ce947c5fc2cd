"""Page helpers for driving Robotfabrik in headless Chromium (Playwright, sync API).

Reusable by any browser test, including the end-to-end tests against a real
Prefect server: log in, open a case, read the material, sign with the keyboard
alone, check accessibility with axe-core. Selectors use roles, labels and ids
that the templates promise, never layout.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, expect

from municipality.demo import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")

# Outcome radio buttons in the order the decision form lists them.
OUTCOMES = ("approved", "partly_approved", "refused", "returned")


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless; no browser download is needed or possible."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def login(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in with the keyboard: the username field has focus on arrival."""
    page.goto(f"{base_url}/accounts/login/")
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    expect(page.locator("form.logout")).to_be_visible()


def open_case(page: Page, base_url: str, case_id: int) -> None:
    page.goto(f"{base_url}/cases/{case_id}/")
    expect(page.locator("h1")).to_contain_text(re.compile(r"\S"))


def material_frame(page: Page):
    """The decision material shown on the case page (loading it is what counts as opening it)."""
    return page.frame_locator("iframe.material")


def read_material(page: Page, *, expect_text: str | None = None) -> None:
    """Wait until the embedded material has loaded (and shows `expect_text`, if given)."""
    body = material_frame(page).locator("body")
    expect(body).to_be_visible()
    if expect_text:
        expect(body).to_contain_text(expect_text)


def focused(page: Page) -> dict:
    """What has keyboard focus: tag, type, id, name, value, href, text."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            return {tag: e.tagName.toLowerCase(), type: e.type || '', id: e.id || '',
                    name: e.name || '', value: e.value || '',
                    href: e.getAttribute('href') || '',
                    text: (e.innerText || '').trim().slice(0, 80)};
        }"""
    )


def tab_until(page: Page, matches, *, limit: int = 80, key: str = "Tab") -> dict:
    """Press Tab until the focused element satisfies `matches`; fail after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press(key)
        current = focused(page)
        if matches(current):
            return current
    raise AssertionError(f"never reached the element with {limit} presses of {key}")


def sign_with_keyboard(
    page: Page,
    *,
    outcome: str = "approved",
    amount: int | None = None,
    motivation: str | None = None,
) -> None:
    """Decide on the open case page with the keyboard alone (Tab, arrows, Space, Enter).

    Uses the "skip to the decision" link, chooses the outcome among the radio buttons,
    fills in amount and motivation if given, and submits with Enter on the button.
    """
    tab_until(page, lambda e: e["href"] == "#decide-h")
    page.keyboard.press("Enter")
    first = tab_until(page, lambda e: e["type"] == "radio" and e["name"] == "outcome")
    assert first["value"] == OUTCOMES[0], first
    for _ in range(OUTCOMES.index(outcome)):
        page.keyboard.press("ArrowDown")  # moves and checks the next radio button
    page.keyboard.press("Space")
    expect(page.locator(f'input[name="outcome"][value="{outcome}"]')).to_be_checked()
    tab_until(page, lambda e: e["name"] == "amount")
    if amount is not None:
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.type(str(amount))
    tab_until(page, lambda e: e["name"] == "motivation")
    if motivation:
        page.keyboard.type(motivation)
    tab_until(page, lambda e: e["tag"] == "button" and e["type"] == "submit")
    with page.expect_navigation(wait_until="load"):  # the result page, its material frame too
        page.keyboard.press("Enter")


def axe_violations(page: Page, *, impacts=BLOCKING_IMPACTS) -> list[dict]:
    """WCAG 2.1 A/AA violations axe-core finds on the page (and its same-origin frames).

    Returns [{id, impact, help, targets}] for the given impacts (serious and critical
    by default), so a failing assertion says what to fix and where.
    """
    page.add_script_tag(path=str(AXE))
    for frame in page.frames[1:]:
        frame.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})""",
        WCAG_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]
