"""Alert rules end to end: a refreshed shop, rules in its tolok.yaml, a real SMTP server and
a real webhook receiver. Expected figures are worked out from the shop's known orders."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from tests.notify.conftest import SmtpServer, WebhookServer
from tests.shop import REVENUE_TARGET, build, month_start, monthly
from tolok.auth import accounts
from tolok.engine.warehouse import Warehouse
from tolok.notify.alerts import AlertRun, check_alerts
from tolok.notify.channels import Sender, delivery_log
from tolok.notify.volume import volume_counter
from tolok.spec.loaded import LoadedProject
from tolok.spec.loader import load_project
from tolok.store.database import open_store, store_url
from tolok.store.manual import source
from tolok.store.people import User
from tolok.store.sharing import AlertEvent

TODAY = dt.date.today()
SECRET = "whsec-test-1234"


def to(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


def plain(message: EmailMessage) -> str:
    """The text part as a reader sees it (no-break spaces as spaces)."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\xa0", " ").replace("\r\n", "\n")


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0))


class Shop:
    def __init__(self, root: Path, smtp: SmtpServer) -> None:
        self.root, self.smtp = root, smtp
        self.rows = build(root, TODAY)
        self.base = (root / "tolok.yaml").read_text(encoding="utf-8")
        self.engine: Engine | None = None

    def share(self, text: str, target: int = REVENUE_TARGET) -> LoadedProject:
        """tolok.yaml with the e-mail server of the test and `text` (channels, alerts…)."""
        head = f"email: {{host: 127.0.0.1, port: {self.smtp.port}, security: none, "
        head += "sender: tolok@tokomaju.id}\n"
        body = self.base.replace(f"value: {REVENUE_TARGET},", f"value: {target},")
        (self.root / "tolok.yaml").write_text(head + body + text, encoding="utf-8")
        loaded = load_project(self.root)
        assert loaded.ok, loaded.problems
        assert loaded.project is not None
        if self.engine is None:
            self.engine = open_store(store_url(loaded.project.store, self.root))
        return loaded

    def check(
        self, loaded: LoadedProject, now: dt.datetime | None = None, volume: bool = False
    ) -> AlertRun:
        assert self.engine is not None
        assert loaded.project is not None
        sender = Sender(self.engine, loaded.project.email, backoff=0.0)
        counter = None
        if volume:
            engine = self.engine
            counter = volume_counter(loaded, lambda a: Warehouse(a, manual=source(engine)))
        return check_alerts(loaded, self.engine, sender, now or _noon(TODAY), counter)

    def person(self, email: str, locale: str | None) -> None:
        assert self.engine is not None
        with Session(self.engine) as session, session.begin():
            accounts.add_user(
                session, email, email.split("@")[0].title(), "viewer", "test", "long enough pw"
            )
            session.execute(update(User).where(User.email == email).values(locale=locale))


@pytest.fixture
def shop(tmp_path: Path, smtp: SmtpServer) -> Shop:
    return Shop(tmp_path, smtp)


LAST = month_start(TODAY, 1)
BEFORE = month_start(TODAY, 2)

SALES = """
channels:
  sales: {email: [dewi@example.com, budi@example.com]}
alerts:
  revenue-off:
    when: status
    kpis: revenue
    notify: [sales]
    note: Look at the Bali stores first.
"""


def test_a_status_alert_mails_each_person_once_in_their_language_then_resolves(
    shop: Shop, smtp: SmtpServer
) -> None:
    revenue, _ = monthly(shop.rows, LAST)
    high = revenue * 2  # the value reaches half of it: off track
    loaded = shop.share(SALES, target=high)
    shop.person("dewi@example.com", "id")

    run = shop.check(loaded)
    assert run.opened == [("revenue-off", "revenue")]
    by_to = {to(m): m for m in smtp.messages}
    assert set(by_to) == {"dewi@example.com", "budi@example.com"}
    english, indonesian = by_to["budi@example.com"], by_to["dewi@example.com"]
    assert english["Subject"] == f"Toko Uji: Revenue is off track ({LAST:%b %Y})"
    assert english["Content-Language"] == "en"
    text = plain(english)
    assert f"Value: IDR {revenue:,} (target IDR {high:,}, 50% reached)" in text
    assert "Look at the Bali stores first." in text
    assert "What to do: Run a weekend promotion" in text
    assert indonesian["Content-Language"] == "id"
    assert indonesian["Subject"].startswith("Toko Uji: Revenue meleset (")
    body = plain(indonesian)
    assert f"Rp {revenue:,}".replace(",", ".") in body

    again = shop.check(loaded)  # the condition still holds: nobody hears of it twice
    assert again.opened == []
    assert again.sent == 0
    assert len(smtp.messages) == 2

    fixed = shop.share(SALES)  # the target back where the revenue reaches it
    run = shop.check(fixed)
    assert run.resolved == [("revenue-off", "revenue")]
    resolved = {to(m): m["Subject"] for m in smtp.messages[2:]}
    assert resolved["budi@example.com"].startswith("Toko Uji: Resolved: Revenue is back to normal")
    assert "Teratasi" in resolved["dewi@example.com"]
    assert len(smtp.messages) == 4
    assert shop.check(fixed).sent == 0


def test_webhooks_get_slack_and_signed_payloads_and_a_dead_one_is_logged_failed(
    shop: Shop, webhook: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    revenue, _ = monthly(shop.rows, LAST)
    loaded = shop.share(f"""
channels:
  chat: {{webhook: "{webhook.url}"}}
  ops:
    webhook: "{webhook.url.replace("/services/", "/ops/")}"
    format: signed
    secret_env: TEST_HOOK_SECRET
alerts:
  big-month:
    when: threshold
    kpis: [revenue]
    above: {revenue - 1}
    notify: [chat, ops]
""")
    run = shop.check(loaded)
    assert run.sent == 2
    slack = next(r for r in webhook.requests if "/services/" in r.path)
    signed = next(r for r in webhook.requests if "/ops/" in r.path)
    said = json.loads(slack.body)
    assert said["text"].startswith("Revenue is above its alert line")
    assert said["blocks"][0]["type"] == "section"
    stamp = signed.headers["X-Tolok-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + signed.body, hashlib.sha256)
    assert signed.headers["X-Tolok-Signature"] == f"sha256={expected.hexdigest()}"
    payload = json.loads(signed.body)
    assert payload["event"] == "alert.opened"
    assert payload["kpi"]["name"] == "revenue"
    assert payload["detail"]["value"] == revenue
    assert payload["period"] == LAST.isoformat()

    # A receiver that is down: tried four times, then logged as failed; never again.
    webhook.requests.clear()
    webhook.script(*([503] * 8))
    loaded = shop.share(
        loaded_text := f"""
channels:
  chat: {{webhook: "{webhook.url}"}}
alerts:
  small-month:
    when: threshold
    kpis: [orders]
    below: 5
    notify: [chat]
"""
    )
    assert "small-month" in loaded_text
    run = shop.check(loaded)
    assert run.failed == 1
    assert len(webhook.requests) == 4
    assert shop.engine is not None
    failed = delivery_log(shop.engine, status="failed")
    assert [(r.channel, r.attempts, r.address) for r in failed] == [
        ("chat", 4, webhook.url.split("/")[2])
    ]
    assert "503" in (failed[0].error or "")
    soon = _noon(TODAY) + dt.timedelta(minutes=5)
    assert shop.check(loaded, now=soon).failed == 0  # not at every check: ten minutes apart
    assert len(webhook.requests) == 4
    later = _noon(TODAY) + dt.timedelta(minutes=11)
    again = shop.check(loaded, now=later)  # tried again: four more attempts
    assert again.failed == 1
    assert len(webhook.requests) == 8
    third = shop.check(loaded, now=later + dt.timedelta(minutes=11))  # the receiver is back
    assert third.sent == 1
    assert len(webhook.requests) == 9
    [row] = delivery_log(shop.engine)[:1]
    assert (row.status, row.attempts) == ("sent", 9)
    assert shop.check(loaded, now=later + dt.timedelta(hours=1)).sent == 0
    assert len(webhook.requests) == 9


def test_a_message_that_keeps_failing_is_given_up_after_a_day(
    shop: Shop, webhook: WebhookServer
) -> None:
    webhook.script(*([503] * 100))
    loaded = shop.share(f"""
channels:
  chat: {{webhook: "{webhook.url}"}}
alerts:
  small-month: {{when: threshold, kpis: [orders], below: 5, notify: [chat]}}
""")
    assert shop.check(loaded).failed == 1
    tomorrow = _noon(TODAY + dt.timedelta(days=1, hours=1))
    assert shop.check(loaded, now=tomorrow).failed == 1  # the last try
    tried = len(webhook.requests)
    later = tomorrow + dt.timedelta(hours=1)
    assert shop.check(loaded, now=later).failed == 0  # given up: no more tries
    assert len(webhook.requests) == tried


def test_a_message_refused_for_good_is_not_tried_again(shop: Shop, webhook: WebhookServer) -> None:
    webhook.script(404)  # the hook was deleted
    loaded = shop.share(f"""
channels:
  chat: {{webhook: "{webhook.url}"}}
alerts:
  small-month: {{when: threshold, kpis: [orders], below: 5, notify: [chat]}}
""")
    shop.check(loaded)
    later = _noon(TODAY) + dt.timedelta(hours=2)
    shop.check(loaded, now=later)
    assert len(webhook.requests) == 1
    assert shop.engine is not None
    assert [r.status for r in delivery_log(shop.engine)] == ["refused"]


def test_quiet_hours_hold_an_alert_until_they_end(shop: Shop, smtp: SmtpServer) -> None:
    revenue, _ = monthly(shop.rows, LAST)
    loaded = shop.share(f"""
quiet_hours: {{from: "22:00", to: "07:00"}}
alerts:
  big-month: {{when: threshold, kpis: revenue, above: {revenue - 1}, notify: [ops@example.com]}}
""")
    night = dt.datetime.combine(TODAY, dt.time(23, 30))
    run = shop.check(loaded, now=night)
    assert run.opened == [("big-month", "revenue")]
    assert run.held == 1
    assert smtp.messages == []
    morning = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(7, 5))
    run = shop.check(loaded, now=morning)
    assert run.sent == 1
    assert run.opened == []
    assert [to(m) for m in smtp.messages] == ["ops@example.com"]


def test_a_change_alert_waits_for_enough_volume(shop: Shop, smtp: SmtpServer) -> None:
    revenue, count = monthly(shop.rows, LAST)
    revenue_before, count_before = monthly(shop.rows, BEFORE)
    change = (revenue / count - revenue_before / count_before) / (revenue_before / count_before)
    assert abs(change) > 0.1  # the shop's average order value moves this much
    rule = """
alerts:
  aov-moves: {{when: change, kpis: aov, change: 0.1, direction: any, min_volume: {volume},
              notify: [ops@example.com]}}
"""
    loaded = shop.share(rule.format(volume=count + 1))  # one order short of the minimum
    assert shop.check(loaded, volume=True).opened == []
    loaded = shop.share(rule.format(volume=count))
    run = shop.check(loaded, volume=True)
    assert run.opened == [("aov-moves", "aov")]
    text = plain(smtp.messages[0])
    assert f"Volume: {count}" in text
    word = "fell" if change < 0 else "rose"
    assert smtp.messages[0]["Subject"].startswith(f"Toko Uji: Average order value {word} sharply")


def test_target_reached_and_stale_data(shop: Shop, smtp: SmtpServer) -> None:
    _, count = monthly(shop.rows, LAST)
    assert count >= 4  # the orders KPI's target is 4: reached
    loaded = shop.share("""
alerts:
  cheer: {when: target_reached, kpis: orders, notify: [ops@example.com]}
  no-news: {when: stale, kpis: orders, notify: [ops@example.com]}
""")
    run = shop.check(loaded)
    assert ("cheer", "orders") in run.opened
    assert ("no-news", "orders") not in run.opened  # orders came in within the last month
    assert any(
        m["Subject"].startswith("Toko Uji: Orders reached its target") for m in smtp.messages
    )
    later = _noon(TODAY + dt.timedelta(days=70))  # no order for more than a month
    run = shop.check(loaded, now=later)
    assert ("no-news", "orders") in run.opened
    stale = [m for m in smtp.messages if "has no new data" in m["Subject"]]
    assert len(stale) == 1
    newest = max(o.day for o in shop.rows)
    days = (later.date() - newest).days
    assert f"Newest data: {newest.day} {newest:%b %Y}, {days} days ago" in plain(stale[0])


def test_a_second_check_does_not_open_a_second_alert(shop: Shop) -> None:
    revenue, _ = monthly(shop.rows, LAST)
    loaded = shop.share(f"""
alerts:
  big-month: {{when: threshold, kpis: revenue, above: {revenue - 1}, notify: [ops@example.com]}}
""")
    shop.check(loaded)
    shop.check(loaded)
    assert shop.engine is not None
    with Session(shop.engine) as session:
        rows = session.scalars(select(AlertEvent)).all()
    assert [(a.rule, a.kpi, a.resolved_at) for a in rows] == [("big-month", "revenue", None)]


def test_an_anomaly_alert_fires_on_an_unusual_month(shop: Shop, smtp: SmtpServer) -> None:
    from tolok.engine.refresh import refresh_into_store
    from tolok.store.manual import enter, make_entry

    loaded = shop.share("""
alerts:
  odd-spend: {when: anomaly, kpis: ad_spend, notify: [ops@example.com]}
""")
    assert loaded.project is not None
    assert shop.engine is not None
    # A steady 100 a month for a year (with a little wobble), then ten times that.
    values = {month_start(TODAY, back): 100.0 + back % 3 for back in range(13, 1, -1)}
    values[LAST] = 1000.0
    with Session(shop.engine) as session, session.begin():
        entries = [make_entry(loaded.project, "ad_spend", "spend", f"{p:%Y-%m}", v, {})
                   for p, v in values.items()]  # fmt: skip
        enter(session, loaded.project, entries, "test")
    engine = shop.engine
    refresh_into_store(loaded, Warehouse(loaded, manual=source(engine)), engine)
    run = shop.check(loaded)
    assert run.opened == [("odd-spend", "ad_spend")]
    [mail] = smtp.messages
    assert mail["Subject"] == f"Toko Uji: Ad spend is unusual ({LAST:%b %Y})"
    text = plain(mail)
    assert "Value: IDR 1,000" in text
    expected = re.search(r"Expected about IDR ([\d,]+)", text)
    assert expected is not None
    assert 99 <= int(expected.group(1).replace(",", "")) <= 103  # what the months before did


def test_a_status_alert_tells_again_when_at_risk_becomes_off_track(
    shop: Shop, smtp: SmtpServer
) -> None:
    revenue, _ = monthly(shop.rows, LAST)
    rule = "\nalerts:\n  slipping: {when: status, kpis: revenue, notify: [ops@example.com]}\n"
    at_risk = shop.share(rule, target=int(revenue / 0.9))  # 90% of target: at risk
    assert shop.check(at_risk).opened == [("slipping", "revenue")]
    off_track = shop.share(rule, target=revenue * 2)  # 50%: off track
    assert shop.check(off_track).opened == [("slipping", "revenue")]
    subjects = [str(m["Subject"]) for m in smtp.messages]
    assert [s.split(" (")[0] for s in subjects] == [
        "Toko Uji: Revenue is at risk",
        "Toko Uji: Revenue is off track",
    ]  # and no "resolved" between them
    assert shop.check(off_track).sent == 0


def test_an_alert_whose_kpi_leaves_the_rule_closes_without_a_message(
    shop: Shop, smtp: SmtpServer
) -> None:
    both = """
alerts:
  small: {when: threshold, kpis: [orders, revenue], below: 1000000000, notify: [ops@example.com]}
"""
    run = shop.check(shop.share(both))
    assert sorted(run.opened) == [("small", "orders"), ("small", "revenue")]
    smtp.messages.clear()
    one = shop.share(both.replace("[orders, revenue]", "[orders]"))
    run = shop.check(one)
    assert run.resolved == []
    assert smtp.messages == []  # nobody watches revenue now: no "resolved" either
    assert shop.engine is not None
    with Session(shop.engine) as session:
        still = session.scalars(select(AlertEvent).where(AlertEvent.open_key.is_not(None)))
        assert [a.kpi for a in still] == ["orders"]


def test_an_alert_that_opens_and_resolves_in_quiet_hours_says_nothing(
    shop: Shop, smtp: SmtpServer
) -> None:
    revenue, _ = monthly(shop.rows, LAST)
    rule = """
quiet_hours: {{from: "12:00", to: "14:00"}}
alerts:
  big: {{when: threshold, kpis: revenue, above: {line}, notify: [ops@example.com]}}
"""
    noon = _noon(TODAY)  # inside 12:00-14:00 on the same day
    run = shop.check(shop.share(rule.format(line=revenue - 1)), now=noon)
    assert run.held == 1
    run = shop.check(shop.share(rule.format(line=revenue + 1)), now=noon + dt.timedelta(hours=1))
    assert run.resolved == [("big", "revenue")]
    later = shop.check(shop.share(rule.format(line=revenue + 1)), now=noon + dt.timedelta(hours=3))
    assert later.sent == 0
    assert smtp.messages == []


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_two_checks_at_once_on_postgresql_tell_each_person_once(
    tmp_path: Path, smtp: SmtpServer, store_url: str
) -> None:
    """The server's check and a cron job's at the same moment, on a team's PostgreSQL store:
    one alert opens, each person gets one message."""
    import threading

    from tolok.engine.refresh import refresh_into_store
    from tolok.store.database import connect, upgrade

    shop = Shop(tmp_path, smtp)
    revenue, _ = monthly(shop.rows, LAST)
    shop.base = shop.base.replace("store: sqlite:///tolok.db", f'store: "{store_url}"')
    engine = connect(store_url)
    upgrade(engine)
    shop.engine = engine
    loaded = shop.share(SALES, target=revenue * 2)
    refresh_into_store(loaded, Warehouse(loaded, manual=source(engine)), engine)
    gate = threading.Barrier(2)
    runs: list[AlertRun] = []

    def check() -> None:
        gate.wait()
        runs.append(shop.check(loaded))

    threads = [threading.Thread(target=check) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r.opened) for r in runs) == [0, 1]
    assert sorted(to(m) for m in smtp.messages) == ["budi@example.com", "dewi@example.com"]
    engine.dispose()


def test_a_status_hovering_between_at_risk_and_off_track_tells_once_each_way_up(
    shop: Shop, smtp: SmtpServer
) -> None:
    revenue, _ = monthly(shop.rows, LAST)
    rule = "\nalerts:\n  slipping: {when: status, kpis: revenue, notify: [ops@example.com]}\n"
    at_risk, off_track = int(revenue / 0.9), revenue * 2
    for target in (at_risk, off_track, at_risk, off_track, at_risk):
        shop.check(shop.share(rule, target=target))
    subjects = [str(m["Subject"]).split(" (")[0] for m in smtp.messages]
    assert subjects == ["Toko Uji: Revenue is at risk", "Toko Uji: Revenue is off track"]
