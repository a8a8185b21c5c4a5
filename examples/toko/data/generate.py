"""Regenerate the toko example's CSV files (deterministic): python generate.py

A made-up Indonesian online shop, 2025-01-01 to 2026-11-26: orders as a marketplace
exports them (column names with spaces and punctuation, UTC timestamps), daily web
sessions per source and device, support tickets, a customer survey, and the monthly ad
spend per platform that the marketing team types in (`tolok enter ad_spend --file`).
"""

import csv
import datetime as dt
import math
import random
from pathlib import Path

HERE = Path(__file__).parent
START = dt.date(2025, 1, 1)
END = dt.date(2026, 11, 26)
WIB = dt.timezone(dt.timedelta(hours=7))
REGIONS = {"DKI Jakarta": 0.3, "Jawa Barat": 0.25, "Jawa Timur": 0.18, "Bali": 0.1,
           "Sumatera Utara": 0.1, "Sulawesi Selatan": 0.07}
CHANNELS = {"web": 0.35, "app": 0.4, "marketplace": 0.25}
CATEGORIES = {"fashion": (0.35, 180_000), "elektronik": (0.2, 650_000),
              "rumah tangga": (0.25, 220_000), "kecantikan": (0.2, 140_000)}
SOURCES = {"organic": 0.35, "paid_search": 0.2, "social": 0.2, "email": 0.1, "direct": 0.15}


def pick(rng, weights):
    return rng.choices(list(weights), [w if isinstance(w, float) else w[0] for w in weights.values()])[0]


def days():
    day = START
    while day <= END:
        yield day
        day += dt.timedelta(days=1)


def seasonal(day):
    """Growth of ~25% a year, weekends busier, a Ramadan/Lebaran lift and 11.11 / 12.12 sales."""
    t = (day - START).days / 365
    factor = 1 + 0.25 * t
    factor *= 1.15 if day.weekday() >= 5 else 1.0
    if (day.month, day.day) in ((11, 11), (12, 12)):
        factor *= 2.5
    if dt.date(2025, 3, 1) <= day <= dt.date(2025, 3, 30) or dt.date(2026, 2, 18) <= day <= dt.date(2026, 3, 19):
        factor *= 1.3
    return factor


def at(rng, day):
    local = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=rng.randint(0, 14 * 60))
    return local.replace(tzinfo=WIB)


def utc(moment):
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def orders(rng):
    rows, seen = [], set()
    customers = [f"C{n:05d}" for n in range(1, 4001)]
    n = 0
    for day in days():
        for _ in range(rng.randint(0, 4) + round(8 * seasonal(day) * rng.uniform(0.8, 1.2))):
            n += 1
            customer = rng.choice(customers[: 800 + int(3200 * (day - START).days / 700)])
            category = pick(rng, CATEGORIES)
            amount = round(CATEGORIES[category][1] * math.exp(rng.gauss(0, 0.45)), -3)
            status = rng.choices(["paid", "cancelled", "returned"], [0.9, 0.06, 0.04])[0]
            rows.append([f"TM-{n:06d}", utc(at(rng, day)), customer, pick(rng, REGIONS),
                         pick(rng, CHANNELS), category, int(amount),
                         "true" if customer not in seen else "false", status])
            seen.add(customer)
    header = ["Order ID", "Order Date", "Customer ID", "Region", "Channel", "Category",
              "Jumlah (Rp)", "First Order", "Status"]
    return header, rows


def sessions(rng):
    rows = []
    for day in days():
        for source, share in SOURCES.items():
            for device, dshare in (("mobile", 0.7), ("desktop", 0.3)):
                count = max(1, round(550 * seasonal(day) * share * dshare * rng.uniform(0.85, 1.15)))
                pages = round(count * rng.uniform(3.2, 4.4) * (1.15 if device == "desktop" else 1))
                bounces = round(count * rng.uniform(0.35, 0.5))
                rows.append([day.isoformat(), source, device, count, pages, bounces])
    return ["date", "source", "device", "sessions", "pageviews", "bounces"], rows


def tickets(rng):
    rows, n = [], 0
    for day in days():
        for _ in range(rng.randint(1, 4)):
            n += 1
            opened = at(rng, day)
            # Support got faster in 2026 after a second agent was hired.
            base = 95 if day.year == 2025 else 45
            response = opened + dt.timedelta(minutes=max(2, rng.expovariate(1 / base)))
            resolved = response + dt.timedelta(hours=rng.expovariate(1 / 20))
            done = resolved.date() < END - dt.timedelta(days=2) or rng.random() < 0.5
            status = "resolved" if done else "open"
            rows.append([f"T{n:05d}", utc(opened), utc(response),
                         utc(resolved) if done else "", status,
                         rng.choice(["whatsapp", "email", "chat"]),
                         rng.choice(["pengiriman", "pembayaran", "produk", "retur"])])
    header = ["ticket_id", "created_at", "first_response_at", "resolved_at", "status",
              "channel", "topic"]
    return header, rows


def survey(rng):
    rows, n = [], 0
    for day in days():
        for _ in range(rng.choices([0, 1, 2, 3], [0.2, 0.35, 0.3, 0.15])[0]):
            n += 1
            happy = 0.55 + (0.15 if day.year == 2026 else 0)
            nps = rng.choice([9, 10]) if rng.random() < happy else rng.randint(2, 8)
            csat = 5 if nps >= 9 else (4 if nps >= 7 else rng.randint(1, 3))
            rows.append([f"S{n:05d}", utc(at(rng, day)), nps, csat, pick(rng, REGIONS)])
    return ["response_id", "answered_at", "nps_score", "csat_score", "region"], rows


def ad_spend(rng):
    """Monthly ad spend per platform, typed in by the marketing team (tolok enter --file)."""
    rows = []
    month = START.replace(day=1)
    while month <= END:
        growth = 1 + 0.2 * (month - START).days / 365
        for platform, base in (("google", 9_000_000), ("meta", 7_000_000), ("tiktok", 3_000_000)):
            value = round(base * growth * rng.uniform(0.8, 1.2), -5)
            rows.append(["spend", f"{month.year}-{month.month:02d}", int(value), platform])
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return ["measure", "period", "value", "platform"], rows


def write(name, table):
    header, rows = table
    with (HERE / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    write("orders.csv", orders(random.Random(1)))
    write("sessions.csv", sessions(random.Random(2)))
    write("tickets.csv", tickets(random.Random(3)))
    write("survey.csv", survey(random.Random(4)))
    write("ad_spend.csv", ad_spend(random.Random(5)))
