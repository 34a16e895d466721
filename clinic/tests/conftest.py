"""Browser fixtures for the page tests: the system Chromium, launched offline-friendly.

Playwright's sync API runs an event loop in this thread while a page is open, so Django's
async-safety check would refuse the ORM calls a test makes meanwhile; it is lifted for the
lifetime of the page only.
"""

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at /usr/bin/chromium (never a download)."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def page(monkeypatch, browser_type_launch_args):
    """A fresh Chromium page per test, its Playwright (and event loop) stopped afterwards.

    pytest-playwright's own `page` hangs off a session-wide Playwright whose event loop keeps
    running in the main thread until the end of the run, which breaks every asyncio test
    (websockets, channels) collected after the first browser test. While the loop runs,
    Django keeps the thread's database connection per context: it is closed before the
    loop stops, or it would block dropping the test database at the end of the run.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**browser_type_launch_args)
        context = browser.new_context()
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            connections.close_all()
