"""The layout in a real browser, on a laptop (1366x768) and a phone (390x844), in English and
Dutch: no page wider than the screen (nor a list scrolling sideways inside it), the top menu on
one line on a laptop and a thumb-sized Menu on a phone, at least 15 contacts and 15 entries in
view on a laptop, and every row action reachable on a phone. One browser for the module
(pytest-playwright's session browser); each size and language gets a context of its own."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

# Width of the page, of anything scrolling sideways inside it, the top bar's height, and the
# list rows wholly in view (scripts/layout_check.py measures the same).
MEASURE = """() => {
  const sideways = [...document.querySelectorAll('main *')].filter((el) => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
  });
  const rows = [...document.querySelectorAll('table.list tbody tr')];
  return {
    width: Math.max(document.documentElement.scrollWidth, ...sideways.map((el) => el.scrollWidth)),
    topbar: document.querySelector('.topbar').getBoundingClientRect().height,
    rowsInView: rows.filter((row) => row.getBoundingClientRect().bottom <= innerHeight).length,
  };
}"""

LONG_COMPANY = "Internationale Handelsonderneming Van der Berghe-Vandenbroucke & Zonen B.V."


def world(manager):
    """Enough of everything that lists fill the screen, with long names everywhere."""
    salesperson = factories.SalespersonFactory(
        code="LONGNAME", name="Maximiliaan van Oldenbarnevelt"
    )
    company = factories.CompanyFactory(
        name=LONG_COMPANY, city="Sint-Maartensdijk", phone="+31 (0)20 555 0147 ext. 1234"
    )
    persons = [
        factories.PersonFactory(
            name=f"Alexandra Montgomery-Vanderbiltsdottir {n:02d}",
            company=company,
            salesperson=salesperson,
            email=f"alexandra.montgomery-vanderbiltsdottir.{n}@handelsonderneming.example",
            phone="+31 (0)20 555 0147 ext. 1234",
            city="Sint-Maartensdijk aan de Oosterschelde",
        )
        for n in range(20)
    ]
    template = factories.TemplateFactory(
        code="FOLLOWUPCALL", description="Follow-up phone call about the renewal of the contract"
    )
    campaign = factories.CampaignFactory(number="CAMP2026SPRING", description="Spring campaign")
    opportunity = factories.OpportunityFactory(number="OPP00004", contact_company=company)
    for n, person in enumerate(persons):
        factories.LogEntryFactory(
            contact=person,
            template=template,
            salesperson=salesperson,
            campaign=campaign,
            opportunity=opportunity,
            description="Follow-up phone call about the renewal of the maintenance contract",
            date=datetime.date(2026, 3, 2) - datetime.timedelta(days=n),
            correspondence_type="email",
            evaluation="very_positive",
            delivery_status="sent",
            canceled=n % 5 == 0,
        )
    factories.DraftFactory(
        owner=manager,
        contact=persons[0],
        template=template,
        description="Call back about the quotation for the new warehouse shelving",
    )
    segment = factories.SegmentFactory(
        description="Spring mailing to every warehouse customer in the Randstad",
        salesperson=salesperson,
        created_by=manager,
    )
    for person in persons:
        factories.SegmentLineFactory(
            segment=segment,
            contact=person,
            template=template,
            interaction_description="Spring mailing with the new catalogue",
            language="nl",
        )
    logged = factories.LoggedSegmentFactory(description="Autumn fair invitations", entry_count=3)
    return {
        "company": company,
        "entry": persons[0].log_entries.first(),
        "segment": segment,
        "logged": logged,
        "template": template,
        "salesperson": salesperson,
    }


def pages(w) -> dict[str, str]:
    return {
        "contacts": reverse("contacts:contact_list"),
        "contact card": w["company"].get_absolute_url(),
        "new contact": reverse("contacts:contact_create"),
        "salespeople": reverse("contacts:salesperson_list"),
        "salesperson card": w["salesperson"].get_absolute_url(),
        "entries": reverse("interactions:entry_list"),
        "entry": w["entry"].get_absolute_url(),
        "postponed": reverse("interactions:draft_list"),
        "templates": reverse("interactions:template_list"),
        "template": reverse("interactions:template_detail", args=[w["template"].pk]),
        "groups": reverse("interactions:group_list"),
        "segments": reverse("segments:segment_list"),
        "segment": w["segment"].get_absolute_url(),
        "reuse segment": reverse("segments:segment_reuse", args=[w["segment"].pk]),
        "logged segments": reverse("segments:logged_segment_list"),
        "logged segment": w["logged"].get_absolute_url(),
        "marketing setup": reverse("contacts:marketing_setup"),
        "campaigns": reverse("contacts:campaign_list"),
        "opportunities": reverse("contacts:opportunity_list"),
        "number series": reverse("contacts:number_series_list"),
        "password": reverse("password_change"),
    }


def inside_screen(page, locator, size) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_every_main_page_fits_the_screen(browser, live_server, manager, size, language):
    w = world(manager)
    context = browser.new_context(viewport=size, locale=language)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(manager.username)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/contacts/")

    too_wide, measured = [], {}
    for name, path in pages(w).items():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, name
        measured[name] = page.evaluate(MEASURE)
        if measured[name]["width"] > size["width"]:
            too_wide.append((name, measured[name]["width"]))
    assert too_wide == []

    if size is LAPTOP:
        # One line of menu (a second would make it about 86 px), and the lists' rows in view.
        assert {name: m["topbar"] for name, m in measured.items() if m["topbar"] > 56} == {}
        assert measured["contacts"]["rowsInView"] >= 15
        assert measured["entries"]["rowsInView"] >= 15
        # Long texts end in an ellipsis and show whole on hover.
        page.goto(f"{live_server.url}{reverse('contacts:contact_list')}")
        cell = page.locator("table.list tbody tr td", has_text=LONG_COMPANY[:20]).first
        assert cell.get_attribute("title") == LONG_COMPANY
        assert page.locator(".mainnav").is_visible()
        page.locator(".mainnav .setupmenu > summary").click()
        assert page.locator(".mainnav .setupmenu .menu-items a").first.is_visible()
    else:
        # The Menu button opens a list of links a thumb can hit, all on the screen.
        page.goto(f"{live_server.url}{reverse('contacts:contact_list')}")
        page.locator(".navmenu > summary").click()
        links = page.locator(".navmenu .menu-items a")
        assert links.count() >= 12
        for link in links.all():
            box = link.bounding_box()
            assert box["height"] >= 44
            assert inside_screen(page, link, size)
        # Every row action on the screen: Create Interaction, Resume, Delete, Personalise, Log.
        page.goto(f"{live_server.url}{reverse('contacts:contact_list')}")
        assert inside_screen(
            page, page.locator("table.list button[form=create-interaction]").first, size
        )
        page.goto(f"{live_server.url}{reverse('interactions:draft_list')}")
        for action in page.locator("td.row-actions a").all():
            assert inside_screen(page, action, size)
        page.goto(f"{live_server.url}{w['segment'].get_absolute_url()}")
        personalise = page.locator("table.list td.row-actions a").first
        personalise.scroll_into_view_if_needed()
        assert inside_screen(page, personalise, size)
        assert inside_screen(page, page.locator(".page-head .button-primary").first, size)  # Log
    context.close()
