"""The terminal side of `tolok run-due`, `tolok alerts` and `tolok deliveries`."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from tolok.cli.lang import lang_of, number_text, period_label, words
from tolok.said import error_text
from tolok.spec.loaded import LoadedProject


def run_due_once(root: Path, out: Console, err: Console) -> bool:
    from tolok.engine.locks import WarehouseBusyError
    from tolok.notify.jobs import run_due
    from tolok.spec.loader import load_project

    project = load_project(root).project
    _, lang = words(project), lang_of(project)
    try:
        outcomes = run_due(root)
    except WarehouseBusyError as exc:
        err.print(error_text(exc.message, _), markup=False)
        return False
    if not outcomes:
        out.print(_("nothing due"), markup=False)
    states = {"done": _("done"), "failed": _("failed"), "seen": _("seen"),
              "waiting": _("waiting")}  # fmt: skip
    for outcome in outcomes:
        said = outcome.text(lang)
        note = f" — {said}" if said else ""
        state = states.get(outcome.status, outcome.status)
        out.print(f"{outcome.schedule} ({outcome.due_at:%Y-%m-%d %H:%M} UTC): "
                  f"{state}{note}", markup=False)  # fmt: skip
    return all(o.status != "failed" for o in outcomes)


def alerts_after_refresh(loaded: LoadedProject, out: Console) -> bool:
    """After `tolok refresh`: check the alert rules when there are any (in the YAML or made
    in the app), so that a nightly cron refresh tells people too. False when a message
    failed."""
    from tolok.store.database import open_store, store_url
    from tolok.store.sharing import has_alert_rules

    project = loaded.project
    assert project is not None
    if not project.alerts:
        engine = open_store(store_url(project.store, loaded.root))
        try:
            if not has_alert_rules(engine):
                return True
        finally:
            engine.dispose()
    return run_alert_check(loaded, out)


def run_alert_check(loaded: LoadedProject, out: Console) -> bool:
    """Check every rule now and send what is due (what `do: alerts` does on a schedule)."""
    from tolok.engine.warehouse import Warehouse
    from tolok.notify.alerts import check_alerts, open_alerts
    from tolok.notify.channels import Sender
    from tolok.notify.volume import volume_counter
    from tolok.store.database import open_store, store_url
    from tolok.store.manual import source

    project = loaded.project
    assert project is not None
    engine = open_store(store_url(project.store, loaded.root))
    try:
        volume = volume_counter(loaded, lambda adhoc: Warehouse(adhoc, manual=source(engine)))
        run = check_alerts(loaded, engine, Sender(engine, project.email), volume=volume)
        _, lang = words(project), lang_of(project)
        for rule, kpi in run.opened:
            out.print(_("opened: {rule} · {kpi}", rule=rule, kpi=kpi), markup=False)
        for rule, kpi in run.resolved:
            out.print(_("resolved: {rule} · {kpi}", rule=rule, kpi=kpi), markup=False)
        still = len(open_alerts(engine))
        sent = _("{n} message sent") if run.sent == 1 else _("{n} messages sent")
        opened = _("{n} alert open") if still == 1 else _("{n} alerts open")
        summary = _("{sent}, {failed} failed, {held} held for quiet hours; {open}",
                    sent=sent.format(n=number_text(run.sent, lang)),
                    failed=number_text(run.failed, lang), held=number_text(run.held, lang),
                    open=opened.format(n=number_text(still, lang)))  # fmt: skip
        out.print(summary, markup=False)
        return run.failed == 0
    finally:
        engine.dispose()


def print_open_alerts(loaded: LoadedProject, out: Console) -> None:
    from tolok.notify.alerts import open_alerts
    from tolok.store.database import open_store, store_url

    project = loaded.project
    assert project is not None
    engine = open_store(store_url(project.store, loaded.root))
    _ = words(project)
    try:
        alerts = open_alerts(engine)
        if not alerts:
            out.print(_("no open alerts"), markup=False)
            return
        table = Table(_("rule"), "KPI", _("period"), _("opened (UTC)"), _("told"))
        for alert in alerts:
            kpi = project.kpis.get(alert.kpi)
            period = str(alert.period or "")
            if alert.period and kpi is not None and lang_of(project) != "en":
                period = period_label(project, alert.period, kpi.grain)  # Okt 2026
            table.add_row(alert.rule, alert.kpi, period,
                          f"{alert.opened_at:%Y-%m-%d %H:%M}",
                          _("yes") if alert.told_at else _("held"))  # fmt: skip
        out.print(table)
    finally:
        engine.dispose()


def print_deliveries(loaded: LoadedProject, limit: int, failed: bool, out: Console) -> None:
    from tolok.notify.channels import delivery_log
    from tolok.store.database import open_store, store_url

    project = loaded.project
    assert project is not None
    engine = open_store(store_url(project.store, loaded.root))
    _, lang = words(project), lang_of(project)
    try:
        rows = delivery_log(engine, limit, 0, "failed" if failed else None)
        if not rows:
            out.print(_("no failed deliveries") if failed else _("nothing sent yet"),
                      markup=False)  # fmt: skip
            return
        kinds = {"alert": _("alert"), "resolved": _("resolved"), "digest": _("digest"),
                 "report": _("report"), "test": _("test")}  # fmt: skip
        states = {"sent": _("sent"), "failed": _("failed"), "sending": _("sending"),
                  "refused": _("refused")}  # fmt: skip
        table = Table(_("when (UTC)"), _("kind"), _("channel"), _("address"), _("subject"),
                      _("status"), _("tries"))  # fmt: skip
        for row in rows:
            state = states.get(row.status, row.status)
            table.add_row(f"{row.created_at:%Y-%m-%d %H:%M}", kinds.get(row.kind, row.kind),
                          row.channel, row.address, row.subject,
                          state + (f": {row.error}" if row.error else ""),
                          number_text(row.attempts, lang))  # fmt: skip
        out.print(table)
    finally:
        engine.dispose()
