"""The screenshot set (issue 16): every staff page, for each demo persona, at 1366 and 768 px.

    PORT=8766 ./scripts/run &                  # the demo server, on its SQLite demo data
    .venv/bin/python bench/screenshots.py --url http://127.0.0.1:8766 --out var/screenshots

The pages are the browser tests' list (``config/tests/staff_pages.py``: every URL pattern of
the site, from the resolver), filled with the demo's own objects: for each persona a patient it
may see, that patient's newest session with an analysed recording, and that recording. The
script reads them from the demo database (the same settings as ``scripts/run``), signs in
through the login page with the demo password, and writes one full-page PNG per page, persona
and width: ``OUT/<persona>/<width>/<page>.png``, plus ``OUT/INDEX.md``, a table of every shot
(status, page height, and whether anything but a table's own scrolling frame runs past the
window's edge). Pages a persona may not open are listed with their status, not shot.

The PNGs are an artefact to look at (a few hundred files): they are not committed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402

django.setup()

from playwright.sync_api import sync_playwright  # noqa: E402

from clinic.management.commands.seed_demo import DEFAULT_PASSWORD  # noqa: E402
from clinic.models import User  # noqa: E402
from config.tests.staff_pages import ANONYMOUS_PAGES, PAGES, admin_pages  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from patients.models import Patient  # noqa: E402
from sessions.models import Recording  # noqa: E402

WIDTHS = (1366, 768)
PERSONAS = {
    "therapist": "therapist@demo.myoclinic.org",
    "manager": "manager@demo.myoclinic.org",
    "researcher": "researcher@demo.myoclinic.org",
    "admin": "admin@demo.myoclinic.org",
}
# Elements past the window's right edge, outside a frame that scrolls sideways by itself.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const inFrame = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  return [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && !inFrame(e))
    .filter((e) => e.getClientRects().length > 0).length;
}"""


def demo_objects(user) -> dict:
    """A patient ``user`` may see, its newest session with an analysed recording, and that."""
    patients = Patient.objects.visible_to(user)
    recording = (
        Recording.objects.filter(session__patient__in=patients, status="done")
        .select_related("session__patient")
        .order_by("-session__started_at", "pk")
        .first()
    )
    if recording is None:
        raise SystemExit(f"{user.email} sees no analysed recording: run seed_demo first")
    return {
        "patient": recording.session.patient,
        "session": recording.session,
        "recording": recording,
    }


def sign_in(page, base, email, password):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def shoot(page, base, pages, folder: Path, persona: str) -> list[str]:
    """Every page at every width; the index's rows."""
    rows = []
    for name, path in pages:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(base + path)
            status = response.status if response else "-"
            html = response and "text/html" in response.headers.get("content-type", "")
            if status != 200 or not html:
                rows.append(f"| {persona} | {name} | `{path}` | {width} | {status} | - | - | - |")
                continue
            page.wait_for_load_state("load")
            target = folder / str(width) / f"{name.replace(':', '-')}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
            height = page.evaluate("document.documentElement.scrollHeight")
            wide = page.evaluate(OVERFLOW)
            scrolls = page.evaluate("document.documentElement.scrollWidth") > width
            past = "yes" if wide or scrolls else "no"
            rows.append(
                f"| {persona} | {name} | `{path}` | {width} | {status} | {height} | {past} "
                f"| {target.relative_to(folder.parent)} |"
            )
    return rows


def only(pages, names: set[str]):
    return [(name, path) for name, path in pages if not names or name in names]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running demo server")
    parser.add_argument("--out", default="var/screenshots", help="folder of the PNGs and index")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="the demo accounts' one")
    parser.add_argument("--persona", action="append", choices=sorted(PERSONAS), help="only these")
    parser.add_argument("--page", action="append", help="only these URL names (e.g. admin:index)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    base = args.url.rstrip("/")
    rows = [
        "| persona | page | path | width | status | height px | past the edge | file |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(30_000)
        chosen = set(args.page or ())
        anonymous = [(name, build({})) for name, build in ANONYMOUS_PAGES.items()]
        if not args.persona:
            rows += shoot(page, base, only(anonymous, chosen), out / "anonymous", "anonymous")
        for persona in args.persona or PERSONAS:
            user = User.objects.get(email=PERSONAS[persona])
            objects = demo_objects(user)
            pages = [(name, build(objects)) for name, build in PAGES.items()]
            if persona == "admin":
                pages += admin_pages(objects)
            pages = only(pages, chosen)
            context.clear_cookies()
            sign_in(page, base, user.email, args.password)
            rows += shoot(page, base, pages, out / persona, persona)
            print(f"{persona}: {len(pages)} pages", file=sys.stderr)
        browser.close()
    out.mkdir(parents=True, exist_ok=True)
    (out / "INDEX.md").write_text(
        "# Screenshots of every staff page (bench/screenshots.py)\n\n" + "\n".join(rows) + "\n"
    )
    print(f"{len(rows) - 2} rows in {out / 'INDEX.md'}")


if __name__ == "__main__":
    main()
