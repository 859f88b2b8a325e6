"""Each main page in Russian, Kazakh and English, with a check that no text is left in another language
(issue 16: "each main page in ru, kk and en with a check that no text is left in another language").

The pages are rendered over demo-like data (an act being received with a surplus, a duplicate and an
unreadable scan; an act awaiting the lead's decision; a decided one; a signed one; stock and an outgoing
draft). What a person reads is taken from each page — its text without scripts and styles, and the
attributes a browser shows (title, placeholder, aria-label, alt, a button's value, a confirmation) — and
the data on it (codes, numbers, names of products, companies and people, the act numbers) is left out.

- A Russian or Kazakh page has no Latin word but the few names of standards and formats every reader
  knows (GTIN, SSCC, PDF, Excel …) and the scanner's command codes.
- An English page has no Cyrillic.
- A Kazakh page has no text the catalog has only in Russian, and a Russian page none only in Kazakh
  (Kazakh and Russian share the alphabet, so a hard-coded or untranslated phrase is found through the
  catalogs), and a Kazakh page none of the most common Russian words.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import lxml.html
import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Auth
from tests.factories import ActFactory, gtin, pack, sscc_code
from tests.shipping.conftest import SHOP_BIN, settings, signer, stocked, wholesaler_app
from warehouse.db import get_db
from warehouse.services import demo, importing, receiving, shipping
from warehouse.services import signing as signing_service

_numbers = itertools.count(300_000, 1_000)  # act numbers and code ranges of the acts imported in the test
TRANSLATIONS = Path(__file__).resolve().parents[2] / "warehouse" / "translations"

# Latin words a Russian or Kazakh page may show: standards, formats, product and protocol names, the
# scanner's command codes (printed and scanned as they are), and keys of the keyboard.
ALLOWED_LATIN = {
    "GTIN", "SSCC", "GS1", "GS", "Data", "Matrix", "DataMatrix", "PDF", "Excel", "XLSX", "JSON", "CSV", "XML",
    "ZIP", "NCALayer", "NCANode", "PKCS", "CMS", "RSA", "GOST", "OCSP", "CRL", "URL", "HTTP", "HTTPS", "API",
    "ID", "USB", "HID", "Bluetooth", "Wi", "Fi", "PIN", "Enter", "Tab", "Ctrl", "Alt", "Shift", "Esc", "Caps",
    "Lock", "WH", "UNDO", "FULL_CHECK", "TRUSTED", "OPEN", "CLOSE", "OPEN_NEXT", "REMOVE_LAST", "REMOVE_NEXT",
    "transfer", "act", "p12", "p7s", "json", "csv", "xlsx", "pdf", "warehouse", "trust", "update", "verify", "run",
    "EAN", "UTF", "BOM", "SHA", "AUTH", "KZ", "UTC", "HRI", "IP", "COM",
}  # fmt: skip
_LATIN_WORD = re.compile(r"(?<![\w#/-])[A-Za-z][A-Za-z0-9_]*(?![\w])")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]+(?:[\s\-–—«»\"',.:;!?()№]+[\u0400-\u04FF]+)*")
# The words a Russian sentence can hardly do without, and a Kazakh one never has.
RUSSIAN_ONLY_WORDS = {"и", "в", "на", "для", "или", "при", "нет", "это", "что", "как", "по", "из", "все"}
_SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "hx-confirm", "data-confirm")


@dataclass
class Site:
    app: Flask
    data: set[str] = field(default_factory=set)  # what the pages show as it is: names, numbers, comments
    pages: dict[str, str] = field(default_factory=dict)  # name → path, read by whom: "lead:/acts"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("pages")
    app = wholesaler_app(f"sqlite:///{folder / 'warehouse.sqlite3'}", folder)
    db = get_db(app)
    here = Site(app)
    here.data |= {name for _u, _p, _r, name, _b, _pin in demo.DEMO_USERS} | {"staff", "lead", "admin"}
    here.data |= {"Marlboro Red", "Parliament «Aqua»", "ТОО «Табак-Трейд» <опт>", 'ТОО "Склад & Ко"'}
    here.data |= {"ТОО «Опт & Ко»", 'ТОО "Магазин <1>"', "одна коробка не пришла", "ESF-1", "KZ-ESF-1", "hello"}
    here.data |= {"ТЕСТОВ ТЕСТ ТЕСТОВИЧ", "ҰКО ТЕСТ (склад)"}  # the test certificate's subject and issuer

    in_stock = stocked(db, folder, number="ПР-0001", pallets=2, boxes=2, blocks=2, packs=2)

    def imported(number: str) -> tuple[int, ActFactory]:
        f = ActFactory(number=number, start=1000 * int(number[-3:]))
        here.data.add(number)
        return importing.import_act(db, f.write(folder / f"{number}.json")).act_id, f

    receiving_id, f = imported("ТА-000101")
    receiving_factory = f
    # ... and a box opened (OPEN): the screen shows it with what is left in it
    for raw in (f.codes["box"][0], f.codes["box"][0], pack(gtin(1001), 777_777), "01046000000000", "hello"):
        receiving.record_scan(db, receiving_id, receiving.ScanInput(raw=raw, source="cli", station="station-1"))
    full_check_id, f = imported("ТА-000105")  # full check: a box opened, one block of it scanned
    for raw in ("#WH:FULL_CHECK", f.codes["box"][0], f.codes["block"][0]):
        receiving.record_scan(db, full_check_id, receiving.ScanInput(raw=raw, source="cli", station="station-1"))
    f = receiving_factory
    for raw in ("#WH:OPEN", f.codes["box"][1]):
        receiving.record_scan(db, receiving_id, receiving.ScanInput(raw=raw, source="cli", station="station-1"))
    complete_id, f = imported("ТА-000106")  # every code counted: "complete — ready for the lead"
    receiving.record_scan(db, complete_id, receiving.ScanInput(raw=f.codes["pallet"][0], source="cli"))
    closed_id, f = imported("ТА-000102")
    receiving.record_scan(db, closed_id, receiving.ScanInput(raw=f.codes["box"][0], source="cli"))
    other_act_box = f.codes["box"][1]
    receiving.close_act(db, closed_id, actor="lead")
    decided_id, f = imported("ТА-000103")
    receiving.close_act(db, decided_id, actor="lead")
    receiving.decide(db, decided_id, "rejected", reason="shortage", comment="одна коробка не пришла", actor="lead")
    signed_id, f = imported("ТА-000104")
    receiving.record_scan(db, signed_id, receiving.ScanInput(raw=f.codes["box"][0], source="cli"))
    receiving.close_act(db, signed_id, actor="lead")
    receiving.decide(
        db, signed_id, "accepted_with_discrepancies", reason="shortage", comment="одна коробка не пришла", actor="lead"
    )
    signing_service.sign_act(db, signed_id, signer(), settings=settings(app))
    [document] = signing_service.documents(db, signed_id)

    lead = app.test_client()
    Auth(lead).login("lead")

    def outgoing(pallet: str) -> str:
        created = lead.post(
            "/ship/new",
            data={
                "receiver_bin": SHOP_BIN,
                "receiver_name": 'ТОО "Магазин <1>"',
                "basis_type": "ESF",
                "basis_number": "KZ-ESF-1",
                "turnover": "sale",
                "csrf_token": _token(lead, "/ship/new"),
            },
        )
        assert created.status_code == 302, created.get_data(as_text=True)
        url = str(created.headers["Location"])
        added = lead.post(f"{url}/codes", data={"code": pallet}, headers={"HX-Request": "true", **_csrf(lead, url)})
        assert added.status_code == 200, re.sub(r"<[^>]+>", " ", added.get_data(as_text=True))
        return url

    draft = outgoing(in_stock.codes["pallet"][0])
    sent = outgoing(in_stock.codes["pallet"][1])
    shipping.sign(db, int(sent.rsplit("/", 1)[1]), signer(), settings=settings(app))
    here.data |= {"ПР-0001"} | {
        m.group(0) for m in re.finditer(r"[А-Я]{2}-\d{6}", lead.get("/ship").get_data(as_text=True))
    }
    # Scans each screen answers with a refusal: not a code, a code of another act, a product's barcode, a
    # box inside a pallet that is on another draft, a box inside a pallet still in stock.
    refusals = ["hello", other_act_box, gtin(1001)[1:], in_stock.codes["box"][0], in_stock.codes["box"][3]]
    refusals += [sscc_code(999_999)]

    here.pages = {
        "login": "anonymous:/login",
        "acts": "staff:/acts",
        "receiving": f"staff:/acts/{receiving_id}",
        "receiving-complete": f"staff:/acts/{complete_id}",
        "commands": "staff:/commands",
        "full-check": f"staff:/acts/{full_check_id}",
        "forbidden": "staff:/admin/users",
        "acts-lead": "lead:/acts",
        "decided-review": f"lead:/acts/{decided_id}/review",
        "signed-screen": f"lead:/acts/{signed_id}",
        "import": "lead:/acts/import",
        "review": f"lead:/acts/{closed_id}/review",
        "sign": f"lead:/acts/{decided_id}/sign",
        "signed": f"lead:/acts/{signed_id}/signed",
        "audit": f"lead:/acts/{signed_id}/audit",
        "report": f"lead:report:{signed_id}",
        "verify": "lead:/verify",
        "verified": f"lead:verify:{document.id}",
        "stock": "lead:/stock",
        "ship": "lead:/ship",
        "ship-new": "lead:/ship/new",
        "outgoing": f"lead:{draft}",
        "outgoing-sent": f"lead:{sent}",
        "outgoing-scans": f"lead:scans:{draft}/codes|" + "|".join(refusals),
        "receiving-scans": f"staff:scans:/acts/{receiving_id}/scans|" + "|".join(refusals),
        "stock-search": f"lead:/stock?q={in_stock.codes['box'][0]}",
        # what a refused form says (a flash on the page it returns to)
        "found-later": f"lead:form:/acts/{closed_id}/found|/acts/{closed_id}/review|" + "|".join(refusals),
        "stock-open": "lead:form:/stock/open|/stock|hello|" + in_stock.codes["box"][0],
        "login-failed": "anonymous:login",
        "import-answers": "staff:import",
        "outgoing-sign": f"lead:{draft}/sign",
        "scanners": "lead:/scanners",
        "devices": "lead:/scanners/devices",
        "users": "admin:/admin/users",
        "not-found": "lead:/acts/999999",
    }
    yield here
    db.dispose()


def _token(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _csrf(client: FlaskClient, path: str) -> dict[str, str]:
    return {"X-CSRFToken": _token(client, path)}


def _client(app: Flask, who: str, lang: str) -> FlaskClient:
    client = app.test_client()
    if who != "anonymous":
        assert Auth(client).login(who).status_code == 302
    client.post("/language", data={"lang": lang, "next": "/login", "csrf_token": _token(client, "/login")})
    return client


def _page(site: Site, client: FlaskClient, path: str, status: int = 200) -> str:
    kind, _sep, ref = path.partition(":")
    if kind == "report":  # the report form's answer, and the job's status once it is done
        started = client.post(
            f"/acts/{ref}/reports",
            data={"report": "acceptance:pdf", "csrf_token": _token(client, f"/acts/{ref}")},
            headers={"HX-Request": "true"},
        ).get_data(as_text=True)
        job = re.search(r"/reports/([\w-]+)", started)
        assert job, started
        return started + client.get(f"/reports/{job.group(1)}").get_data(as_text=True)
    if kind == "scans":  # the answers of a scan field (htmx fragments), one a scan
        url, *scans = ref.split("|")
        page_url = url.rsplit("/", 1)[0]
        headers = {"HX-Request": "true", **_csrf(client, page_url)}
        answers = [client.post(url, data={"code": code}, headers=headers) for code in scans]
        assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
        return "<div>" + "".join(a.get_data(as_text=True) for a in answers) + "</div>"
    if kind == "form":  # each value posted as `code`; then the page the flashes are shown on
        url, shown, *values = ref.split("|")
        for value in values:
            answer = client.post(url, data={"code": value, "csrf_token": _token(client, shown)})
            assert answer.status_code < 500, (url, value, answer.status_code)
        return client.get(shown).get_data(as_text=True)
    if kind == "import":  # the import's answers: an act imported, an act with problems, a file of no act
        good = ActFactory(number=f"ТА-{next(_numbers)}", start=next(_numbers)).build()
        bad = ActFactory(number=f"ТА-{next(_numbers)}", start=next(_numbers)).build()
        site.data |= {good["number"], bad["number"]}
        box = bad["products"][0]["children"][0]
        box["code"] = box["code"][:-1] + str((int(box["code"][-1]) + 1) % 10)  # a wrong SSCC check digit
        bad["products"][0]["children"].append(dict(bad["products"][0]["children"][1]))  # a code twice
        files = [(json.dumps(good, ensure_ascii=False), "good.json"), (json.dumps(bad, ensure_ascii=False), "bad.json")]
        files.append(("just text", "notes.txt"))
        answers = []
        for content, name in files:
            answer = client.post(
                "/acts/import",
                data={"file": (io.BytesIO(content.encode()), name), "mode": "trusted"},
                headers={"HX-Request": "true", **_csrf(client, "/acts/import")},
                content_type="multipart/form-data",
            )
            assert answer.status_code < 500, (name, answer.status_code)
            answers.append(answer.get_data(as_text=True))
        assert "ТА-" in answers[0] or "/acts/" in str(answers), answers[0]
        return "<div>" + "".join(answers) + "</div>"
    if kind == "login":  # a wrong password
        data = {"username": "staff", "password": "wrong", "csrf_token": _token(client, "/login")}
        return client.post("/login", data=data).get_data(as_text=True)
    if kind == "verify":  # a signed document checked on the verification page
        from warehouse.models import SignedDocument

        with get_db(site.app).read() as s:
            doc = s.get(SignedDocument, int(ref))
            assert doc is not None
            content, signature = doc.content, doc.signature
        return client.post(
            "/verify",
            data={
                "document": (io.BytesIO(content), "act.json"),
                "signature": (io.BytesIO(signature), "act.p7s"),
                "csrf_token": _token(client, "/verify"),
            },
            content_type="multipart/form-data",
        ).get_data(as_text=True)
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def visible_text(page: str) -> str:
    """What a person reads of a page: its text without scripts and styles, and the attributes shown."""
    tree = lxml.html.fromstring(page)
    # Scripts and styles are not read; codes (<code>, class "code") and documents (<pre>) are data; the
    # language switch names each language in itself.
    data = "//script|//style|//pre|//code|//*[contains(concat(' ', @class, ' '), ' code ')]|//form[@class='lang']"
    for node in tree.xpath(data):
        node.drop_tree()
    parts = list(tree.itertext())
    for attribute in _SHOWN_ATTRIBUTES:
        parts += tree.xpath(f"//@{attribute}")
    parts += tree.xpath("//input[@type='submit' or @type='button']/@value")
    # the words scripts show (a banner when the station does not answer, a status) wait in data-* attributes
    parts += [str(v) for v in tree.xpath("//@*[starts-with(name(), 'data-')]") if " " in str(v).strip()]
    return " ".join(" ".join(str(p) for p in parts).split())


def without_data(text: str, data: set[str]) -> str:
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    text = re.sub(r"\(\d\d\)[\dA-Za-z!\"%&'()*+,\-./:;<=>?_␝]+", " ", text)  # a code in HRI form
    code = r"[\dA-Za-z!\"%&'()*+,\-./:;<=>?_␝]"  # the characters of a GS1 code (a serial may hold any)
    return re.sub(rf"\b{code}*\d{code}*", " ", text)  # codes, numbers


@cache
def _catalog(lang: str) -> dict[str, str]:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return {m.id: m.string for m in read_po(f, locale=lang) if isinstance(m.id, str) and m.id and m.string}


@cache
def _phrases_only_in(lang: str, other: str) -> frozenset[str]:
    """Phrases `lang` has and `other` has nowhere: whole translations of two words or more, without fields."""
    own, theirs = _catalog(lang), _catalog(other)
    everything_theirs = "\n".join(theirs.values())
    found = set()
    for msgid, text in own.items():
        for piece in re.split(r"\{[^{}]*\}|%\(\w+\)s|[:.!?\n]", text):
            piece = piece.strip(" ,;—–()«»\"'")
            if len(piece.split()) >= 2 and piece != theirs.get(msgid) and piece not in everything_theirs:
                found.add(piece)
    return frozenset(found)


def leaks(lang: str, text: str) -> list[str]:
    """The words and phrases of `text` (data already left out) that are not in `lang`."""
    if lang == "en":
        return sorted(set(_CYRILLIC.findall(text)))
    found = {w for w in _LATIN_WORD.findall(text) if w not in ALLOWED_LATIN}
    other = "ru" if lang == "kk" else "kk"
    found |= {phrase for phrase in _phrases_only_in(other, lang) if phrase in text}
    if lang == "kk":
        words = set(re.findall(r"[\u0400-\u04FF]+", text.lower()))
        found |= {f"«{w}» (Russian)" for w in words & RUSSIAN_ONLY_WORDS}
    return sorted(found)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_every_main_page_reads_in_one_language(site: Site, lang: str) -> None:
    clients: dict[str, FlaskClient] = {}
    found: dict[str, list[str]] = {}
    for name, where in site.pages.items():
        who, _sep, path = where.partition(":")
        if who not in clients:  # one login a reader (setdefault logged in again for each of the 35 pages)
            clients[who] = _client(site.app, who, lang)
        client = clients[who]
        page = _page(site, client, path, {"forbidden": 403, "not-found": 404}.get(name, 200))
        assert f'lang="{lang}"' in page or "<html" not in page, name
        text = without_data(visible_text(page), site.data)
        if wrong := leaks(lang, text):
            found[name] = wrong
    assert found == {}, f"{lang}: words of another language: {found}"


def test_the_check_finds_a_word_of_another_language() -> None:
    assert leaks("ru", "Принято 5 of 10") == ["of"]
    assert leaks("ru", "Сканируйте код GTIN в PDF") == []
    assert leaks("en", "Scan the code Отсканируйте") == ["Отсканируйте"]
    assert "«для» (Russian)" in leaks("kk", "Кодты для сканерлеңіз")
    assert "Отсканируйте код" in leaks("kk", "Отсканируйте код")  # Russian of the catalog on a Kazakh page
    assert leaks("ru", "act.signed") == ["signed"]  # an action's key shown as it is
    assert leaks("kk", "Кодты сканерлеңіз") == []
    assert without_data("(01)04600000000017(21)abc, 55 блоков", set()).split() == ["блоков"]


@pytest.mark.parametrize(
    ("lang", "lines", "dated"),
    [
        ("ru", r"Строки \(0 из \d+\)", "от 2026-11-20"),
        ("kk", r"Жолдар \(\d+ ішінен 0\)", "күні: 2026-11-20"),
        ("en", r"Lines \(0 of \d+\)", "of 2026-11-20"),
    ],
)
def test_counts_and_dates_are_whole_phrases(site: Site, lang: str, lines: str, dated: str) -> None:
    """«Строки (0 от 3)», «Жолдар (0 күні 3)»: a pasted "of" read as the date's preposition in every use."""
    client = _client(site.app, "lead", lang)
    review = site.pages["decided-review"].partition(":")[2]
    text = visible_text(client.get(review, query_string={"level": "pack"}).get_data(as_text=True))
    assert re.search(lines, text), text[:600]
    screen = visible_text(client.get(site.pages["receiving"].partition(":")[2]).get_data(as_text=True))
    assert f"ТА-000101 {dated}" in screen


def test_the_receiving_states_are_among_the_pages(site: Site) -> None:
    """The pages checked include the opened box's panel and the complete act (issue 16, item 7)."""
    client = _client(site.app, "staff", "kk")
    receiving_page = _page(site, client, site.pages["receiving"].partition(":")[2])
    complete_page = _page(site, client, site.pages["receiving-complete"].partition(":")[2])
    assert 'id="open-aggregate"' in receiving_page and "ішіндегісін сканерлеңіз" in receiving_page
    assert 'id="complete"' in complete_page and "аға логистке дайын" in complete_page
