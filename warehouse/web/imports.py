"""Importing an act from the browser: upload with a progress bar, then import progress, then the result
or the full list of problems."""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_htmx import make_response
from werkzeug.datastructures import FileStorage
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
FAST_S = 1.0  # how long the upload's answer waits for the import to finish (a refused small file: milliseconds)
UPLOADS = "uploads"  # under the instance folder: act files being imported (the browser's and the API's)


def uploads_folder(instance_path: str) -> Path:
    return Path(instance_path) / UPLOADS


@contextmanager
def saved_upload(upload: FileStorage, suffix: str, name: str = "act") -> Iterator[Path]:
    """The uploaded file saved under the instance's uploads folder, locked (flock) while the block runs and
    removed after it. A process killed meanwhile leaves it behind, unlocked: `clean_uploads` removes it at
    the next start, and never one that is still locked, being imported by a live process."""
    folder = uploads_folder(current_app.instance_path) / secrets.token_hex(8)
    folder.mkdir(mode=0o700, parents=True)
    # The sender's file name is kept (for the audit trail), made safe for the file system.
    path = folder / f"{secure_filename(name) or 'act'}{suffix}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(os.dup(fd), "wb") as f:
            upload.save(f)
        yield path
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)  # drops the lock
        folder.rmdir()


def clean_uploads(folder: Path) -> list[Path]:
    """Remove the uploads an import killed midway left in `folder` (those nobody holds locked)."""
    removed = []
    for path in folder.glob("*/*") if folder.is_dir() else []:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live import's
        else:
            path.unlink(missing_ok=True)
            removed.append(path)
        finally:
            os.close(fd)
    for sub in folder.glob("*") if folder.is_dir() else []:
        if sub.is_dir() and not any(sub.iterdir()):
            sub.rmdir()
    return removed


@bp.record_once
def _clean_at_start(state: BlueprintSetupState) -> None:
    clean_uploads(uploads_folder(state.app.instance_path))


@bp.get("/acts/import")
@roles(Role.STAFF, Role.LEAD, Role.ADMIN)
def form() -> str:
    return render_template("acts/import.html")


@bp.post("/acts/import")
@roles(Role.STAFF, Role.LEAD, Role.ADMIN)
def upload() -> Response | tuple[str, int] | str:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("acts/_import_status.html", message=_("Choose an act file.")), 400
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        return render_template("acts/_import_status.html", message=_("The act file must be .json, .csv or .xlsx.")), 400
    mode = Mode.FULL_CHECK if request.form.get("mode") == Mode.FULL_CHECK else Mode.TRUSTED
    saving = saved_upload(upload, suffix, Path(upload.filename).stem)
    path = saving.__enter__()
    db = get_db()
    user = g.user

    def work(job: Job) -> importing.ImportResult:
        def progress(n: int) -> None:
            job.done = n

        try:
            return importing.import_act(db, path, user=user, mode=mode, progress=progress)
        finally:
            saving.__exit__(None, None, None)

    try:
        total = max(1, path.stat().st_size // BYTES_PER_CODE)
        job = jobs.start("import", user.id, work, total=total)
    except BaseException:
        saving.__exit__(None, None, None)
        raise
    job.wait(FAST_S)  # a small file's answer comes at once, problems or act, never a bare progress bar
    return _status(job)


@bp.get("/acts/import/<job_id>")
@roles(Role.STAFF, Role.LEAD, Role.ADMIN)
def status(job_id: str) -> Response | str:
    job = jobs.get(job_id)
    if job is None or job.owner != g.user.id:
        abort(404)
    return _status(job)


def _status(job: Job) -> Response | str:
    """The import's state, the same whenever it is asked: running, the act, or every problem found."""
    if job.finished and job.error is None:
        response: Response = make_response(
            render_template("acts/_import_status.html", job=job),
            redirect=url_for("receive.screen", act_id=job.result.act_id),
        )
        return response
    problems = []
    if isinstance(job.error, importing.ActImportError):
        lang = str(get_locale() or "ru")
        problems = [(p.where(lang), p.location, p.message(lang)) for p in job.error.problems]
    elif job.error is not None:
        current_app.logger.error("import failed", exc_info=job.error)
    return render_template("acts/_import_status.html", job=job, problems=problems)
