"""What tolok keeps of telling people: alert rules made in the app, the alerts each rule
opened and resolved, every message sent (or that failed), and every scheduled run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from tolok.store.schema import Base


class AlertRule(Base):
    """An alert rule made in the app (rules in YAML live in git); the same language."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    definition: Mapped[str] = mapped_column(Text)  # JSON, as the YAML would say it
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AlertEvent(Base):
    """One alert: a rule's condition held for a KPI from `opened_at` until `resolved_at`.
    While it is open `open_key` is "rule\\x1fkpi", so a second open alert cannot be written."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(200), index=True)
    kpi: Mapped[str] = mapped_column(String(200))
    open_key: Mapped[str | None] = mapped_column(String(401), unique=True, nullable=True)
    period: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    detail: Mapped[str] = mapped_column(Text)  # JSON: what was seen when it opened
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    resolved_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    told_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """When its message went out; None while held (quiet hours)."""
    resolve_told_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    tried_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """When its message was last tried: one that failed waits before the next try."""


class Delivery(Base):
    """One message to one recipient. `key` names what it is (the alert and its event, or the
    schedule and its run) so that a run repeated after a crash never sends it twice."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(600), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # alert, resolved, digest, report, test
    channel: Mapped[str] = mapped_column(String(200))  # its name, or "owner", or "address"
    address: Mapped[str] = mapped_column(String(600))  # e-mail address, or webhook host
    subject: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20))  # sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    """When a process last took it to send: a row "sending" since less than a lease is in
    flight elsewhere, an older one was left by a process that died."""
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ScheduleRun(Base):
    """One occurrence of a schedule: claimed by one process (a lease it renews), then done,
    failed or superseded (a later occurrence ran in its place after a long stop)."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC, naive
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed, superseded
    owner: Mapped[str] = mapped_column(String(200))  # host:pid:random of the claiming process
    lease_until: Mapped[dt.datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # e.g. occurrences missed


def has_alert_rules(engine: Engine) -> bool:
    """The store holds an alert rule made in the app: read after each `tolok refresh`,
    which checks alerts only then (or when the YAML has some)."""
    with engine.connect() as connection:
        return bool(connection.scalar(select(func.count()).select_from(AlertRule)))
