"""What a schedule does when it is due: refresh (then check alerts), check alerts, send a
digest to each recipient in their language, or make a report and send or file it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from tolok.engine.warehouse import KeptWarehouse, Warehouse
from tolok.notify.alerts import check_alerts
from tolok.notify.channels import Sender
from tolok.notify.messages import Attachment, Message, Recipient
from tolok.notify.recipients import recipients, selected
from tolok.notify.schedule import joined, note_text, said
from tolok.notify.volume import volume_counter
from tolok.spec.loaded import LoadedProject
from tolok.spec.sharing import Job, ReportFormat, Schedule

if TYPE_CHECKING:
    from tolok.notify.schedule import Outcome

log = logging.getLogger("tolok.notify")
MIME = {
    ReportFormat.pdf: "application/pdf",
    ReportFormat.html: "text/html",
    ReportFormat.md: "text/markdown",
    ReportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class UndeliveredError(Exception):
    """Some messages of a run did not go out: the run is marked failed and tried again later
    (what went out is not sent twice). Its message is a note in no language (`said`)."""


class Jobs:
    """The runner the scheduler calls; `project()` reads the project as it is now (a
    server picks up edits to tolok.yaml), `open_warehouse` connects for refreshes."""

    def __init__(
        self,
        project: Callable[[], LoadedProject],
        engine: Engine,
        sender: Sender,
        open_warehouse: Callable[[LoadedProject], Warehouse],
    ) -> None:
        self.project, self.engine, self.sender = project, engine, sender
        self.open_warehouse = open_warehouse
        self.refreshing: AbstractContextManager[object] = nullcontext()
        """Held around a refresh (the server's refresher lock: one refresh at a time)."""
        self.kept: KeptWarehouse | None = None
        """The server's warehouse kept between refreshes (used with `refreshing` held)."""

    def __call__(self, name: str, schedule: Schedule, due: dt.datetime) -> str | None:
        loaded = self.project()
        if schedule.do is Job.refresh:
            return self.refresh(loaded)
        if schedule.do is Job.alerts:
            return self.checked(loaded)
        key = f"schedule:{name}:{due.isoformat()}"
        if schedule.do is Job.digest:
            return self.digest(loaded, schedule, key)
        return self.report(loaded, name, schedule, due, key)

    def refresh(self, loaded: LoadedProject) -> str:
        from tolok.engine.refresh import refresh_into_store

        with self.refreshing:
            if self.kept is not None:
                with self.kept.use(loaded) as warehouse:
                    refreshed, _ = refresh_into_store(loaded, warehouse, self.engine, "schedule")
            else:
                warehouse = self.open_warehouse(loaded)
                try:
                    refreshed, _ = refresh_into_store(loaded, warehouse, self.engine, "schedule")
                finally:
                    warehouse.close()
        return joined(said("refreshed", n=len(refreshed.totals)), self.checked(loaded)) or ""

    def alerts(self, loaded: LoadedProject) -> str:
        """Check the alert rules now; what happened, in English (for the server's log)."""
        return note_text(self.checked(loaded)) or ""

    def checked(self, loaded: LoadedProject) -> str:
        """Check the alert rules now; what happened, as a note in no language (`said`)."""
        volume = volume_counter(loaded, self.open_warehouse)
        run = check_alerts(loaded, self.engine, self.sender, volume=volume)
        return said("alerts", opened=len(run.opened), resolved=len(run.resolved),
                    sent=run.sent, failed=run.failed, held=run.held)  # fmt: skip

    def digest(self, loaded: LoadedProject, schedule: Schedule, key: str) -> str:
        from tolok.notify.digest import build_digest, digest_title

        project = loaded.project
        assert project is not None
        kpis = selected(project, schedule)
        plan: list[tuple[Recipient, list[str]]] = []
        if schedule.each_owner:
            owners = sorted({(project.kpis[k].owner or "").lower() for k in kpis} - {""})
            for owner in owners:
                own = [k for k in kpis if (project.kpis[k].owner or "").lower() == owner]
                plan += [(r, own) for r in recipients([owner], project, self.engine)]
        plan += [(r, kpis) for r in recipients(schedule.to, project, self.engine)]
        made: dict[tuple[str, tuple[str, ...]], Message | None] = {}
        sent = failed = refused = 0
        for recipient, names in plan:
            wanted = (recipient.locale, tuple(names))
            if wanted not in made:
                title = schedule.description or digest_title(schedule.every.value, wanted[0])
                made[wanted] = build_digest(loaded, names, wanted[0], title=title, url=project.url)
            message = made[wanted]
            if message is None:
                continue
            outcome = self.sender.send(key, recipient, message)
            sent += outcome in ("sent", "already sent")
            failed += outcome == "failed"
            refused += outcome == "refused"
        if failed:  # tried again later: what went out is not sent twice
            raise UndeliveredError(said("digest", sent=sent, refused=refused, failed=failed))
        return said("digest", sent=sent, refused=refused, failed=0)

    def report(
        self, loaded: LoadedProject, name: str, schedule: Schedule, due: dt.datetime, key: str
    ) -> str:
        from tolok.notify import report as reports

        project = loaded.project
        assert project is not None
        notes = []
        made = {}
        failed = False
        for recipient in recipients(schedule.to, project, self.engine):
            if recipient.locale not in made:
                made[recipient.locale] = _report_message(loaded, schedule, name, recipient.locale)
            outcome = self.sender.send(key, recipient, made[recipient.locale])
            notes.append(said("delivered", to=recipient.shown, outcome=outcome))
            failed = failed or outcome == "failed"
        if schedule.folder is not None:
            folder = (loaded.root / schedule.folder).resolve()
            folder.mkdir(parents=True, exist_ok=True)
            built = reports.build(loaded, schedule.goal, None)
            local = due.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(project.timezone))
            path = folder / f"{name}-{local:%Y-%m-%d}.{schedule.format.value}"
            path.write_bytes(_render(built, schedule.format))
            notes.append(said("written", path=str(path)))
        if failed:
            raise UndeliveredError(joined(*notes) or "")
        return joined(*notes) or said("nobody")


def _render(built: object, form: ReportFormat) -> bytes:
    from tolok.notify import report as reports

    assert isinstance(built, reports.Report)
    if form is ReportFormat.pdf:
        return reports.to_pdf(built)
    if form is ReportFormat.xlsx:
        return reports.to_xlsx(built)
    if form is ReportFormat.html:
        return reports.to_html(built).encode()
    return reports.to_markdown(built).encode()


def _report_message(loaded: LoadedProject, schedule: Schedule, name: str, lang: str) -> Message:
    """The report attached to a short message; a webhook gets the summary lines."""
    from tolok.i18n import gettext
    from tolok.notify import report as reports

    _ = gettext(lang)
    built = reports.build(loaded, schedule.goal, None, lang)
    filename = f"{name}.{schedule.format.value}"
    lines = [f"{line.title}: {line.value_text} ({line.status_text})" for line in built.lines]
    subject = _("{project}: {title} report", project=built.project, title=built.title)
    text = "\n".join([subject, built.period_note, "", *lines])
    attachment = Attachment(filename, MIME[schedule.format], _render(built, schedule.format))
    return Message(
        kind="report", subject=subject, text=text, attachments=[attachment],
        payload={"event": "report", "project": built.project, "title": built.title,
                 "lines": [{"kpi": line.name, "value": line.value, "target": line.target,
                            "status": line.status} for line in built.lines]},
    )  # fmt: skip


def run_due(root: Path, now: Callable[[], dt.datetime] | None = None) -> list[Outcome]:
    """`tolok run-due`: run what is due once (for cron), with the project's store."""
    from tolok.notify.schedule import Scheduler
    from tolok.spec.loader import load_project
    from tolok.store.database import open_store, store_url
    from tolok.store.manual import source

    loaded = load_project(root)
    project = loaded.project
    if project is None or not loaded.ok:
        raise ValueError("the project does not validate: run `tolok validate`")
    engine = open_store(store_url(project.store, loaded.root))
    sender = Sender(engine, project.email)

    def warehouse(adhoc: LoadedProject) -> Warehouse:
        return Warehouse(adhoc, manual=source(engine))

    jobs = Jobs(lambda: load_project(root), engine, sender, warehouse)
    scheduler = Scheduler(engine, jobs, now) if now else Scheduler(engine, jobs)
    try:
        return scheduler.run_due(project)
    finally:
        engine.dispose()
