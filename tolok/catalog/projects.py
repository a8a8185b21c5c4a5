"""The `tolok init` templates: which datasets, goals and catalog KPIs each project has, and
how its sample data is generated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tolok.catalog.generate import Days, moments, pick, rows_per_day
from tolok.catalog.templates import Text

Columns = dict[str, np.ndarray]
Generator = Callable[[Days, np.random.Generator, float], dict[str, Columns]]


@dataclass(frozen=True)
class GoalChoice:
    title: Text
    level: str
    owner: str
    parent: str | None = None


@dataclass(frozen=True)
class KpiChoice:
    template: str
    datasets: dict[str, str]
    goal: str
    owner: str
    action: Text
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectTemplate:
    title: Text
    files: dict[str, str]  # dataset → the Parquet file it reads (several may share one)
    datasets: dict[str, dict[str, object]]  # dataset → its YAML (time, dimensions, key)
    goals: dict[str, GoalChoice]
    kpis: list[KpiChoice]
    generate: Generator
    change: Text  # what changed on the change day
    change_kpis: list[str]


def _ids(prefix: str, count: int) -> np.ndarray:
    return np.array([f"{prefix}{i:06d}" for i in range(1, count + 1)], dtype=object)


def _first_flags(who: np.ndarray) -> np.ndarray:
    _, first = np.unique(who, return_index=True)
    flags = np.zeros(len(who), dtype=bool)
    flags[first] = True
    return flags


# --- ecommerce -----------------------------------------------------------------------------

REGIONS = ["DKI Jakarta", "Jawa Barat", "Jawa Timur", "Bali", "Sumatera Utara"]


def _ecommerce(days: Days, rng: np.random.Generator, money: float) -> dict[str, Columns]:
    visits = days.rates(420, 0.22)
    session_day = rows_per_day(days, visits, rng)
    sessions = len(session_day)
    pages = rng.geometric(0.38, size=sessions)  # about 38% see one page and leave
    source = pick(
        ["organic", "direct", "paid", "social", "email", "referral"],
        [34, 22, 18, 14, 7, 5],
        sessions,
        rng,
    )
    # Free shipping from the change day lifts conversion from about 3.4% to 3.9%.
    order_rate = visits * np.where([d >= days.change for d in days.all()], 0.039, 0.034)
    order_day = rows_per_day(days, order_rate, rng)
    orders = len(order_day)
    pool = max(200, orders // 3)
    weights = 1 / np.arange(1, pool + 1) ** 0.6  # some customers come back often
    customer = rng.choice(_ids("C", pool), size=orders, p=weights / weights.sum())
    amount = np.round(rng.lognormal(np.log(38), 0.55, size=orders) * money, 0 if money > 1 else 2)
    spend_day = np.repeat(np.array(days.all(), dtype="datetime64[D]"), 3)
    platform = np.tile(np.array(["Google Ads", "Meta", "TikTok"], dtype=object), len(days.all()))
    spend = np.round(rng.gamma(6, 9, size=len(spend_day)) * money, 0 if money > 1 else 2)
    return {
        "orders": {
            "order_id": _ids("O", orders),
            "ordered_at": moments(order_day, rng, 19.5),
            "customer_id": customer,
            "is_first_order": _first_flags(customer),
            "amount": amount,
            "region": pick(REGIONS, [30, 26, 20, 12, 12], orders, rng),
            "channel": pick(["online", "marketplace", "store"], [55, 35, 10], orders, rng),
        },
        "sessions": {
            "started_at": moments(session_day, rng, 20.0),
            "visitor_id": _ids("V", sessions),
            "source": source,
            "device": pick(["mobile", "desktop", "tablet"], [72, 24, 4], sessions, rng),
            "pageviews": pages.astype("int64"),
        },
        "ad_spend": {"day": spend_day, "platform": platform, "amount": spend},
    }


ECOMMERCE = ProjectTemplate(
    title=Text(en="Online shop", id="Toko daring"),
    files={"orders": "orders", "sessions": "sessions", "ad_spend": "ad_spend"},
    datasets={
        "orders": {"time": "ordered_at", "dimensions": ["region", "channel"], "key": ["order_id"]},
        "sessions": {"time": "started_at", "dimensions": ["source", "device"]},
        "ad_spend": {"time": "day", "dimensions": ["platform"]},
    },
    goals={
        "grow_revenue": GoalChoice(
            Text(en="Grow revenue 20% a year", id="Pendapatan tumbuh 20% setahun"),
            "strategic",
            "owner@example.com",
        ),
        "efficient_marketing": GoalChoice(
            Text(
                en="Win customers at a sustainable cost", id="Dapatkan pelanggan dengan biaya wajar"
            ),
            "operational",
            "marketing@example.com",
            parent="grow_revenue",
        ),
    },
    kpis=[
        KpiChoice(
            "sales_revenue",
            {"orders": "orders"},
            "grow_revenue",
            "owner@example.com",
            Text(
                en="Review the bestsellers' stock and run a weekend promotion",
                id="Periksa stok produk terlaris dan adakan promo akhir pekan",
            ),
        ),
        KpiChoice(
            "average_purchase_value",
            {"orders": "orders"},
            "grow_revenue",
            "owner@example.com",
            Text(
                en="Offer bundles and a free-shipping threshold above the average basket",
                id="Tawarkan paket bundel dan ambang gratis ongkir di atas rata-rata belanja",
            ),
        ),
        KpiChoice(
            "conversion_rate",
            {"sessions": "sessions", "orders": "orders"},
            "grow_revenue",
            "web@example.com",
            Text(
                en="Check checkout errors and page speed on mobile",
                id="Periksa galat checkout dan kecepatan halaman di ponsel",
            ),
        ),
        KpiChoice(
            "website_traffic",
            {"sessions": "sessions"},
            "grow_revenue",
            "web@example.com",
            Text(
                en="Publish two product guides a week and share them",
                id="Terbitkan dua panduan produk per minggu dan bagikan",
            ),
        ),
        KpiChoice(
            "bounce_rate",
            {"sessions": "sessions"},
            "grow_revenue",
            "web@example.com",
            Text(
                en="Match landing pages to the ads that lead to them",
                id="Samakan isi halaman tujuan dengan iklan yang mengarah ke sana",
            ),
        ),
        KpiChoice(
            "customer_acquisition_cost",
            {"spend": "ad_spend", "orders": "orders"},
            "efficient_marketing",
            "marketing@example.com",
            Text(
                en="Move budget from the costliest platform to the cheapest per new customer",
                id="Pindahkan anggaran dari platform termahal ke yang termurah per pelanggan baru",
            ),
        ),
    ],
    generate=_ecommerce,
    change=Text(
        en="Free shipping on every order",
        id="Gratis ongkir untuk semua pesanan",
    ),
    change_kpis=["conversion_rate", "sales_revenue"],
)


# --- support -------------------------------------------------------------------------------


def _support(days: Days, rng: np.random.Generator, money: float) -> dict[str, Columns]:
    del money
    day = rows_per_day(days, days.rates(38, 0.18), rng)
    count = len(day)
    created = moments(day, rng, 11.0)
    after = days.after_change(day)
    # A second agent on the early shift from the change day: first replies come sooner.
    wait = rng.exponential(np.where(after, 48.0, 95.0), size=count) + 2
    first_response = created + (wait * 60).astype("int64").astype("timedelta64[s]")
    hours = rng.gamma(2.0, np.where(after, 9.0, 11.0), size=count) + 0.5
    resolved = created + (hours * 3600).astype("int64").astype("timedelta64[s]")
    # The data ends with the last day: what happens after it has not happened yet (tickets
    # still waiting for a reply or a resolution have none).
    now = np.datetime64(days.last + dt.timedelta(days=1), "s")
    first_response = np.where(first_response < now, first_response, np.datetime64("NaT"))
    resolved = np.where(resolved < now, resolved, np.datetime64("NaT"))
    status = pick(["resolved", "closed", "reopened"], [62, 33, 5], count, rng)
    contacts = 1 + rng.poisson(np.where(after, 0.35, 0.5), size=count)
    survey_day = rows_per_day(days, days.rates(9, 0.18), rng)
    n_csat = len(survey_day)
    happy = np.where(days.after_change(survey_day), 0.86, 0.8)
    csat = np.where(
        rng.random(n_csat) < happy, rng.integers(4, 6, n_csat), rng.integers(1, 4, n_csat)
    )
    nps_day = rows_per_day(days, days.rates(4, 0.18, seasonal=False), rng)
    n_nps = len(nps_day)
    promoter = np.where(days.after_change(nps_day), 0.52, 0.45)
    draw = rng.random(n_nps)
    score = np.where(
        draw < promoter,
        rng.integers(9, 11, n_nps),
        np.where(draw < promoter + 0.33, rng.integers(7, 9, n_nps), rng.integers(0, 7, n_nps)),
    )
    return {
        "tickets": {
            "ticket_id": _ids("T", count),
            "created_at": created,
            "first_response_at": first_response,
            "resolved_at": resolved,
            "status": status,
            "channel": pick(["email", "chat", "phone"], [45, 40, 15], count, rng),
            "priority": pick(["low", "normal", "high", "urgent"], [30, 50, 15, 5], count, rng),
            "agent": pick(["Ayu", "Bayu", "Citra", "Dimas"], [30, 30, 25, 15], count, rng),
            "contacts": contacts.astype("int64"),
        },
        "csat_surveys": {
            "answered_at": moments(survey_day, rng, 15.0),
            "score": csat.astype("int64"),
            "channel": pick(["email", "chat", "phone"], [45, 40, 15], n_csat, rng),
        },
        "nps_surveys": {
            "answered_at": moments(nps_day, rng, 15.0),
            "recommend_score": score.astype("int64"),
            "segment": pick(["consumer", "business"], [70, 30], n_nps, rng),
        },
    }


SUPPORT = ProjectTemplate(
    title=Text(en="Customer support", id="Layanan pelanggan"),
    files={
        "tickets": "tickets",
        "resolved_tickets": "tickets",
        "csat_surveys": "csat_surveys",
        "nps_surveys": "nps_surveys",
    },
    datasets={
        "tickets": {
            "time": "created_at",
            "dimensions": ["channel", "priority", "agent"],
            "key": ["ticket_id"],
        },
        "resolved_tickets": {
            "time": "resolved_at",
            "dimensions": ["channel", "priority", "agent"],
            "key": ["ticket_id"],
        },
        "csat_surveys": {"time": "answered_at", "dimensions": ["channel"]},
        "nps_surveys": {"time": "answered_at", "dimensions": ["segment"]},
    },
    goals={
        "happy_customers": GoalChoice(
            Text(en="Customers glad they asked us", id="Pelanggan senang dilayani"),
            "strategic",
            "head.support@example.com",
        ),
        "fast_support": GoalChoice(
            Text(en="Answer and solve quickly", id="Menjawab dan menyelesaikan dengan cepat"),
            "operational",
            "lead.support@example.com",
            parent="happy_customers",
        ),
    },
    kpis=[
        KpiChoice(
            "csat",
            {"csat_surveys": "csat_surveys"},
            "happy_customers",
            "head.support@example.com",
            Text(
                en="Read every 1-2 score and call the customer back within a day",
                id="Baca setiap nilai 1-2 dan telepon balik pelanggan dalam sehari",
            ),
        ),
        KpiChoice(
            "nps",
            {"nps_surveys": "nps_surveys"},
            "happy_customers",
            "head.support@example.com",
            Text(
                en="Ask detractors what would change their mind",
                id="Tanyakan kepada pengkritik apa yang akan mengubah pendapat mereka",
            ),
        ),
        KpiChoice(
            "first_response_time",
            {"tickets": "tickets"},
            "fast_support",
            "lead.support@example.com",
            Text(
                en="Put a second agent on the busiest shift",
                id="Tambahkan agen kedua di sif tersibuk",
            ),
        ),
        KpiChoice(
            "time_to_resolution",
            {"resolved_tickets": "resolved_tickets"},
            "fast_support",
            "lead.support@example.com",
            Text(
                en="Write answers for the five commonest questions",
                id="Tulis jawaban untuk lima pertanyaan yang paling sering",
            ),
            columns={"opened_at": "created_at"},
        ),
        KpiChoice(
            "tickets_resolved",
            {"tickets": "resolved_tickets"},
            "fast_support",
            "lead.support@example.com",
            Text(
                en="Clear the oldest open tickets first each morning",
                id="Selesaikan tiket terbuka yang paling lama setiap pagi",
            ),
        ),
        KpiChoice(
            "first_contact_resolution",
            {"resolved_tickets": "resolved_tickets"},
            "fast_support",
            "lead.support@example.com",
            Text(
                en="Give agents the rights to refund small orders themselves",
                id="Beri agen wewenang mengembalikan dana pesanan kecil sendiri",
            ),
        ),
    ],
    generate=_support,
    change=Text(en="A second agent on the early shift", id="Agen kedua di sif pagi"),
    change_kpis=["first_response_time", "csat"],
)


# --- marketing -----------------------------------------------------------------------------

CAMPAIGNS = ["Brand search", "Retargeting", "Influencers", "Marketplace ads"]


def _marketing(days: Days, rng: np.random.Generator, money: float) -> dict[str, Columns]:
    calendar = np.array(days.all(), dtype="datetime64[D]")
    n_days = len(calendar)
    base = days.rates(1.0, 0.2)  # the shape of demand: trend, season, weekdays
    campaign_day = np.repeat(calendar, len(CAMPAIGNS))
    campaign = np.tile(np.array(CAMPAIGNS, dtype=object), n_days)
    shape = np.repeat(base, len(CAMPAIGNS))
    cost = np.round(rng.gamma(8, 12, size=len(campaign_day)) * shape * money, 2)
    returns = np.tile(np.array([4.2, 3.1, 1.4, 2.4]), n_days)
    revenue = np.round(cost * returns * rng.lognormal(0, 0.35, size=len(cost)), 2)
    # From the change day every campaign e-mail gets an A/B-tested subject line.
    send_day = rows_per_day(days, days.rates(260, 0.15), rng)
    sends = len(send_day)
    after = days.after_change(send_day)
    opened = rng.random(sends) < np.where(after, 0.33, 0.27)
    clicked = opened & (rng.random(sends) < 0.14)
    lead_day = rows_per_day(days, days.rates(22, 0.3), rng)
    leads = len(lead_day)
    post_day = rows_per_day(days, days.rates(1.6, 0.1, seasonal=False), rng)
    posts = len(post_day)
    shown = rng.poisson(4_000 * (1 + 0.4 * rng.random(posts)))
    blog_day = rows_per_day(days, days.rates(0.35, 0.0, seasonal=False), rng)
    return {
        "campaigns": {
            "day": campaign_day,
            "campaign": campaign,
            "cost": cost,
            "revenue": revenue,
        },
        "email_sends": {
            "sent_at": moments(send_day, rng, 9.0),
            "campaign": pick(CAMPAIGNS, [1, 3, 1, 2], sends, rng),
            "opened": opened,
            "clicked": clicked,
        },
        "leads": {
            "created_at": moments(lead_day, rng, 13.0),
            "lead_source": pick(
                ["website", "referral", "event", "ads", "outbound"],
                [40, 15, 10, 25, 10],
                leads,
                rng,
            ),
        },
        "social_posts": {
            "posted_at": moments(post_day, rng, 18.0),
            "network": pick(
                ["instagram", "tiktok", "facebook", "linkedin"], [40, 30, 20, 10], posts, rng
            ),
            "shown": shown.astype("int64"),
            "likes": rng.binomial(shown, 0.035).astype("int64"),
            "comments": rng.binomial(shown, 0.004).astype("int64"),
            "shares": rng.binomial(shown, 0.002).astype("int64"),
        },
        "blog_posts": {
            "published_at": moments(blog_day, rng, 10.0),
            "author": pick(["Rina", "Yusuf", "Maya"], [45, 35, 20], len(blog_day), rng),
        },
    }


MARKETING = ProjectTemplate(
    title=Text(en="Marketing team", id="Tim pemasaran"),
    files={n: n for n in ("campaigns", "email_sends", "leads", "social_posts", "blog_posts")},
    datasets={
        "campaigns": {"time": "day", "dimensions": ["campaign"]},
        "email_sends": {"time": "sent_at", "dimensions": ["campaign"]},
        "leads": {"time": "created_at", "dimensions": ["lead_source"]},
        "social_posts": {"time": "posted_at", "dimensions": ["network"]},
        "blog_posts": {"time": "published_at", "dimensions": ["author"]},
    },
    goals={
        "profitable_growth": GoalChoice(
            Text(en="Marketing that pays for itself", id="Pemasaran yang menutup biayanya"),
            "strategic",
            "cmo@example.com",
        ),
        "engaged_audience": GoalChoice(
            Text(en="An audience that listens", id="Audiens yang memperhatikan"),
            "operational",
            "content@example.com",
            parent="profitable_growth",
        ),
    },
    kpis=[
        KpiChoice(
            "roi",
            {"campaigns": "campaigns"},
            "profitable_growth",
            "cmo@example.com",
            Text(
                en="Cut the campaign with the lowest return, double the best",
                id="Hentikan kampanye dengan laba terendah, gandakan yang terbaik",
            ),
        ),
        KpiChoice(
            "new_leads",
            {"leads": "leads"},
            "profitable_growth",
            "cmo@example.com",
            Text(
                en="Add a lead form to the three most read articles",
                id="Pasang formulir prospek di tiga artikel yang paling banyak dibaca",
            ),
        ),
        KpiChoice(
            "cost_per_lead",
            {"spend": "campaigns", "leads": "leads"},
            "profitable_growth",
            "cmo@example.com",
            Text(
                en="Pause ads whose leads cost twice the average",
                id="Jeda iklan yang biaya prospeknya dua kali rata-rata",
            ),
            columns={"amount": "cost"},
        ),
        KpiChoice(
            "email_open_rate",
            {"email_sends": "email_sends"},
            "engaged_audience",
            "content@example.com",
            Text(
                en="Test two subject lines on every send",
                id="Uji dua baris subjek di setiap pengiriman",
            ),
        ),
        KpiChoice(
            "click_through_rate",
            {"email_sends": "email_sends"},
            "engaged_audience",
            "content@example.com",
            Text(
                en="Put one clear call to action above the fold",
                id="Letakkan satu ajakan bertindak yang jelas di bagian atas",
            ),
        ),
        KpiChoice(
            "social_media_engagement",
            {"social_posts": "social_posts"},
            "engaged_audience",
            "social@example.com",
            Text(
                en="Post short videos at 18:00, when the audience is online",
                id="Unggah video pendek pukul 18.00, saat audiens sedang daring",
            ),
        ),
        KpiChoice(
            "blog_posts_per_month",
            {"posts": "blog_posts"},
            "engaged_audience",
            "content@example.com",
            Text(
                en="Keep a two-month editorial calendar",
                id="Jaga kalender editorial untuk dua bulan ke depan",
            ),
        ),
    ],
    generate=_marketing,
    change=Text(
        en="A/B-tested subject lines on every campaign e-mail",
        id="Baris subjek yang diuji A/B di setiap e-mail kampanye",
    ),
    change_kpis=["email_open_rate", "click_through_rate"],
)


# --- saas ----------------------------------------------------------------------------------

PLANS = {"basic": 49.0, "pro": 99.0, "business": 249.0}


def _months(days: Days) -> list[dt.date]:
    out, month = [], days.first.replace(day=1)
    while month <= days.last:
        out.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


def _saas(days: Days, rng: np.random.Generator, money: float) -> dict[str, Columns]:
    trial_day = rows_per_day(days, days.rates(9, 0.3), rng)
    trials = len(trial_day)
    trial_account = _ids("A", trials)
    # An onboarding call for every trial from the change day: more trials start paying.
    converts = rng.random(trials) < np.where(days.after_change(trial_day), 0.26, 0.18)
    first_paid = trial_day + rng.integers(3, 29, size=trials).astype("timedelta64[D]")
    keep = converts & (first_paid <= np.datetime64(days.last))
    names = list(PLANS)
    plan_of: dict[str, int] = {}
    start_month: dict[str, dt.date] = {}
    trial_index = {account: i for i, account in enumerate(trial_account)}
    for account, paid in zip(trial_account[keep], first_paid[keep], strict=True):
        plan_of[account] = int(rng.choice(3, p=[0.55, 0.35, 0.10]))
        start_month[account] = paid.astype(dt.date).replace(day=1)
    for i in range(320):  # customers from before the data starts
        plan_of[f"B{i:05d}"] = int(rng.choice(3, p=[0.5, 0.38, 0.12]))
        start_month[f"B{i:05d}"] = days.first.replace(day=1)
    active: dict[str, float] = {}
    sub: dict[str, list[object]] = {k: [] for k in ("month", "account_id", "plan")}
    start_mrr: list[float] = []
    end_mrr: list[float] = []
    pay_day: list[np.datetime64] = []
    pay_account: list[str] = []
    event_day: list[np.ndarray] = []
    event_user: list[np.ndarray] = []
    joining = sorted(start_month.items(), key=lambda item: item[1])
    for month in _months(days):
        for account, first in joining:
            if first == month:
                active[account] = 0.0
        for account in list(active):
            before = active[account]
            level = plan_of[account]
            draw = rng.random()
            if before > 0 and draw < 0.032:
                after = 0.0  # cancelled
            else:
                if before > 0 and draw > 0.965 and level < 2:
                    level += 1  # upgraded
                    plan_of[account] = level
                after = PLANS[names[level]] * money
            sub["month"].append(month)
            sub["account_id"].append(account)
            sub["plan"].append(names[level])
            start_mrr.append(before)
            end_mrr.append(after)
            if after > 0:
                paid_on = month + dt.timedelta(days=int(rng.integers(0, 27)))
                if account in trial_index and month == start_month[account]:
                    paid_on = first_paid[trial_index[account]].astype(dt.date)
                if paid_on <= days.last:
                    pay_day.append(np.datetime64(paid_on))
                    pay_account.append(account)
                active[account] = after
            else:
                del active[account]
        users = np.array(sorted(active), dtype=object)
        month_days = [d for d in days.all() if d.replace(day=1) == month]
        if len(users) == 0 or not month_days:
            continue
        rate = days.rates(1.0, 0.0)[[(d - days.first).days for d in month_days]]
        counts = rng.poisson(rate * len(users) * 0.9)
        day = np.repeat(np.array(month_days, dtype="datetime64[D]"), counts)
        event_day.append(day)
        seat = rng.integers(1, 4, size=len(day)).astype(str)
        event_user.append(rng.choice(users, size=len(day)) + "-" + seat.astype(object))
    all_events = np.concatenate(event_day)
    return {
        "subscriptions": {
            "month": np.array(sub["month"], dtype="datetime64[D]"),
            "account_id": np.array(sub["account_id"], dtype=object),
            "plan": np.array(sub["plan"], dtype=object),
            "start_mrr": np.array(start_mrr),
            "end_mrr": np.array(end_mrr),
        },
        "trials": {"started_at": moments(trial_day, rng, 11.0), "account_id": trial_account},
        "payments": {
            "paid_at": moments(np.array(pay_day, dtype="datetime64[D]"), rng, 10.0),
            "paying_account_id": np.array(pay_account, dtype=object),
        },
        "events": {
            "happened_at": moments(all_events, rng, 14.0),
            "user_id": np.concatenate(event_user),
            "platform": pick(["web", "ios", "android"], [60, 20, 20], len(all_events), rng),
        },
    }


SAAS = ProjectTemplate(
    title=Text(en="Software subscription", id="Langganan perangkat lunak"),
    files={n: n for n in ("subscriptions", "trials", "payments", "events")},
    datasets={
        "subscriptions": {"time": "month", "dimensions": ["plan"]},
        "trials": {"time": "started_at", "key": ["account_id"]},
        "payments": {"time": "paid_at"},
        "events": {"time": "happened_at", "dimensions": ["platform"]},
    },
    goals={
        "grow_mrr": GoalChoice(
            Text(en="Grow recurring revenue", id="Pendapatan berulang tumbuh"),
            "strategic",
            "ceo@example.com",
        ),
        "activation": GoalChoice(
            Text(en="Trials that become customers", id="Uji coba yang menjadi pelanggan"),
            "operational",
            "growth@example.com",
            parent="grow_mrr",
        ),
    },
    kpis=[
        KpiChoice(
            "mrr",
            {"subscriptions": "subscriptions"},
            "grow_mrr",
            "ceo@example.com",
            Text(
                en="Review the pricing page and the upgrade prompts",
                id="Tinjau halaman harga dan ajakan untuk naik paket",
            ),
        ),
        KpiChoice(
            "churn_rate",
            {"subscriptions": "subscriptions"},
            "grow_mrr",
            "success@example.com",
            Text(
                en="Call every account that cancels and every one inactive for two weeks",
                id="Telepon setiap akun yang berhenti dan yang tidak aktif dua minggu",
            ),
        ),
        KpiChoice(
            "net_revenue_retention",
            {"subscriptions": "subscriptions"},
            "grow_mrr",
            "success@example.com",
            Text(
                en="Offer the next plan to accounts near their limits",
                id="Tawarkan paket berikutnya kepada akun yang mendekati batasnya",
            ),
        ),
        KpiChoice(
            "arpu",
            {"subscriptions": "subscriptions"},
            "grow_mrr",
            "ceo@example.com",
            Text(
                en="Bundle the most used add-ons into the pro plan",
                id="Gabungkan fitur tambahan yang paling dipakai ke paket pro",
            ),
        ),
        KpiChoice(
            "trial_conversion",
            {"trials": "trials", "payments": "payments"},
            "activation",
            "growth@example.com",
            Text(
                en="Book an onboarding call in the first three days of each trial",
                id="Jadwalkan panggilan orientasi di tiga hari pertama setiap uji coba",
            ),
        ),
        KpiChoice(
            "active_users",
            {"events": "events"},
            "activation",
            "product@example.com",
            Text(
                en="Send a tip each week about a feature the user has not tried",
                id="Kirim kiat mingguan tentang fitur yang belum dicoba pengguna",
            ),
        ),
    ],
    generate=_saas,
    change=Text(
        en="An onboarding call for every trial", id="Panggilan orientasi untuk setiap uji coba"
    ),
    change_kpis=["trial_conversion", "mrr"],
)

TEMPLATES: dict[str, ProjectTemplate] = {
    "ecommerce": ECOMMERCE,
    "saas": SAAS,
    "support": SUPPORT,
    "marketing": MARKETING,
}
