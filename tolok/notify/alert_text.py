"""An alert's message in one language: the subject, a few plain lines, Slack blocks and the
JSON a signed webhook receives. E-mail gets a short HTML version of the same lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html import escape
from typing import Any

from tolok.i18n import Formats, gettext, status_words
from tolok.notify.messages import Message, slack_escape
from tolok.spec.calendar import Calendar
from tolok.spec.models import KPI, Project, Unit
from tolok.spec.sharing import Alert, AlertWhen


def alert_message(
    project: Project,
    rule_name: str,
    rule: Alert,
    kpi_name: str,
    period: dt.date | None,
    detail: dict[str, Any],
    lang: str,
    resolved: bool = False,
) -> Message:
    _ = gettext(lang)
    kpi = project.kpis[kpi_name]
    fmt = Formats(lang, project.currency, Calendar.of(project))
    title = kpi.title or kpi_name
    when = fmt.period(period, kpi.grain) if period else ""
    headline = _resolved_line(_, rule, title) if resolved else _headline(_, rule, title, detail)
    subject = f"{project.name}: {headline}" + (f" ({when})" if when else "")
    lines = [headline + (f" — {when}" if when else "")]
    lines += _figures(_, fmt, kpi, detail)
    if not resolved and rule.note:
        lines.append(rule.note)
    if not resolved and kpi.actions and rule.when is not AlertWhen.target_reached:
        lines.append(_("What to do: {action}", action=kpi.actions[0]))
    if kpi.owner:
        lines.append(_("Owner: {owner}", owner=kpi.owner))
    link = f"{project.url.rstrip('/')}/kpis/{kpi_name}" if project.url else None
    if link:
        lines.append(link)
    lines.append(_("Alert rule: {rule}", rule=rule_name))
    text = "\n".join(lines)
    kind = "resolved" if resolved else "alert"
    payload = {
        "event": "alert.resolved" if resolved else "alert.opened",
        "project": project.name,
        "rule": rule_name,
        "when": rule.when.value,
        "kpi": {"name": kpi_name, "title": title, "unit": kpi.unit.value, "grain": kpi.grain.value,
                "owner": kpi.owner},
        "period": period.isoformat() if period else None,
        "detail": detail,
        "url": link,
    }  # fmt: skip
    return Message(
        kind=kind,
        subject=subject,
        text=text,
        html=_html(lines, link),
        blocks=_blocks(lines, link),
        payload=payload,
    )


def _headline(_: Callable[..., str], rule: Alert, title: str, detail: dict[str, Any]) -> str:
    words = status_words(_)
    if rule.when is AlertWhen.status:
        status = words.get(str(detail.get("status")), str(detail.get("status")))
        return _("{kpi} is {status}", kpi=title, status=status.lower())
    if rule.when is AlertWhen.threshold:
        if rule.above is not None and (detail.get("value") or 0) > rule.above:
            return _("{kpi} is above its alert line", kpi=title)
        return _("{kpi} is below its alert line", kpi=title)
    if rule.when is AlertWhen.change:
        if (detail.get("change") or 0) < 0:
            return _("{kpi} fell sharply", kpi=title)
        return _("{kpi} rose sharply", kpi=title)
    if rule.when is AlertWhen.anomaly:
        return _("{kpi} is unusual", kpi=title)
    if rule.when is AlertWhen.target_reached:
        return _("{kpi} reached its target", kpi=title)
    return _("{kpi} has no new data", kpi=title)


def _resolved_line(_: Callable[..., str], rule: Alert, title: str) -> str:
    if rule.when is AlertWhen.stale:
        return _("{kpi} has new data again", kpi=title)
    if rule.when is AlertWhen.target_reached:
        return _("{kpi} is below its target again", kpi=title)
    return _("Resolved: {kpi} is back to normal", kpi=title)


def _figures(_: Callable[..., str], fmt: Formats, kpi: KPI, detail: dict[str, Any]) -> list[str]:
    out = []
    if "value" in detail:
        value = fmt.value(detail["value"], kpi.unit)
        target = detail.get("target")
        if target is not None:
            out.append(_("Value: {value} (target {target}, {share} reached)", value=value,
                         target=fmt.value(target, kpi.unit),
                         share=fmt.share(detail.get("attainment"))))  # fmt: skip
        else:
            out.append(_("Value: {value}", value=value))
    if detail.get("previous") is not None:
        previous = fmt.value(detail["previous"], kpi.unit)
        if kpi.unit is Unit.percent:
            decimals = fmt.value_decimals([detail["value"], detail["previous"]], kpi.unit)
            moved = fmt.points(detail["value"] - detail["previous"], decimals)
        else:
            moved = fmt.change(detail.get("change"))
        out.append(_("The period before: {previous} ({change})", previous=previous, change=moved))
    if detail.get("expected") is not None:
        expected = fmt.value(detail["expected"], kpi.unit)
        out.append(_("Expected about {expected}", expected=expected))
    if detail.get("volume") is not None:
        out.append(_("Volume: {volume}", volume=fmt.value(detail["volume"], Unit.count)))
    if detail.get("newest"):
        newest = fmt.day(dt.date.fromisoformat(detail["newest"]))
        out.append(_("Newest data: {day}, {days} days ago", day=newest, days=detail.get("days")))
    return out


def _html(lines: list[str], link: str | None) -> str:
    head, rest = lines[0], lines[1:]
    body = "".join(f'<p style="margin:4px 0">{escape(line)}</p>' for line in rest if line != link)
    button = (
        f'<p style="margin:16px 0"><a href="{escape(link)}" style="color:#1a56db">'
        f"{escape(link)}</a></p>"
        if link
        else ""
    )
    return (
        '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;'
        'color:#1f2937;max-width:600px">'
        f'<h2 style="font-size:18px;margin:0 0 12px">{escape(head)}</h2>{body}{button}'
        "</body></html>"
    )


def _blocks(lines: list[str], link: str | None) -> list[dict[str, Any]]:
    head = f"*<{link}|{slack_escape(lines[0])}>*" if link else f"*{slack_escape(lines[0])}*"
    rest = "\n".join(slack_escape(line) for line in lines[1:] if line != link)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    if rest:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": rest}})
    return blocks
