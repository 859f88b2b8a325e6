"""Report downloads: the report is made in the background with a progress bar, then downloaded once ready."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Blueprint, abort, current_app, g, render_template, request, send_file
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from warehouse.db import get_db
from warehouse.services.acts import act_by_id
from warehouse.services.jobs import Job, jobs
from warehouse.services.reporting import (
    SUPPORTED,
    ReportError,
    ReportFormat,
    ReportKind,
    file_name,
    render,
    report_folder,
)
from warehouse.vocab import Role
from warehouse.web.access import roles
from warehouse.web.common import ui_lang as _lang

bp = Blueprint("reports", __name__)


@bp.post("/acts/<int:act_id>/reports")
@roles(Role.STAFF, Role.LEAD, Role.ADMIN)
def start(act_id: int) -> tuple[str, int] | str:
    # One choice of what exists ("codes:xlsx"); kind and format apart still work (scripts, older pages).
    kind_value, _sep, fmt_value = request.form.get("report", "").partition(":")
    try:
        kind = ReportKind(kind_value or request.form.get("kind", ""))
        fmt = ReportFormat(fmt_value or request.form.get("format", ""))
    except ValueError:
        return render_template("reports/_status.html", message=_("Choose a report and a format.")), 400
    if (kind, fmt) not in SUPPORTED:
        return render_template("reports/_status.html", message=ReportError("unsupported").message(_lang())), 400
    db = get_db()
    act = act_by_id(db, act_id)
    if act is None:
        abort(404)
    name = file_name(act, kind, fmt)
    folder = report_folder(Path(current_app.instance_path))
    lang = _lang()

    def work(job: Job) -> Path:
        def progress(n: int) -> None:
            job.done = n

        try:
            return render(db, act_id, kind, fmt, folder / name, lang, progress=progress)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    job = jobs.start("report", g.user.id, work)
    return render_template("reports/_status.html", job=job, name=name)


def _own_job(job_id: str) -> Job:
    job = jobs.get(job_id)
    if job is None or job.kind != "report" or job.owner != g.user.id:
        abort(404)
    return job


@bp.get("/reports/<job_id>")
@roles(Role.STAFF, Role.LEAD, Role.ADMIN)
def status(job_id: str) -> str:
    job = _own_job(job_id)
    message = None
    if job.error is not None:
        current_app.logger.error("report failed", exc_info=job.error)
        message = (
            job.error.message(_lang())
            if isinstance(job.error, ReportError)
            else _("Something went wrong. The action was not carried out.")
        )
    return render_template("reports/_status.html", job=job, message=message)


@bp.get("/reports/<job_id>/download")
@roles(Role.STAFF, Role.LEAD, Role.ADMIN)
def download(job_id: str) -> Response:
    job = _own_job(job_id)
    if not job.finished or job.error is not None or not isinstance(job.result, Path) or not job.result.exists():
        abort(404)
    return send_file(job.result, as_attachment=True, download_name=job.result.name)
