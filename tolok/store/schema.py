"""The store's tables. Every change to them comes with an Alembic migration."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class SpecVersion(Base):
    """One version of a KPI's definition: recorded when a refresh sees it change."""

    __tablename__ = "spec_versions"
    __table_args__ = (UniqueConstraint("kpi", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi: Mapped[str] = mapped_column(String(200), index=True)
    number: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    compute_hash: Mapped[str] = mapped_column(String(64))  # only what changes values
    definition: Mapped[str] = mapped_column(Text)  # normalised JSON
    diff: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Refresh(Base):
    """One run of `tolok refresh`; a run killed half-way stays `running`, its writes undone."""

    __tablename__ = "refreshes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20))  # running | done | failed
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Result(Base):
    """A KPI's current value for one grain, breakdown, period and slice."""

    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("kpi", "grain", "breakdown", "period", "slice"),
        Index("ix_results_series", "kpi", "grain", "breakdown"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi: Mapped[str] = mapped_column(String(200))
    grain: Mapped[str] = mapped_column(String(20))
    breakdown: Mapped[str] = mapped_column(String(400))  # "" for the total, "Region,Channel"
    period: Mapped[dt.date] = mapped_column(Date)
    slice: Mapped[str] = mapped_column(String(1000))  # JSON list of dimension values
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("spec_versions.id"))
    refresh_id: Mapped[int] = mapped_column(ForeignKey("refreshes.id"))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ReportedResult(Base):
    """A value as it was reported before a definition change restated it."""

    __tablename__ = "reported_results"
    __table_args__ = (
        UniqueConstraint("kpi", "grain", "breakdown", "period", "slice", "version_id"),
        Index("ix_reported_series", "kpi", "grain", "breakdown"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi: Mapped[str] = mapped_column(String(200))
    grain: Mapped[str] = mapped_column(String(20))
    breakdown: Mapped[str] = mapped_column(String(400))
    period: Mapped[dt.date] = mapped_column(Date)
    slice: Mapped[str] = mapped_column(String(1000))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("spec_versions.id"))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ManualValue(Base):
    """A number a person typed in for a manual dataset's measure, one period and slice."""

    __tablename__ = "manual_values"
    __table_args__ = (UniqueConstraint("dataset", "measure", "grain", "period", "slice"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(200), index=True)
    measure: Mapped[str] = mapped_column(String(200))
    grain: Mapped[str] = mapped_column(String(20))  # of the period as entered (month, week…)
    period: Mapped[dt.date] = mapped_column(Date)
    slice: Mapped[str] = mapped_column(String(1000))  # JSON object of dimension values
    value: Mapped[float] = mapped_column(Float)
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditEntry(Base):
    """Who changed what, when, from what to what. Never updated, never deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))  # e.g. manual_value.enter
    subject: Mapped[str] = mapped_column(String(1000))  # what was changed, as a readable key
    before: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    after: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON


class Watermark(Base):
    """What a dataset looked like at the last refresh, to tell what new data touched."""

    __tablename__ = "watermarks"

    dataset: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(Text)  # JSON: files or table state, see engine/watermarks
    refresh_id: Mapped[int] = mapped_column(ForeignKey("refreshes.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Annotation(Base):
    """A change people made (a campaign, a new checkout), on a day, meant to move KPIs."""

    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    kpis: Mapped[str] = mapped_column(Text)  # JSON list of KPI names
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PersonTarget(Base):
    """A target set by a person for one period (and slice) of a KPI; it wins over YAML."""

    __tablename__ = "person_targets"
    __table_args__ = (UniqueConstraint("kpi", "period", "slice"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi: Mapped[str] = mapped_column(String(200), index=True)
    period: Mapped[dt.date] = mapped_column(Date)  # first day, at the KPI's grain
    slice: Mapped[str] = mapped_column(String(1000))  # JSON object of dimension values
    value: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime)


class MeasureAggregate(Base):
    """One period and slice of a measure query's result, kept so that an incremental
    refresh reads the periods before the ones new data touched from here, not the data."""

    __tablename__ = "measure_aggregates"
    __table_args__ = (UniqueConstraint("signature", "period", "slice"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signature: Mapped[str] = mapped_column(String(64))  # of the query and all that shapes it
    dataset: Mapped[str] = mapped_column(String(200), index=True)
    period: Mapped[dt.date] = mapped_column(Date)
    slice: Mapped[str] = mapped_column(String(1000))  # JSON list of dimension values
    measures: Mapped[str] = mapped_column(Text)  # JSON object: result column -> value or null
    refresh_id: Mapped[int] = mapped_column(ForeignKey("refreshes.id"))


class Snapshot(Base):
    """A current-state dataset's measure query as of one refresh's day: its history, which
    the data itself does not keep."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("signature", "day", "slice"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signature: Mapped[str] = mapped_column(String(64))  # of the query, at no grain
    dataset: Mapped[str] = mapped_column(String(200), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    slice: Mapped[str] = mapped_column(String(1000))  # JSON list of dimension values
    measures: Mapped[str] = mapped_column(Text)  # JSON object: result column -> value or null
    refresh_id: Mapped[int] = mapped_column(ForeignKey("refreshes.id"))


from tolok.store import people as _people  # noqa: E402, F401  (registers its tables)
from tolok.store import sharing as _sharing  # noqa: E402, F401
