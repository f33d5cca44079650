"""Browser tests of the console: Debian's Chromium driven by Playwright (no browser download) against
the real stack (the four services and the console as processes, real Kafka and store)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize, sync_playwright

from tests.support.pulse_system import CONSOLE, PulseSystem

from ..conftest import bearer

CHROMIUM = os.environ.get("PULSE_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
NAM_CUONG = "04273"  # Phường Nam Cường: used by no other e2e test, so its hot spots are these tests' own
AU_LAU = "04543"  # Phường Âu Lâu
PHONE: ViewportSize = {"width": 390, "height": 844}
PASSWORD = "Mat-khau-bdd-2026"
FLASH_TEXT = "Hàng trăm người dân tụ tập chặn đường phản đối cưỡng chế giải phóng mặt bằng"


@dataclass(frozen=True)
class Person:
    """A user the tests created, with what the browser needs to sign in."""

    id: str
    username: str
    password: str
    full_name: str


@pytest.fixture(scope="session")
def system_env() -> dict[str, str]:
    """The console's stack runs triage's defaults (no province parents): its tests tell one flash text in two
    wards and expect each ward's duty page."""
    return {}


@pytest.fixture(scope="session")
def console(system: PulseSystem) -> str:
    """The console process (started once beside the four services); its base URL."""
    if CONSOLE not in system.processes:
        system.start(CONSOLE)
    return system.url(CONSOLE)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver (it talks to the browser; it downloads nothing).

    The sync API leaves an event loop marked running in this thread, which breaks later async tests of
    the same process even after it stops, so `make test` runs these tests in a pytest process of their own."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium from Debian's package."""
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
    ]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    yield browser
    browser.close()


@pytest.fixture
def desk(browser: Browser, console: str) -> Iterator[BrowserContext]:
    """A desktop browser profile (its own cookies)."""
    context = browser.new_context(base_url=console, viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def phone(browser: Browser, console: str) -> Iterator[BrowserContext]:
    """A phone-sized browser profile (its own cookies)."""
    context = browser.new_context(
        base_url=console, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale="vi-VN"
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def person(system: PulseSystem, admin_token: str, *, username: str, role: str, units: list[str], name: str) -> Person:
    """Create a user through intake (or find the one an earlier test created)."""
    intake = system.url("intake")
    body = {"username": username, "password": PASSWORD, "full_name": name, "role": role, "unit_codes": units}
    created = httpx.post(f"{intake}/v1/users", json=body, headers=bearer(admin_token))
    if created.status_code == 201:
        return Person(created.json()["id"], username, PASSWORD, name)
    assert created.status_code == 409, created.text
    found = httpx.get(f"{intake}/v1/users", params={"q": username}, headers=bearer(admin_token)).json()["items"]
    user = next(u for u in found if u["username"] == username)
    return Person(user["id"], username, PASSWORD, name)


def sign_in(page: Page, who: Person) -> None:
    """Sign in through the console's form."""
    page.goto("/login")
    page.fill("input[name=username]", who.username)
    page.fill("input[name=password]", who.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("[data-testid=who]")


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
