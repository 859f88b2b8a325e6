"""In Chromium with a phone's viewport (360×640, touch): the handheld page (issue 17, item 3). Staff log in by
badge, choose the act by scanning its route code, scan with the terminal's wedge and see the big verdict; the
connection drops, three scans wait on the device (none in the journal), a reload keeps them, and when the
station can be reached again they are sent in order — one answer lost on the way and sent again — and the
journal holds each exactly once; a scan the station refuses is shown and not sent again."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import select

from tests.browser.wedge import type_at
from tests.conftest import LiveServer
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.models import Scan
from warehouse.services import importing, receiving
from warehouse.station.routing import route_code

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 640}, "has_touch": True, "is_mobile": True}


def journal(server: LiveServer, act_id: int) -> list[tuple[str, str | None]]:
    """The act's journal as (code, key), oldest first."""
    with get_db(server.app).read() as s:
        rows = s.execute(select(Scan.raw, Scan.client_scan_id).where(Scan.act_id == act_id).order_by(Scan.id))
        return [(raw, key) for raw, key in rows]


def scan(page: Page, code: str) -> None:
    type_at(page, "#scan-field", code)


def test_a_phone_receives_through_a_dropped_connection(
    browser: Browser, live_server: LiveServer, tmp_path: Path, artifacts: Path
) -> None:
    f = ActFactory(pallets=1, boxes=1, blocks=2, packs=3)
    act_id = importing.import_act(get_db(live_server.app), f.write(tmp_path / "act.json")).act_id
    block_1, block_2 = f.codes["block"]
    packs_2 = f.codes["pack"][3:6]  # the second block's
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "CSP violation" in m.text else None)
    page.add_init_script(  # the Content-Security-Policy refuses no script or style of the page
        "document.addEventListener('securitypolicyviolation',"
        " e => console.error('CSP violation ' + e.violatedDirective))"
    )

    # the login page in the phone's layout; a staff badge alone logs in
    page.goto(live_server.url + "/m/")
    page.get_by_role("button", name="English").click()
    page.screenshot(path=str(artifacts / "handheld-0-login.png"), full_page=True)
    page.get_by_label("Badge", exact=True).fill("BADGE-STAFF-0001")
    page.get_by_role("button", name="Log in with badge").click()
    expect(page.get_by_role("heading", name="Choose the act")).to_be_visible()
    page.wait_for_load_state()
    expect(page.get_by_role("link", name="ТА-000123")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing scrolls sideways
    page.screenshot(path=str(artifacts / "handheld-1-choose.png"), full_page=True)

    # a number typed on the phone's own keyboard that names no act is said; the act's route code, scanned
    # under a Russian layout, opens it
    page.get_by_label("Scan the act's code or type its number").fill("NOPE-1")
    page.get_by_label("Scan the act's code or type its number").press("Enter")
    expect(page.get_by_test_id("find-error")).to_contain_text("No incoming act is numbered NOPE-1.")
    page.wait_for_load_state()  # the field's script is attached
    type_at(page, "#act-field", route_code(act_id))
    expect(page).to_have_url(f"{live_server.url}/m/acts/{act_id}")
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_contain_text("Scan a code")
    page.wait_for_timeout(300)  # the live stream connects

    # a block: the big verdict, the sound, the counters and what is left to scan
    scan(page, block_1)
    expect(verdict.locator(".banner-matched")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-last-sound", "ok")
    expect(page.get_by_test_id("credited-block")).to_have_text("1")
    expect(page.get_by_test_id("credited-pack")).to_have_text("3")
    expect(page.get_by_test_id("to-scan")).to_contain_text("Packs: 3")
    page.screenshot(path=str(artifacts / "handheld-2-verdict.png"), full_page=True)

    # a wrong read: red, the buzz, and the phone vibrates
    scan(page, "0104870000010")
    expect(verdict.locator(".banner-invalid")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-last-sound", "error")
    expect(page.locator("body")).to_have_attribute("data-vibrations", "1")
    assert len(journal(live_server, act_id)) == 2

    # the connection drops: three packs wait on the device, none in the journal
    context.set_offline(True)
    for code in packs_2:
        scan(page, code)
    waiting = page.get_by_test_id("waiting")
    expect(waiting).to_have_text("Waiting to be sent: 3")
    expect(verdict.locator(".banner-queued")).to_be_visible()
    expect(page.locator("#connection")).to_contain_text("No connection")
    assert len(journal(live_server, act_id)) == 2
    # an act's route code is not recorded as a scan; while scans wait, it opens no other act
    scan(page, route_code(act_id))
    expect(page.locator("#connection")).to_contain_text("Scans of this act still wait to be sent")
    expect(waiting).to_have_text("Waiting to be sent: 3")
    page.screenshot(path=str(artifacts / "handheld-3-offline.png"), full_page=True)

    # the network is back but the station still cannot be reached; the page is reloaded: the scans wait on
    blocked = f"{live_server.url}/acts/{act_id}/scans"
    page.route(blocked, lambda route: route.abort())
    context.set_offline(False)
    page.reload()
    expect(page.get_by_test_id("waiting")).to_have_text("Waiting to be sent: 3")
    assert len(journal(live_server, act_id)) == 2
    # the list of acts says which act has scans waiting, and leads back to it
    page.get_by_role("link", name="Another act").click()
    page.get_by_role("link", name="Act ТА-000123: scans waiting to be sent: 3").click()
    expect(page.get_by_test_id("waiting")).to_have_text("Waiting to be sent: 3")

    # the station answers again; the first answer is lost on the way (recorded, then the line drops), so the
    # page sends that scan again: the station replays it
    lost: list[str] = []

    def lose_first_answer(route: Route) -> None:
        if not lost:
            route.fetch()
            lost.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.unroute(blocked)
    page.route(blocked, lose_first_answer)
    context.set_offline(True)
    context.set_offline(False)  # the browser says it is online again: the page sends at once
    expect(page.get_by_test_id("waiting")).to_be_hidden(timeout=15_000)
    expect(page.get_by_test_id("verdict").locator(".banner-matched")).to_be_visible()
    assert lost
    rows = journal(live_server, act_id)
    assert [code for code, _key in rows] == [block_1, "0104870000010", *packs_2]  # in order, each once
    assert len({key for _code, key in rows}) == len(rows)
    expect(page.get_by_test_id("credited-pack")).to_have_text("6")
    assert page.evaluate("localStorage.length") == 0
    page.screenshot(path=str(artifacts / "handheld-4-sent.png"), full_page=True)

    # another scanner's scan shows on the phone at once (the live stream)
    receiving.record_scan(get_db(live_server.app), act_id, receiving.ScanInput(raw="JUNK-1", source="serial"))
    expect(page.get_by_test_id("invalid")).to_have_text("2")

    # a scan the station refuses (receiving ended meanwhile) is shown, buzzes, and is not kept to be sent again
    receiving.close_act(get_db(live_server.app), act_id)
    scan(page, block_2)
    expect(page.get_by_test_id("verdict").locator(".banner-error")).to_be_visible()
    expect(page.get_by_test_id("waiting")).to_be_hidden()
    assert page.evaluate("localStorage.length") == 0
    assert len(journal(live_server, act_id)) == 6
    assert not errors
    context.close()


def test_scans_waiting_when_the_session_ends_are_sent_after_the_login(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    f = ActFactory(pallets=1, boxes=1, blocks=2, packs=3)
    act_id = importing.import_act(get_db(live_server.app), f.write(tmp_path / "act.json")).act_id
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(f"{live_server.url}/m/acts/{act_id}")  # the login first, then back to the act
    page.get_by_role("button", name="English").click()
    page.get_by_label("Badge", exact=True).fill("BADGE-STAFF-0001")
    page.get_by_label("Badge", exact=True).press("Enter")
    expect(page).to_have_url(f"{live_server.url}/m/acts/{act_id}")
    page.wait_for_load_state()

    # the station cannot be reached; a scan waits; meanwhile the session ends (logged out elsewhere)
    blocked = f"{live_server.url}/acts/{act_id}/scans"
    page.route(blocked, lambda route: route.abort())
    scan(page, f.codes["block"][0])
    expect(page.get_by_test_id("waiting")).to_have_text("Waiting to be sent: 1")
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    assert context.request.post(f"{live_server.url}/logout", form={"csrf_token": token}).ok
    page.unroute(blocked)
    context.set_offline(True)
    context.set_offline(False)

    # the page is told, keeps the scan and leads to the login; after it, the scan is sent, once
    connection = page.locator("#connection")
    expect(connection).to_contain_text("Your session has ended")
    expect(page.get_by_test_id("waiting")).to_have_text("Waiting to be sent: 1")
    assert journal(live_server, act_id) == []
    connection.get_by_role("link", name="Log in").click()
    page.get_by_label("Badge", exact=True).fill("BADGE-STAFF-0001")
    page.get_by_label("Badge", exact=True).press("Enter")
    expect(page).to_have_url(f"{live_server.url}/m/acts/{act_id}")
    expect(page.get_by_test_id("waiting")).to_be_hidden()
    expect(page.get_by_test_id("verdict").locator(".banner-matched")).to_be_visible()
    assert [code for code, _key in journal(live_server, act_id)] == [f.codes["block"][0]]

    # with nothing waiting, another act's route code, scanned here, opens that act
    other = importing.import_act(get_db(live_server.app), ActFactory(number="ТА-000777").write(tmp_path / "b.json"))
    scan(page, route_code(other.act_id))
    expect(page).to_have_url(f"{live_server.url}/m/acts/{other.act_id}")
    expect(page.get_by_text("ТА-000777")).to_be_visible()
    assert len(journal(live_server, act_id)) == 1 and journal(live_server, other.act_id) == []
    context.close()
