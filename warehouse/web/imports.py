"""Importing an act from the browser: upload with a progress bar, then import progress, then the result
or the full list of problems."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_htmx import make_response
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from warehouse.db import get_db
from warehouse.services import importing
from warehouse.services.jobs import Job, jobs
from warehouse.vocab import Mode, Role
from warehouse.web.access import roles

bp = Blueprint("imports", __name__)
SUFFIXES = (".json", ".csv", ".xlsx")
BYTES_PER_CODE = 75  # rough size of one code line, to estimate the total for the progress bar


@bp.get("/acts/import")
@roles(Role.STAFF, Role.LEAD, Role.ADMIN)
def form() -> str:
    return render_template("acts/import.html")


@bp.post("/acts/import")
@roles(Role.STAFF, Role.LEAD, Role.ADMIN)
def upload() -> tuple[str, int] | str:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("acts/_import_status.html", message=_("Choose an act file.")), 400
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        return render_template("acts/_import_status.html", message=_("The act file must be .json, .csv or .xlsx.")), 400
    mode = Mode.FULL_CHECK if request.form.get("mode") == Mode.FULL_CHECK else Mode.TRUSTED
    folder = Path(tempfile.mkdtemp(prefix="act-upload-"))
    # Keep the sender's file name (for the audit trail), made safe for the file system.
    path = folder / f"{secure_filename(Path(upload.filename).stem) or 'act'}{suffix}"
    upload.save(path)
    db = get_db()
    user = g.user

    def work(job: Job) -> importing.ImportResult:
        def progress(n: int) -> None:
            job.done = n

        try:
            return importing.import_act(db, path, user=user, mode=mode, progress=progress)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    job = jobs.start("import", user.id, work, total=max(1, path.stat().st_size // BYTES_PER_CODE))
    return render_template("acts/_import_status.html", job=job)


@bp.get("/acts/import/<job_id>")
@roles(Role.STAFF, Role.LEAD, Role.ADMIN)
def status(job_id: str) -> Response | str:
    job = jobs.get(job_id)
    if job is None or job.owner != g.user.id:
        abort(404)
    if job.finished and job.error is None:
        response: Response = make_response(
            render_template("acts/_import_status.html", job=job),
            redirect=url_for("receive.screen", act_id=job.result.act_id),
        )
        return response
    problems = []
    if isinstance(job.error, importing.ActImportError):
        lang = str(get_locale() or "ru")
        problems = [(p.location, p.message(lang)) for p in job.error.problems]
    elif job.error is not None:
        current_app.logger.error("import failed", exc_info=job.error)
    return render_template("acts/_import_status.html", job=job, problems=problems)
