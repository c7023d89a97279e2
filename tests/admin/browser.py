"""Helpers of the browser tests: the whole application on a loopback port, headless Chromium."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import create_web_app
from tests.admin.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}  # a council laptop
try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # the test extras are not installed
    async_playwright = None

# Marks that skip a module, saying why, when there is no browser to drive.
NEEDS_BROWSER = [
    pytest.mark.skipif(async_playwright is None,
                       reason="navigateur : le paquet Python playwright n'est pas installé "
                              "(pip install -e '.[test]')"),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"navigateur : {CHROMIUM} est absent (apt-get install chromium)"),
]


@asynccontextmanager
async def serving(relais) -> AsyncIterator[str]:
    """Runs the whole application on a free loopback port; yields its address."""
    runner = web.AppRunner(create_web_app(relais, work=False))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def chromium() -> AsyncIterator["Browser"]:
    """Launches a headless Chromium; yields it."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Tab:
    """A browser page and what it reported: dialogs opened, errors in its console."""

    page: "Page"
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@asynccontextmanager
async def tab_on(browser: "Browser", server: str) -> AsyncIterator[Tab]:
    """Opens a page in a fresh context on the server, recording dialogs and console errors."""
    context = await browser.new_context(base_url=server, accept_downloads=True,
                                        locale="fr-FR", viewport=VIEWPORT)
    tab = Tab(await context.new_page())

    async def dismiss(dialog) -> None:
        tab.dialogs.append(dialog.message)
        await dialog.dismiss()

    tab.page.on("dialog", dismiss)
    tab.page.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    try:
        yield tab
    finally:
        await context.close()


async def sign_in(page: "Page", email: str, password: str = PASSWORD) -> None:
    """Signs in through the form, with the keyboard, and waits for the role's start page."""
    await page.goto("/admin/connexion")
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(password)
    await page.get_by_label("Mot de passe").press("Enter")
    await page.wait_for_url(lambda url: "/admin/connexion" not in url)
