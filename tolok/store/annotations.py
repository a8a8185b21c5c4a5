"""Change annotations: what people changed, when, and which KPIs it should move."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from tolok.store.schema import Annotation, AuditEntry


def annotate(session: Session, day: dt.date, text: str, kpis: list[str], author: str) -> Annotation:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    note = Annotation(day=day, text=text, kpis=json.dumps(kpis), author=author, created_at=now)
    session.add(note)
    session.flush()
    session.add(
        AuditEntry(
            at=now,
            actor=author,
            action="annotation.add",
            subject=f"annotation {note.id} ({', '.join(kpis)})",
            before=None,
            after=json.dumps({"day": day.isoformat(), "text": text, "kpis": kpis}),
        )
    )
    return note


def list_annotations(session: Session, kpi: str | None = None) -> list[Annotation]:
    found = list(session.scalars(select(Annotation).order_by(Annotation.day, Annotation.id)))
    return [a for a in found if kpi is None or kpi in json.loads(a.kpis)]
