"""Take the screenshots in docs/screenshots/ of the main pages, in English and Dutch.

    DATABASE_URL=postgres://.../crm_screenshots .venv/bin/python scripts/screenshots.py

Use a scratch database: the script migrates it and, when it holds no contacts, seeds a small
demo (`seed_demo`). It then starts Django's development server on a free port, logs in as the
demo Marketing Manager through the login form and captures each page with Playwright in the
system Chromium (``CHROMIUM_PATH``, default /usr/bin/chromium): laptop-sized (1366x768) pages,
phone-sized (390x844) ones (the Menu open, lists as cards) and some in Dutch (a 404 too). It
saves a postponed interaction through the wizard for those pages' screenshots and deletes it
again, and takes two criteria steps on the first open segment (its criteria history) and goes
back on both after the Dutch screenshot of it.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# A long page is cut here: the top of a list says what the page is; the file stays small.
MAX_HEIGHT = 1400
USERNAME, PASSWORD = "manager", "demo"  # seed_demo's Marketing Manager


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603 (our manage.py)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our manage.py)
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _attempt in range(100):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 (our own server)
        except OSError:
            time.sleep(0.2)
        else:
            return server, url
    server.terminate()
    raise SystemExit("The development server did not start.")


def shoot(page: Page, name: str) -> None:
    height = page.evaluate("document.documentElement.scrollHeight")
    size = page.viewport_size
    path = OUT / f"{name}.png"
    page.screenshot(
        path=path,
        full_page=True,
        clip={"x": 0, "y": 0, "width": size["width"], "height": min(height, MAX_HEIGHT)},
    )
    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")


def log_in(page: Page, url: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", USERNAME)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/contacts/")


def first_link(page: Page, url: str, path: str) -> str:
    """The address of the first row's link of the list at ``path``."""
    page.goto(f"{url}{path}")
    return page.locator("table.list tbody tr a").first.get_attribute("href")


def english_pages(page: Page, url: str) -> None:
    page.goto(f"{url}/accounts/login/")
    shoot(page, "01-login")
    log_in(page, url)
    shoot(page, "02-contacts")

    company = first_link(page, url, "/contacts/?type=company")
    page.goto(f"{url}{company}")
    shoot(page, "03-contact-card")

    # Create Interaction from the card; the first step filled in, then saved for later.
    page.get_by_role("button", name="Create Interaction").first.click()
    page.locator("select[name$=template]").select_option(index=1)
    page.locator("input[name$=description]").fill("Call about the renewal of the contract")
    shoot(page, "04-create-interaction")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Yes").click()
    shoot(page, "05-postponed-interactions")
    # Delete it again (with its confirmation page), so that a second run starts the same.
    page.get_by_role("link", name="Delete").first.click()
    page.get_by_role("button", name="Delete").click()

    page.goto(f"{url}/interactions/entries/")
    shoot(page, "06-interaction-log-entries")
    page.goto(f"{url}{first_link(page, url, '/interactions/entries/?canceled=no')}")
    shoot(page, "07-interaction-log-entry")

    segment = first_link(page, url, "/segments/")
    page.goto(f"{url}/segments/")
    shoot(page, "08-segments")
    page.goto(f"{url}{segment}")
    build_by_criteria(page)
    shoot(page, "09-segment")
    page.goto(f"{url}{segment}reuse/")
    shoot(page, "23-reuse-segment")
    page.goto(f"{url}{segment}log/")
    shoot(page, "10-log-segment")

    page.goto(f"{url}/segments/logged/")
    shoot(page, "11-logged-segments")
    template = first_link(page, url, "/interactions/templates/")
    page.goto(f"{url}{template}")
    shoot(page, "12-template-statistics")
    page.goto(f"{url}/contacts/setup/")
    shoot(page, "13-marketing-setup")


def build_by_criteria(page: Page) -> None:
    """Two criteria steps on the open segment, so that its page shows a criteria history
    (`go_back_twice` undoes them after the Dutch screenshot)."""
    page.get_by_role("link", name="Add Contacts").click()
    page.locator("select[name=type]").select_option("person")
    page.locator("main select[name=language]").select_option("nl")
    page.get_by_role("button", name="Add Contacts").click()
    page.get_by_role("link", name="Reduce Contacts").click()
    page.locator("select[name=interaction]").select_option("has")
    page.locator("input[name=evaluation][value=positive]").check()
    page.get_by_role("button", name="Reduce Contacts").click()


def go_back_twice(page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    for _step in range(2):
        page.locator("form[action$='/go-back/'] button").click()
        page.wait_for_load_state()


def phone_pages(page: Page, url: str) -> None:
    log_in(page, url)
    shoot(page, "14-phone-contacts")
    page.locator(".navmenu > summary").click()
    page.screenshot(path=OUT / "19-phone-menu.png")  # the screen as the thumb sees it
    print("docs/screenshots/19-phone-menu.png")
    page.goto(f"{url}{first_link(page, url, '/contacts/?type=person')}")
    page.get_by_role("button", name="Create Interaction").first.click()
    page.locator("select[name$=template]").select_option(index=1)
    page.locator("input[name$=description]").fill("Call about the renewal of the contract")
    shoot(page, "15-phone-create-interaction")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Yes").click()
    shoot(page, "20-phone-postponed-interactions")
    page.get_by_role("link", name="Delete").first.click()
    page.get_by_role("button", name="Delete").click()
    page.goto(f"{url}/interactions/entries/")
    shoot(page, "21-phone-interaction-log-entries")
    page.goto(f"{url}{first_link(page, url, '/segments/')}")
    shoot(page, "22-phone-segment")


def dutch_pages(page: Page, url: str) -> None:
    log_in(page, url)  # the browser asks for Dutch (Accept-Language: nl)
    page.goto(f"{url}/interactions/entries/")
    shoot(page, "16-nl-interaction-log-entries")
    page.goto(f"{url}{first_link(page, url, '/contacts/?type=company')}")
    shoot(page, "17-nl-contact-card")
    page.goto(f"{url}{first_link(page, url, '/segments/')}")
    shoot(page, "18-nl-segment")
    go_back_twice(page)
    page.goto(f"{url}/segments/999999/")  # a segment deleted meanwhile
    shoot(page, "24-nl-not-found")


def demo_database() -> dict[str, str]:
    """The environment of the server, after migrating and (when empty) seeding the scratch
    database that DATABASE_URL names."""
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL to a scratch PostgreSQL database.")
    env = {
        **os.environ,
        "DEBUG": "false",  # the error pages as users see them; --insecure serves static/
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "AXES_ENABLED": "false",
    }
    manage("migrate", "--noinput", "--verbosity", "0", env=env)
    manage("seed_demo", "--if-empty", "--contacts", "300", "--interactions", "3000", env=env)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    env = demo_database()
    OUT.mkdir(parents=True, exist_ok=True)
    server, url = start_server(env)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            for viewport, locale, pages in (
                (LAPTOP, "en-GB", english_pages),
                (PHONE, "en-GB", phone_pages),
                (LAPTOP, "nl-NL", dutch_pages),
            ):
                context = browser.new_context(
                    viewport=viewport, locale=locale, device_scale_factor=1
                )
                pages(context.new_page(), url)
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
