"""The digest: a scheduled summary of some KPIs for a person or a team, in their language.

What needs attention comes first (off track, then at risk, with who owns it and what to do),
then what changed since the period before, then every KPI. The HTML is made for mail clients,
not browsers: tables and inline styles (Outlook lays out with Word, Gmail drops `<style>`
blocks it dislikes), no scripts, and charts as PNG images attached inline (`cid:`), because
neither Gmail nor Outlook shows SVG. The same figures go out as JSON for webhooks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tolok import clock
from tolok.display import MISSING
from tolok.i18n import Formats, gettext, status_words
from tolok.notify.messages import Image, Message, slack_escape
from tolok.notify.pngchart import line_png
from tolok.notify.report import Line, kpi_lines
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject

if TYPE_CHECKING:
    from tolok.answers.verdicts import KpiState

CHARTS = 12  # at most this many images in one e-mail: more makes it slow and clipped
MOVES = 3  # the biggest moves listed under "what changed"
ATTENTION = ("off_track", "at_risk")  # in this order
HEADLINE = ("on_track", "at_risk", "off_track", "no_target", "no_data")
STYLES = {  # (text, background) of a status: shown as colour and as words
    "on_track": ("#137333", "#e6f4ea"),
    "at_risk": ("#8a5a00", "#fdf3d7"),
    "off_track": ("#b3261e", "#fce8e6"),
    "no_target": ("#5f6b78", "#eef0f3"),
    "no_data": ("#5f6b78", "#eef0f3"),
}


@dataclass(frozen=True)
class DigestRow:
    """One KPI as the digest shows it: the report's line and what the digest adds."""

    line: Line
    period_start: dt.date | None
    change: float | None  # relative to the period before; None when it means nothing
    was: str | None  # the status of the period before, when known
    was_text: str
    action: str  # the KPI's first action, "" when none is written down
    link: str | None
    colour: str
    background: str


@dataclass(frozen=True)
class Digest:
    """What the template and the plain text are made from."""

    project: str
    title: str
    lang: str
    subject: str
    day: str
    headline: list[tuple[str, str, int]]  # (status, words, count), zero counts left out
    rows: list[DigestRow]
    attention: list[DigestRow]
    changed: list[DigestRow]  # status differs from the period before
    moves: list[DigestRow]  # the biggest changes of value among the others
    charts: dict[str, Image]  # by KPI name
    url: str | None


def digest_title(every: str, lang: str) -> str:
    """The usual title of a digest sent every `every` (hour, day, week, month)."""
    _ = gettext(lang)
    titles = {"hour": _("Hourly digest"), "day": _("Daily digest"),
              "week": _("Weekly digest"), "month": _("Monthly digest")}  # fmt: skip
    return titles.get(every, _("Digest"))


def build_digest(
    loaded: LoadedProject,
    kpis: list[str],
    lang: str,
    *,
    title: str,
    url: str | None = None,
    today: dt.date | None = None,
) -> Message | None:
    """The digest of `kpis` (in that order) in `lang`, each KPI in its last closed period on
    `today` (the project's today when None), titled `title` ("Digest" when empty; see
    `digest_title`); links go to `{url}/kpis/{name}` when `url` is given. None when no KPI
    is asked, or none of those asked is active: nothing to send.

    The message carries a plain-text part, an HTML part with its charts as inline images,
    and `payload` (the same figures as JSON) for webhooks."""
    from tolok.answers.verdicts import kpi_states

    project = loaded.project
    assert project is not None
    if not kpis:
        return None
    today = today or clock.today(project)
    states = kpi_states(loaded, today)
    lines = kpi_lines(loaded, kpis, states, lang)
    if not lines:
        return None
    title = title or gettext(lang)("Digest")
    before = _statuses_before(loaded, states, [line.name for line in lines])
    link = url.rstrip("/") if url else None
    rows = [_row(loaded, line, states[line.name], before.get(line.name), lang, link)
            for line in lines]  # fmt: skip
    digest = _digest(loaded, rows, lang, title, today, link)
    return Message(kind="digest", subject=digest.subject, text=to_text(digest),
                   html=to_html(digest), images=list(digest.charts.values()),
                   blocks=to_blocks(digest), payload=_payload(digest))  # fmt: skip


def _statuses_before(
    loaded: LoadedProject, states: dict[str, KpiState], names: list[str]
) -> dict[str, str]:
    """Each KPI's status in the judged period before its last judged one, as every surface
    judged it (a period that was still provisional then is judged now)."""
    del loaded
    out: dict[str, str] = {}
    for name in names:
        judged = [v for v in states[name].verdicts if v.judged]
        if len(judged) >= 2 and judged[-2].status is not None:
            out[name] = judged[-2].status.value
    return out


def _row(
    loaded: LoadedProject,
    line: Line,
    state: KpiState,
    was: str | None,
    lang: str,
    url: str | None,
) -> DigestRow:
    project = loaded.project
    assert project is not None
    previous = line.history[-2][1] if len(line.history) >= 2 else None
    change = None
    if line.value is not None and previous:
        change = (line.value - previous) / abs(previous)
    actions = project.kpis[line.name].actions
    colour, background = STYLES.get(line.status, STYLES["no_data"])
    return DigestRow(
        line=line, period_start=state.latest.period if state.latest else None, change=change,
        was=was, was_text=status_words(gettext(lang))[was] if was else "",
        action=actions[0] if actions else "", link=f"{url}/kpis/{line.name}" if url else None,
        colour=colour, background=background,
    )  # fmt: skip


def _digest(
    loaded: LoadedProject,
    rows: list[DigestRow],
    lang: str,
    title: str,
    today: dt.date,
    url: str | None,
) -> Digest:
    """The rows sorted into the digest's sections, with its subject and charts."""
    project = loaded.project
    assert project is not None
    _ = gettext(lang)
    words = status_words(_)
    attention = [r for status in ATTENTION for r in rows if r.line.status == status]
    changed = [r for r in rows if r.was is not None and r.was != r.line.status]
    moving = [r for r in rows if r not in changed and r.change]
    moves = sorted(moving, key=lambda r: -abs(r.change or 0.0))[:MOVES]
    counts = [(s, words[s], sum(r.line.status == s for r in rows)) for s in HEADLINE]
    n = len(attention)
    if n == 0:
        subject = _("{project}: nothing needs attention — {title}", project=project.name,
                    title=title)  # fmt: skip
    elif n == 1:
        subject = _("{project}: 1 KPI needs attention — {title}", project=project.name,
                    title=title)  # fmt: skip
    else:
        subject = _("{project}: {n} KPIs need attention — {title}", project=project.name,
                    n=n, title=title)  # fmt: skip
    fmt = Formats(lang, project.currency, Calendar.of(project))
    return Digest(
        project=project.name, title=title, lang=lang, subject=subject, day=fmt.day(today),
        headline=[c for c in counts if c[2] or c[0] != "no_data"], rows=rows,
        attention=attention, changed=changed, moves=moves,
        charts=_charts(loaded, attention + [r for r in rows if r not in attention], fmt),
        url=url,
    )  # fmt: skip


def _charts(loaded: LoadedProject, rows: list[DigestRow], fmt: Formats) -> dict[str, Image]:
    """A chart of each KPI that has values, in the order given, up to CHARTS."""
    project = loaded.project
    assert project is not None
    _ = gettext(fmt.lang)
    out: dict[str, Image] = {}
    for row in rows:
        line = row.line
        values = [v for _label, v in line.history]
        if all(v is None for v in values) or len(out) >= CHARTS:
            continue
        formatter: Callable[[float], str] = partial(fmt.value, unit=project.kpis[line.name].unit)
        png = line_png(values, [label for label, _v in line.history], target=line.target,
                       status=line.status, formatter=formatter, scale=2)  # fmt: skip
        alt = _("Chart of {kpi}, {first} to {last}", kpi=line.title,
                first=line.history[0][0], last=line.history[-1][0])  # fmt: skip
        if line.target is not None:
            alt += "; " + _("dashed line: target {target}", target=line.target_text)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", line.name).strip("-") or "kpi"
        out[line.name] = Image(cid=f"chart{len(out) + 1}-{slug}@tolok", png=png, alt=alt)
    return out


def _payload(digest: Digest) -> dict[str, Any]:
    """The digest as JSON for webhooks: numbers as numbers, texts as shown in the e-mail."""
    return {
        "project": digest.project,
        "title": digest.title,
        "lang": digest.lang,
        "counts": {s: sum(r.line.status == s for r in digest.rows) for s in HEADLINE},
        "attention": [r.line.name for r in digest.attention],
        "kpis": [
            {"name": r.line.name, "title": r.line.title,
             "period": r.period_start.isoformat() if r.period_start else None,
             "period_text": r.line.period, "value": r.line.value, "value_text": r.line.value_text,
             "target": r.line.target, "target_text": r.line.target_text,
             "status": r.line.status, "status_text": r.line.status_text,
             "status_before": r.was, "change": r.change, "change_text": r.line.change_text,
             "owner": r.line.owner or None, "action": r.action or None, "url": r.link}
            for r in digest.rows
        ],
    }  # fmt: skip


def _figures(row: DigestRow, _: Callable[..., str]) -> str:
    """The value against the target, or the value alone when there is no target."""
    line = row.line
    if line.target is None:
        return line.value_text
    return _("{value} against a target of {target}", value=line.value_text,
             target=line.target_text)  # fmt: skip


def to_text(digest: Digest) -> str:
    """The plain-text part: what a mail client without HTML, or a chat message, shows."""
    _ = gettext(digest.lang)
    out = [digest.subject, "", f"{digest.project} · {digest.title} · {digest.day}",
           " · ".join(f"{words}: {n}" for _s, words, n in digest.headline), ""]  # fmt: skip
    out.append(_("Needs attention").upper())
    if not digest.attention:
        out.append(_("Nothing is off track or at risk."))
    for row in digest.attention:
        out.append(f"* {row.line.title}: {row.line.status_text}")
        out.append(f"  {_figures(row, _)} ({row.line.period})")
        out.append(f"  {_('Owner')}: {row.line.owner or _('No owner')}")
        if row.action:
            out.append(f"  {_('Next step')}: {row.action}")
        if row.link:
            out.append(f"  {row.link}")
    out += ["", _("What changed since the period before").upper()]
    out += [f"* {r.line.title}: {r.was_text} → {r.line.status_text}" for r in digest.changed]
    out += [f"* {r.line.title}: {r.line.change_text}" for r in digest.moves]
    if not digest.changed and not digest.moves:
        out.append(_("No status changed and no value moved."))
    out += ["", _("All KPIs").upper()]
    for row in digest.rows:
        line = row.line
        out.append(f"* {line.title} ({line.period or MISSING}): {line.value_text} · "
                   f"{_('Target')} {line.target_text} · {line.status_text} · "
                   f"{line.change_text}")  # fmt: skip
    if digest.url:
        out += ["", f"{_('Open the board')}: {digest.url}/"]
    return "\n".join(out) + "\n"


def to_blocks(digest: Digest) -> list[dict[str, Any]]:
    """The digest for a chat (Slack's blocks): the counts, what needs attention and what
    changed, each KPI linked when the board's address is known."""
    _ = gettext(digest.lang)

    def name(row: DigestRow) -> str:
        title = slack_escape(row.line.title)
        return f"<{row.link}|{title}>" if row.link else title

    counts = " · ".join(f"{words}: {n}" for _s, words, n in digest.headline)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": digest.subject[:150]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(counts)}]},
    ]
    attention = [f"*{name(r)}* — {slack_escape(r.line.status_text)}: {slack_escape(_figures(r, _))}"
                 for r in digest.attention]  # fmt: skip
    said = "\n".join(attention) or slack_escape(_("Nothing is off track or at risk."))
    heading = slack_escape(_("Needs attention"))
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{heading}*\n{said}"}})
    moved = [f"{name(r)}: {slack_escape(r.was_text)} → {slack_escape(r.line.status_text)}"
             for r in digest.changed]  # fmt: skip
    moved += [f"{name(r)}: {slack_escape(r.line.change_text)}" for r in digest.moves]
    if moved:
        heading = slack_escape(_("What changed since the period before"))
        text = f"*{heading}*\n" + "\n".join(moved)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    return blocks


def to_html(digest: Digest) -> str:
    """The HTML part (`templates/digest.html`), its charts referred to by `cid:`."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    _ = gettext(digest.lang)
    return env.get_template("digest.html").render(
        d=digest, _=_, figures=partial(_figures, _=_), styles=STYLES
    )
