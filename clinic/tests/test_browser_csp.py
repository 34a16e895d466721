"""In a real browser: every kind of page runs under the strict CSP (our scripts by nonce, no
'unsafe-inline') without a single violation - site pages, account and two-factor pages, admin."""

import pytest
from playwright.sync_api import expect

from analysis.tests.support import analysed
from conftest import PASSWORD

pytestmark = pytest.mark.browser

# Recorded by the page itself, from its very first script on (Playwright's init scripts are
# not subject to the page's CSP).
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watcher:
    """Loads pages and collects CSP violations from events and from the console."""

    def __init__(self, page, base):
        self.page, self.base, self.seen = page, base, []
        page.add_init_script(LISTEN)
        page.on(
            "console",
            lambda msg: "Content Security Policy" in msg.text and self.seen.append(msg.text),
        )

    def visit(self, path):
        response = self.page.goto(self.base + path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "unsafe-inline" not in policy
        self.page.wait_for_load_state("load")
        self.seen += [f"{path}: {v}" for v in self.page.evaluate("window.__csp")]
        return response

    def sign_in(self, email):
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_pages_run_without_csp_violations(
    live_server, transactional_db, browser_context, carol, zoe, alices_patient, session_of
):
    session = session_of(alices_patient)
    recording = analysed(session, "round1.c3d")
    page = browser_context.new_page()
    page.set_default_timeout(15_000)
    watch = Watcher(page, live_server.url)

    watch.sign_in(carol.email)
    pk = alices_patient.pk
    for path in (
        "/",
        "/patients/",
        f"/patients/{pk}/",
        f"/patients/{pk}/progress/",
        f"/patients/{pk}/calibrations/",
        f"/patients/{pk}/protocol/",
        f"/patients/{pk}/edit/",
        f"/recordings/{recording.pk}/results/",
        f"/sessions/recordings/{recording.pk}/",
        "/clinic/settings/",
        "/analysis/try/",
        "/accounts/2fa/",
        "/accounts/sessions/",
        "/accounts/password/change/",
    ):
        watch.visit(path)

    # Our scripts run by this response's nonce (the session page loads session-status.js).
    response = watch.visit(f"/sessions/{session.pk}/")
    assert "'nonce-" in response.headers["content-security-policy"]
    scripts = page.locator("script[src*='session-status']")
    expect(scripts).to_have_count(1)
    page.wait_for_load_state("networkidle")

    # Two-factor setup: allauth asks for the password again, then shows the QR code.
    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_label("Authenticator code")).to_be_visible()
    watch.visit("/accounts/2fa/totp/activate/")

    page.get_by_role("button", name="Log out").click()
    watch.sign_in(zoe.email)
    for path in (
        "/admin/",
        "/admin/patients/patient/",
        f"/admin/patients/patient/{pk}/change/",
        "/admin/clinic/user/add/",
        "/admin/auth/group/",
    ):
        watch.visit(path)

    assert watch.seen == []
