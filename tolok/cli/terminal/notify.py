"""The terminal side of `tolok run-due`, `tolok alerts` and `tolok deliveries`."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from tolok.display import english_count
from tolok.spec.loaded import LoadedProject


def run_due_once(root: Path, out: Console, err: Console) -> bool:
    from tolok.engine.locks import WarehouseBusyError
    from tolok.notify.jobs import run_due

    try:
        outcomes = run_due(root)
    except WarehouseBusyError as exc:
        err.print(f"error: {exc.message}", markup=False)
        return False
    if not outcomes:
        out.print("nothing due", markup=False)
    for outcome in outcomes:
        note = f" — {outcome.note}" if outcome.note else ""
        out.print(f"{outcome.schedule} ({outcome.due_at:%Y-%m-%d %H:%M} UTC): "
                  f"{outcome.status}{note}", markup=False)  # fmt: skip
    return all(o.status != "failed" for o in outcomes)


def alerts_after_refresh(loaded: LoadedProject, out: Console) -> bool:
    """After `tolok refresh`: check the alert rules when there are any (in the YAML or made
    in the app), so that a nightly cron refresh tells people too. False when a message
    failed."""
    from tolok.notify.schedule import has_app_rules
    from tolok.store.database import open_store, store_url

    project = loaded.project
    assert project is not None
    if not project.alerts:
        engine = open_store(store_url(project.store, loaded.root))
        try:
            if not has_app_rules(engine):
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
        for rule, kpi in run.opened:
            out.print(f"opened: {rule} · {kpi}", markup=False)
        for rule, kpi in run.resolved:
            out.print(f"resolved: {rule} · {kpi}", markup=False)
        still = len(open_alerts(engine))
        summary = f"{english_count(run.sent, 'message')} sent, {run.failed} failed, "
        summary += f"{run.held} held for quiet hours; {english_count(still, 'alert')} open"
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
    try:
        table = Table("rule", "KPI", "period", "opened (UTC)", "told")
        for alert in open_alerts(engine):
            table.add_row(alert.rule, alert.kpi, str(alert.period or ""),
                          f"{alert.opened_at:%Y-%m-%d %H:%M}",
                          "yes" if alert.told_at else "held")  # fmt: skip
        out.print(table)
    finally:
        engine.dispose()


def print_deliveries(loaded: LoadedProject, limit: int, failed: bool, out: Console) -> None:
    from tolok.notify.channels import delivery_log
    from tolok.store.database import open_store, store_url

    project = loaded.project
    assert project is not None
    engine = open_store(store_url(project.store, loaded.root))
    try:
        rows = delivery_log(engine, limit, 0, "failed" if failed else None)
        table = Table("when (UTC)", "kind", "channel", "address", "subject", "status", "tries")
        for row in rows:
            table.add_row(f"{row.created_at:%Y-%m-%d %H:%M}", row.kind, row.channel,
                          row.address, row.subject, row.status + (f": {row.error}"
                          if row.error else ""), str(row.attempts))  # fmt: skip
        out.print(table)
    finally:
        engine.dispose()
