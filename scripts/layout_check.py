"""Measure the layout of every main page on a laptop (1366x768) and a phone (390x844), in
English and Dutch: how wide the page is, whether the top menu is one line, and how many rows
of Contacts and of Interaction Log Entries show without scrolling.

    DATABASE_URL=postgres://.../crm_screenshots .venv/bin/python scripts/layout_check.py

Like scripts/screenshots.py (whose server and login it uses) it migrates a scratch database,
seeds a small demo when it holds no contacts, and drives the system Chromium. It prints one
line per page, size and language, and exits 1 when a page is wider than the screen.
"""

from __future__ import annotations

import argparse
import sys

from playwright.sync_api import Page, sync_playwright
from screenshots import CHROMIUM, LAPTOP, LAUNCH_ARGS, PHONE, demo_database, log_in, start_server

# What the browser test (tests/test_browser_layout.py) measures too: page width, menu lines,
# list rows in view.
MEASURE = """() => {
  const menu = document.querySelector('.topbar');
  const rows = [...document.querySelectorAll('table.list tbody tr')];
  const inView = rows.filter((row) => {
    const box = row.getBoundingClientRect();
    return box.height > 0 && box.bottom <= window.innerHeight;
  });
  // A box that scrolls sideways inside the page (a list too wide for its frame) counts too.
  const sideways = [...document.querySelectorAll('main *')].filter((el) => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
  });
  return {
    width: Math.max(document.documentElement.scrollWidth, ...sideways.map((el) => el.scrollWidth)),
    menuHeight: menu ? Math.round(menu.getBoundingClientRect().height) : 0,
    rows: rows.length,
    rowsInView: inView.length,
  };
}"""


def first_link(page: Page, url: str, path: str) -> str:
    page.goto(f"{url}{path}")
    return page.locator("table.list tbody tr a").first.get_attribute("href")


def pages(page: Page, url: str) -> dict[str, str]:
    company = first_link(page, url, "/contacts/?type=company")
    entry = first_link(page, url, "/interactions/entries/?canceled=no")
    segment = first_link(page, url, "/segments/")
    logged = first_link(page, url, "/segments/logged/")
    template = first_link(page, url, "/interactions/templates/")
    salesperson = first_link(page, url, "/contacts/salespeople/")
    return {
        "contacts": "/contacts/",
        "contact card": company,
        "new contact": "/contacts/new/",
        "salespeople": "/contacts/salespeople/",
        "salesperson card": salesperson,
        "entries": "/interactions/entries/",
        "entry": entry,
        "postponed": "/interactions/drafts/",
        "templates": "/interactions/templates/",
        "template": template,
        "segments": "/segments/",
        "segment": segment,
        "reuse segment": f"{segment}reuse/",
        "logged segments": "/segments/logged/",
        "logged segment": logged,
        "marketing setup": "/contacts/setup/",
        "campaigns": "/contacts/campaigns/",
        "password": "/accounts/password_change/",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    server, url = start_server(demo_database())
    too_wide = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            for language in ("en", "nl"):
                for size_name, size in (("laptop", LAPTOP), ("phone", PHONE)):
                    context = browser.new_context(viewport=size, locale=language)
                    page = context.new_page()
                    log_in(page, url)
                    for name, path in pages(page, url).items():
                        page.goto(f"{url}{path}")
                        m = page.evaluate(MEASURE)
                        wide = m["width"] > size["width"]
                        if wide:
                            too_wide.append((language, size_name, name, m["width"]))
                        print(
                            f"{language} {size_name:6} {name:18} width {m['width']:5}"
                            f"{' TOO WIDE' if wide else '':9} menu {m['menuHeight']:4}px"
                            f"  rows {m['rowsInView']:3} of {m['rows']:3} in view"
                        )
                    context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    if too_wide:
        print(f"{len(too_wide)} pages wider than the screen.")
    sys.exit(1 if too_wide else 0)


if __name__ == "__main__":
    main()
