"""Every reason of every area, rendered with realistic parameters in Russian, Kazakh and English.

The examples live beside this file, one module an area (examples_<area>.py, each a dict EXAMPLES:
phrasebook name -> reason -> parameters). The test fails on a reason without an example, a message the
catalogs do not translate, an English word left in a Russian or Kazakh message, and a message that is the
same in two languages.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import reports
import warehouse
from warehouse.messages import LANGS, Phrasebook, catalog
from warehouse.vocab import Word

# Latin words a Russian or Kazakh message may keep: names of standards, formats, products and fields.
ALLOWED_LATIN = {
    "GTIN", "SSCC", "GS1", "GS", "BIN", "IIN", "ESF", "SNT", "NCALayer", "NCANode", "PKCS", "CMS", "DER",
    "JSON", "CSV", "XLSX", "XML", "PDF", "UTF", "Data", "Matrix", "AUTH", "RSA", "GOST", "GOSTKNCA", "OCSP",
    "CRL", "URL", "HTTP", "HTTPS", "API", "ID", "CA", "WAREHOUSE_TRUSTED_CA", "Caps", "Lock", "TRUSTED",
    "UNDO", "FULL_CHECK", "OPEN", "CLOSE", "WH", "ca", "p12", "p7s", "json", "csv", "xlsx", "transfer",
    "act", "acceptance", "format", "Ctrl", "Alt", "Enter", "Tab", "ZIP", "JPEG", "PNG", "WebP", "Digital", "Link",
    "AUTH_", "RSA256_", "GOSTKNCA_",  # the prefixes of NCA key file names
    "out", "force",  # command-line options (--out, --force)
    "fonts", "dejavu", "core", "WAREHOUSE_FONT_DIR",  # a Debian package and a setting the reports need
    "children", "code", "level",  # field names of a transfer-act/1 file, which stay English in it
    "WAREHOUSE_COMPANY_NAME",
    "WAREHOUSE_COMPANY_BIN",
    "WAREHOUSE_OPERATOR_URL",
    "Authorization", "Bearer", "multipart", "file", "scans", "scan_id",  # the API's field names
}  # fmt: skip
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,}")
_FIELD = re.compile(r"\{[^{}]*\}")


def _import_all() -> None:
    for package in (warehouse, reports):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in module.name:
                importlib.import_module(module.name)


def _examples() -> dict[str, dict[str, dict[str, Any]]]:
    merged: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(Path(__file__).parent.glob("examples_*.py")):
        module = importlib.import_module(f"tests.messages.{path.stem}")
        for book, reasons in module.EXAMPLES.items():
            assert book not in merged, f"{book} has examples in two modules"
            merged[book] = reasons
    return merged


_import_all()
EXAMPLES = _examples()
BOOKS = sorted(Phrasebook.registry)


def _english_words(text: str, params: dict[str, Any]) -> set[str]:
    for value in params.values():
        text = text.replace(str(value), " ")
    return {w for w in _LATIN_WORD.findall(text) if w not in ALLOWED_LATIN}


def test_every_area_registers_its_messages() -> None:
    assert BOOKS, "no phrasebook registered"


@pytest.mark.parametrize("book", BOOKS)
def test_every_reason_has_an_example(book: str) -> None:
    reasons = set(Phrasebook.registry[book])
    examples = set(EXAMPLES.get(book, {}))
    assert reasons - examples == set(), f"{book}: reasons without an example"
    assert examples - reasons == set(), f"{book}: examples of reasons that no longer exist"


@pytest.mark.parametrize("book", BOOKS)
def test_every_reason_reads_well_in_every_language(book: str) -> None:
    phrasebook = Phrasebook.registry[book]
    for reason, params in EXAMPLES.get(book, {}).items():
        msgid = phrasebook.messages[reason]
        texts = {lang: phrasebook.say(reason, lang, **params) for lang in LANGS}
        where = f"{book}.{reason}"
        for lang in ("ru", "kk"):
            assert catalog(lang).gettext(msgid) != msgid, f"{where}: no {lang} translation of {msgid!r}"
            left = _english_words(_FIELD.sub(" ", catalog(lang).gettext(msgid)), params)
            assert not left, f"{where}: English words in the {lang} message: {sorted(left)}: {texts[lang]!r}"
        assert len(set(texts.values())) == 3, f"{where}: the same words in two languages: {texts}"


@pytest.mark.parametrize("words", Word.__subclasses__(), ids=lambda w: w.__name__)
def test_every_word_of_the_vocabulary_is_translated(words: type[Word]) -> None:
    for member in words:
        texts = {lang: member.label(lang) for lang in LANGS}
        assert texts["ru"] != texts["en"] and texts["kk"] != texts["en"], f"{member!r}: {texts}"
        for lang in ("ru", "kk"):
            assert not _english_words(texts[lang], {}), f"{member!r} in {lang}: {texts[lang]!r}"
