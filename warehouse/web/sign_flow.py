"""Signing a document in the browser, whatever the document: the lead's decision on an incoming act
(web/signing.py) or an outgoing transfer act (web/shipping.py).

Three paths to one result: a key file (.p12) and its password (RSA locally; GOST through NCANode when
configured), or NCALayer, where the browser signs and the server verifies the posted CMS before it
stores anything. Before a key file signs, its certificate is shown, and the form must carry back the
fingerprint of the certificate the person saw. A document kind says how its documents are prepared,
signed and stored; the handlers here are the same for every kind.
"""

from __future__ import annotations

import base64
import json
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar, Protocol

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from warehouse.models import Act
from warehouse.signing import errors
from warehouse.signing.errors import SigningError
from warehouse.signing.pkcs12 import MAX_KEY_FILE
from warehouse.signing.signers import KeyFileView, Signer, open_signer, read_key_file
from warehouse.signing.trust import SigningSettings, check_certificate, load_settings
from warehouse.web.common import ui_lang

PREVIEW_CHARS = 20_000


class Refusal(Protocol):
    """What a service raises when it refuses: SigningError, ShippingError."""

    def message(self, lang: str = "ru") -> str: ...


class Outcome(Protocol):
    @property
    def warnings(self) -> tuple[str, ...]: ...


def settings() -> SigningSettings:
    return load_settings(current_app.config)


def key_file_upload() -> bytes:
    upload: FileStorage | None = request.files.get("key")
    if upload is None or not upload.filename:
        raise SigningError("no_key_file")
    data: bytes = upload.read(MAX_KEY_FILE + 1)
    if not data:
        raise SigningError("no_key_file")
    return data


def certificate_card(view: KeyFileView, settings: SigningSettings) -> dict[str, object]:
    """What the certificate card shows: the holder, and what is wrong with it before anyone signs."""
    # The same check that signing makes: what blocks here is what the signing would refuse.
    found = check_certificate(view.certificate, settings)
    blocking: list[str] = []
    if not view.info.can_sign:
        blocking.append("auth_key")
    if view.gost and not settings.ncanode_url:
        blocking.append("gost_key")
    problems = [p for p in found.problems if p != "gost_unsupported"]
    notes = list(found.warnings)
    if settings.demo:
        notes = ["demo", *("demo_unchecked" if p == "no_trust_store" else p for p in problems), *notes]
    else:
        blocking += problems
    lang = ui_lang()
    return {
        "info": view.info,
        "gost": view.gost,
        "blocking": [errors.message(b, lang) for b in blocking],
        "warnings": [errors.message(w, lang) for w in notes if w not in blocking],
    }


class SignFlow(ABC):
    """The signing page and its three handlers for one kind of document."""

    template: ClassVar[str]  # gets act, prepared, error, card, preview, documents, ncalayer_url, ncanode
    done_endpoint: ClassVar[str]  # where a signed act goes, with act_id
    refusals: ClassVar[tuple[type[Exception], ...]] = (SigningError,)  # each has .message(lang)
    dated: ClassVar[bool] = False  # the document carries the time it was prepared; NCALayer posts it back

    @abstractmethod
    def prepare(self, act: Act, settings: SigningSettings) -> Any:
        """The documents to sign now (`.documents`, each with `.content`), as this station's mode has them."""

    @abstractmethod
    def sign(self, act: Act, signer: Signer, settings: SigningSettings) -> Outcome: ...

    @abstractmethod
    def accept(
        self, act: Act, signatures: list[bytes], created_at: datetime | None, settings: SigningSettings
    ) -> Outcome: ...

    @abstractmethod
    def signed_message(self) -> str: ...

    def flashes_warnings(self) -> bool:
        """Does the page a signed act goes to need the signing's warnings flashed (it does not show them)?"""
        return True

    def context(self, act: Act) -> dict[str, object]:
        return {"act": act}

    def _message(self, e: Exception) -> str:
        refusal: Refusal = e  # type: ignore[assignment]  # one of self.refusals
        return refusal.message(ui_lang())

    def page(
        self, act: Act, *, error: str | None = None, card: dict[str, object] | None = None, status: int = 200
    ) -> tuple[str, int]:
        """What will be signed, the key-file form and the NCALayer button."""
        prepared = None
        current = None
        try:
            current = settings()
            prepared = self.prepare(act, current)
        except self.refusals as e:
            error = error or self._message(e)
        preview = ""
        if prepared is not None and prepared.documents:
            text = json.dumps(json.loads(prepared.documents[0].content), ensure_ascii=False, indent=1)
            preview = text[:PREVIEW_CHARS] + ("\n…" if len(text) > PREVIEW_CHARS else "")
        documents = [base64.b64encode(d.content).decode("ascii") for d in prepared.documents] if prepared else []
        return render_template(
            self.template,
            **self.context(act),
            prepared=prepared,
            error=error,
            card=card,
            preview=preview,
            documents=documents,
            ncalayer_url=current.ncalayer_url if current else "",
            ncanode=bool(current and current.ncanode_url),
        ), status

    def certificate(self) -> tuple[str, int]:
        """htmx: read the key file's certificate (nothing is stored) and show it before signing."""
        try:
            card = certificate_card(read_key_file(key_file_upload(), request.form.get("password", "")), settings())
        except SigningError as e:
            return render_template("signing/_certificate.html", error=e.message(ui_lang()), card=None), 400
        return render_template("signing/_certificate.html", card=card, error=None), 200

    def with_key(self, act: Act) -> Response | tuple[str, int]:
        """Sign with a key file. The password is used for this request only and is never stored."""
        card = None
        try:
            current = settings()
            data = key_file_upload()
            password = request.form.get("password", "")
            view = read_key_file(data, password)
            card = certificate_card(view, current)
            if request.form.get("cert_sha256") != view.info.fingerprint_sha256:
                raise SigningError("certificate_not_shown")
            signer = open_signer(data, password, ncanode_url=current.ncanode_url)
            del password
            outcome = self.sign(act, signer, current)
        except self.refusals as e:
            return self.page(act, error=self._message(e), card=card, status=400)
        return self._signed(act, outcome)

    def with_ncalayer(self, act: Act) -> Response | tuple[str, int]:
        """The CMS NCALayer made in the browser: verified against the rebuilt document before it is stored."""
        lang = ui_lang()
        created_at = None
        if self.dated:
            try:
                created_at = datetime.fromisoformat(request.form.get("created_at", ""))
            except ValueError:
                created_at = None
            if created_at is None or created_at.tzinfo is None:
                return self.page(act, error=errors.message("stale_document", lang), status=400)
        signatures = []
        for value in request.form.getlist("cms"):
            try:
                signatures.append(base64.b64decode(value.strip(), validate=True))
            except ValueError:
                return self.page(act, error=errors.message("not_cms", lang), status=400)
        try:
            outcome = self.accept(act, signatures, created_at, settings())
        except self.refusals as e:
            return self.page(act, error=self._message(e), status=400)
        return self._signed(act, outcome)

    def _signed(self, act: Act, outcome: Outcome) -> Response:
        flash(self.signed_message(), "info")
        lang = ui_lang()
        for warning in outcome.warnings if self.flashes_warnings() else ():
            flash(errors.message(warning, lang), "warn")
        return redirect(url_for(self.done_endpoint, act_id=act.id))
