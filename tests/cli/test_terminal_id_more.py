"""Issue 21, item 5: with `--lang id` every command speaks Indonesian, its errors and hints
too, with Indonesian numbers (`1.500.000,5`): `kpis`, `suggest-target`, `history`, `enter`,
`ingest`, `audit`, `target set`, `user …`, `alerts`, `deliveries`, `run-due`, `report`,
`db upgrade`, `catalog add`. Each output is cut into words and held against common English
words (the list `tests/server/test_no_english_in_id.py` holds the pages to), after taking
out what is the project's own (names, titles, e-mails, paths, values typed in). In English
the same commands say what they said before."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.catalog.test_add import project as catalog_project
from tests.conftest import EXAMPLE
from tests.server.test_no_english_in_id import ALLOWED, ENGLISH
from tolok.cli import app
from tolok.spec import load_project
from tolok.store.database import open_store
from tolok.store.sharing import AlertEvent, Delivery

TODAY = "2026-11-15"
runner = CliRunner(env={"TOLOK_TODAY": TODAY, "TOLOK_LANG": None, "TTY_COMPATIBLE": None})
on_terminal = CliRunner(
    env={"TOLOK_TODAY": TODAY, "TOLOK_LANG": None, "TTY_COMPATIBLE": "1", "COLUMNS": "400"}
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
INDONESIAN_NUMBER = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?"  # 1.500.000 or 1.500.000,5


def run(*args: str, code: int = 0, terminal: bool = False) -> str:
    """stdout and stderr of one command, colours taken out."""
    result = (on_terminal if terminal else runner).invoke(app, list(args))
    said = ANSI.sub("", result.stdout + result.stderr)
    assert result.exit_code == code, said
    return said


def english_left(text: str, root: Path | None = None) -> set[str]:
    """The common English words in `text`, once the project's own words are out: its KPIs',
    datasets', measures', dimensions' and goals' names and titles (a shop may name things in
    English), and what is a machine's (e-mails, paths, `code`, 'quoted values', JSON,
    formulas)."""
    if root is not None:
        project = load_project(root).project
        assert project is not None
        titles = [k.title or "" for k in project.kpis.values()]
        titles += [g.title for g in project.goals.values()]
        for title in sorted(filter(None, titles), key=len, reverse=True):
            text = text.replace(title, " ")
        names = set(project.kpis) | set(project.goals) | set(project.datasets)
        for dataset in project.datasets.values():
            names |= set(dataset.measures) | set(dataset.dimensions)
        text = re.sub(r"\b(" + "|".join(map(re.escape, names)) + r")\b", " ", text)
    text = re.sub(r"`[^`]*`|'[^']*'|\{[^}]*\}|\[[^]]*\]", " ", text)
    text = re.sub(r"\S*[@/_=.:]\S*[\w]", " ", text)  # e-mails, paths, codes, key=value
    text = re.sub(r"\w+\(", " (", text)  # a formula's functions: ratio(a, b)
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
    return (words & ENGLISH) - ALLOWED


@pytest.fixture(scope="module")
def toko(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example shop (`locale: id`) with a morning schedule, refreshed once."""
    target = tmp_path_factory.mktemp("id_more") / "toko"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("*.duckdb*", "tolok.db*"))
    with (target / "tolok.yaml").open("a", encoding="utf-8") as yaml:
        yaml.write("\nschedules:\n  pagi: {do: alerts, every: day, at: '08:00'}\n")
    run("refresh", str(target))
    return target


def test_kpis_title_and_headings_in_indonesian_piped_keeps_machine_names(toko: Path) -> None:
    kpis = load_project(toko).project.kpis  # type: ignore[union-attr]
    shown = run("--lang", "id", "kpis", str(toko), terminal=True)
    assert shown.splitlines()[0].strip() == f"Toko Maju: {len(kpis)} KPI"
    heading = next(line for line in shown.splitlines() if "rumus" in line)
    for word in ("nama", "judul", "rumus", "satuan", "periode", "tingkat", "fungsi",
                 "indikator", "penanggung jawab", "sasaran", "status"):  # fmt: skip
        assert word in heading, heading
    assert not english_left(heading)
    revenue = kpis["revenue"]  # the shop's YAML says: currency, month, strategic, sales, lagging
    assert (revenue.unit.value, revenue.grain.value, revenue.status.value) == (
        "currency", "month", "active")  # fmt: skip
    row = next(line for line in shown.splitlines() if line.startswith("│ revenue "))
    cells = [cell.strip() for cell in row.strip("│").split("│")]
    assert cells[3:8] == ["mata uang", "bulan", "Strategis", "Penjualan", "Lagging (hasil)"]
    assert cells[-1] == "aktif"
    piped = run("--lang", "id", "kpis", str(toko))
    assert piped.splitlines()[0].split("\t") == [
        "name", "title", "formula", "unit", "grain", "level", "function", "indicator", "owner",
        "goal", "status",
    ]  # fmt: skip
    english = run("--lang", "en", "kpis", str(toko), terminal=True)
    assert english.splitlines()[0].strip() == f"Toko Maju: {len(kpis)} KPIs"


def test_suggest_target_in_indonesian_words_and_numbers(toko: Path) -> None:
    said = run("--lang", "id", "suggest-target", "revenue", "-p", str(toko))
    lines = said.splitlines()
    assert lines[0].startswith("Revenue: dibandingkan periode yang sama setahun sebelumnya, ")
    assert re.search(r"antara [+-]\d+,\d% dan [+-]\d+,\d% \(\d+ periode\)", lines[0])
    assert re.search(r"tingkat terakhirnya Rp\s" + INDONESIAN_NUMBER + r"\.$", lines[1]), lines
    assert lines[2].startswith("Saran: ")
    assert re.search(r"Rp\s" + INDONESIAN_NUMBER + r" dari Rp\s" + INDONESIAN_NUMBER, lines[2])
    assert lines[3].startswith("  target: {growth: 0.")  # YAML to paste, as YAML writes it
    assert not english_left(said, toko)
    missing = run("--lang", "id", "suggest-target", "nope", "-p", str(toko), code=1)
    assert missing.startswith("galat: tidak ada KPI 'nope' (KPI: ")


def test_history_without_versions_in_indonesian(tmp_path: Path) -> None:
    fresh = tmp_path / "toko"
    shutil.copytree(EXAMPLE, fresh, ignore=shutil.ignore_patterns("*.duckdb*", "tolok.db*"))
    said = run("--lang", "id", "history", "revenue", "-p", str(fresh))
    assert said.strip() == "revenue: belum ada versi yang dicatat (tolok refresh mencatatnya)"


def test_enter_target_and_audit_in_indonesian(toko: Path, tmp_path: Path) -> None:
    p = ("-p", str(toko))
    said = run("--lang", "id", "enter", "ad_spend", "spend", "2026-03", "1500000.5",
               "--by", "platform=google", *p)  # fmt: skip
    assert said.strip() == "ad_spend.spend 2026-03 [platform=google]: 1.500.000,5"
    said = run("--lang", "id", "enter", "ad_spend", "spend", "2026-03", "1500000.5",
               "--by", "platform=google", *p)  # fmt: skip
    assert said.strip().endswith(": 1.500.000,5 (tidak berubah)")
    said = run("--lang", "id", "enter", "ad_spend", "spend", "2026-03", "2250000",
               "--by", "platform=google", *p)  # fmt: skip
    assert said.strip().endswith(": 2.250.000 (sebelumnya 1.500.000,5)")
    refused = run("--lang", "id", "enter", "ad_spend", "spend", "2026-03", "abc", *p, code=1)
    assert refused.strip() == "galat: 'abc' bukan angka; tidak ada yang disimpan"
    refused = run("--lang", "id", "enter", "ad_spend", "spend", "2026-03", *p, code=1)
    assert refused.startswith("galat: berikan UKURAN PERIODE NILAI")
    refused = run("--lang", "id", "enter", "iklan", "spend", "2026-03", "5", *p, code=1)
    assert refused.startswith("galat: 'iklan' bukan dataset manual (dataset manual: ad_spend)")
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    values = tmp_path / "values.csv"
    with values.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["measure", "period", "value", "platform"])
        writer.writerows(["spend", month, 1000 * i, "meta"] for i, month in enumerate(months))
    said = run("--lang", "id", "enter", "ad_spend", "--file", str(values), *p)
    assert said.strip() == f"{len(months)} nilai ad_spend: {len(months)} baru, 0 berubah, 0 tetap"

    said = run("--lang", "id", "target", "set", "revenue", "2026-12", "150000000", *p)
    assert said.strip() == "target revenue untuk 2026-12: 150.000.000"
    said = run("--lang", "id", "target", "set", "revenue", "2026-12", "175000000.5", *p)
    assert said.strip() == "target revenue untuk 2026-12: 175.000.000,5 (sebelumnya 150.000.000)"
    refused = run("--lang", "id", "target", "set", "revenue", "2026-12", "x", *p, code=1)
    assert refused.strip() == "galat: 'x' bukan angka"
    refused = run("--lang", "id", "target", "set", "revenue", "20xx", "5", *p, code=1)
    assert refused.startswith("galat: '20xx' bukan label periode; tulis 2026-03")

    table = run("--lang", "id", "audit", "revenue", *p, terminal=True)
    for heading in ("Kapan (UTC)", "Siapa", "Apa", "Subjek", "Sebelum", "Sesudah"):
        assert heading in table
    assert "menetapkan target" in table
    assert not english_left(table, toko)
    piped = run("--lang", "id", "audit", "revenue", *p).splitlines()
    assert [line.split("\t")[2] for line in piped] == ["target.set", "target.set"]


def test_users_in_indonesian(toko: Path) -> None:
    p = ("-p", str(toko))
    said = run("--lang", "id", "user", "add", "wati@tokomaju.id", "--role", "editor", *p)
    added, warned = said.splitlines()
    assert re.fullmatch(r"wati@tokomaju\.id ditambahkan \(editor\); kata sandi: \S{12,}", added)
    assert warned == "kata sandi hanya ditampilkan sekarang: sampaikan dengan aman"
    refused = run("--lang", "id", "user", "add", "wati@tokomaju.id", *p, code=1)
    assert refused.strip() == "galat: wati@tokomaju.id sudah punya akun"
    assert run("--lang", "id", "user", "disable", "wati@tokomaju.id", *p).strip() == (
        "wati@tokomaju.id: dinonaktifkan"
    )
    listed = run("--lang", "id", "user", "list", *p)
    assert "wati@tokomaju.id\twati\teditor\tnonaktif\t" in listed.splitlines()
    assert run("--lang", "id", "user", "enable", "wati@tokomaju.id", *p).strip() == (
        "wati@tokomaju.id: diaktifkan"
    )
    reset = run("--lang", "id", "user", "reset-password", "wati@tokomaju.id", *p).splitlines()
    assert reset[0].startswith("kata sandi baru untuk wati@tokomaju.id: ")
    assert reset[1] == "0 token API dicabut dan 0 sesi masuk diakhiri"
    refused = run("--lang", "id", "user", "disable", "siapa@tokomaju.id", *p, code=1)
    assert refused.strip() == "galat: tidak ada akun untuk siapa@tokomaju.id"


def test_alerts_deliveries_and_run_due_in_indonesian(toko: Path) -> None:
    checked = run("--lang", "id", "alerts", "check", str(toko))
    assert re.fullmatch(
        r"\d+ pesan terkirim, \d+ gagal, \d+ ditahan selama jam tenang; \d+ peringatan terbuka",
        checked.splitlines()[-1],
    ), checked
    assert not english_left(checked, toko)
    assert run("--lang", "id", "alerts", "list", str(toko)).strip() == (
        "tidak ada peringatan terbuka"
    )
    assert run("--lang", "id", "deliveries", str(toko)).strip() == "belum ada yang dikirim"
    assert run("--lang", "id", "deliveries", str(toko), "--failed").strip() == (
        "tidak ada pengiriman yang gagal"
    )
    with Session(open_store(f"sqlite:///{toko / 'tolok.db'}")) as session, session.begin():
        session.add(
            Delivery(
                key="k1",
                kind="digest",
                channel="penjualan",
                address="ani@toko.id",
                subject="Ringkasan",
                status="failed",
                attempts=3,
                error="SMTP 451",
                created_at=dt.datetime(2026, 11, 14, 8),
            )
        )
    table = run("--lang", "id", "deliveries", str(toko), terminal=True)
    for heading in ("kapan (UTC)", "jenis", "saluran", "alamat", "subjek", "status", "percobaan"):
        assert heading in table
    assert "│ ringkasan │" in table
    assert "gagal: SMTP 451" in table
    assert not english_left(table, toko)
    said = run("--lang", "id", "run-due", str(toko))  # the schedule is seen the first time
    assert re.fullmatch(
        r"pagi \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\): tercatat — baru terlihat: berjalan mulai "
        r"\d{4}-\d\d-\d\d 08:00 Asia/Jakarta",
        said.strip(),
    ), said
    assert run("--lang", "id", "run-due", str(toko)).strip() == "tidak ada yang jatuh tempo"


def test_ingest_in_indonesian_with_rows_errors_and_summary(tmp_path: Path) -> None:
    (tmp_path / "tolok.yaml").write_text(INGEST_PROJECT, encoding="utf-8")
    good = [f"e{i},2026-02-10 10:00,web,{i}" for i in range(1, 1301)]
    bad = ["b1,2026-02-10 10:00,web,abc", "b2,kemarin,web,3", "b3,,web,3"]
    file = tmp_path / "events.csv"
    file.write_text("\n".join([HEADER, *good, *bad]) + "\n", encoding="utf-8")
    p = ("-p", str(tmp_path))
    refused = run("--lang", "id", "ingest", str(file), "-d", "events", *p, code=1)
    lines = refused.splitlines()
    assert lines[0] == (
        f"galat: {len(bad)} baris salah di events.csv; tidak ada yang ditulis "
        "(--skip-bad-rows menulis baris yang benar)"
    )
    first_bad = len(good) + 2  # after the header line
    assert lines[1:] == [
        f"  events.csv: baris {first_bad}: kolom 'amount': 'abc' bukan angka",
        f"  events.csv: baris {first_bad + 1}: kolom 'happened_at': 'kemarin' bukan tanggal "
        "dan jam (tulis 2026-03-15T08:30:00)",
        f"  events.csv: baris {first_bad + 2}: kolom 'happened_at': kosong, padahal setiap "
        "baris memerlukannya",
    ]
    said = run("--lang", "id", "ingest", str(file), "-d", "events", "--skip-bad-rows", *p)
    written = f"{len(good):,}".replace(",", ".")  # 1.300
    assert said.strip() == (
        f"{written} baris ditulis ke events; {len(bad)} ditolak, lihat "
        f"{tmp_path / 'events.rejected.csv'}"
    )
    again = run("--lang", "id", "ingest", str(file), "-d", "events", "--skip-bad-rows", *p)
    assert again.strip().startswith(f"0 baris ditulis ke events; {written} sudah ada (kunci sama)")
    missing = run("--lang", "id", "ingest", str(tmp_path / "tidak.csv"), "-d", "events", *p,
                  code=1)  # fmt: skip
    assert missing.strip() == f"galat: tidak ada berkas {tmp_path / 'tidak.csv'}"
    unknown = run("--lang", "id", "ingest", str(file), "-d", "acara", *p, code=1)
    assert unknown.strip() == "galat: tidak ada dataset 'acara' (dataset: events)"
    one = tmp_path / "one.csv"
    one.write_text(f"{HEADER}\ne9999,2026-02-11 10:00,web,1\n", encoding="utf-8")
    assert run("--lang", "en", "ingest", str(one), "-d", "events", *p).strip() == (
        "1 row written to events"
    )


HEADER = "event_id,happened_at,kind,amount"
INGEST_PROJECT = """\
name: Toko
locale: id
currency: IDR
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  events:
    source: events
    time: happened_at
    key: [event_id]
    dimensions: [kind]
    columns: {event_id: string, happened_at: timestamp, kind: string, amount: number}
    measures:
      event_amount: {agg: sum, expr: amount}
kpis:
  event_amount:
    title: Jumlah
    formula: event_amount
    unit: number
"""


def test_report_and_db_upgrade_in_indonesian(toko: Path, tmp_path: Path) -> None:
    kpis = load_project(toko).project.kpis  # type: ignore[union-attr]
    output = tmp_path / "laporan.md"
    said = run("--lang", "id", "report", str(toko), "-o", str(output))
    assert said.strip() == f"{output} ditulis ({len(kpis)} KPI)"
    refused = run("--lang", "id", "report", str(toko), "--period", "20xx", code=1)
    assert refused.startswith("galat: '20xx' bukan label periode; tulis ")
    assert " atau " in refused
    said = run("--lang", "id", "db", "upgrade", str(toko))
    assert re.fullmatch(r"penyimpanan pada revisi \w+ \(sebelumnya \w+\)", said.strip()), said
    fresh = tmp_path / "kosong"
    fresh.mkdir()
    (fresh / "tolok.yaml").write_text(INGEST_PROJECT, encoding="utf-8")
    said = run("--lang", "id", "db", "upgrade", str(fresh))
    assert re.fullmatch(r"penyimpanan pada revisi \w+ \(sebelumnya kosong\)", said.strip()), said


def test_open_alerts_in_indonesian(tmp_path: Path) -> None:
    (tmp_path / "tolok.yaml").write_text(INGEST_PROJECT.replace("unit: number", "unit: number\n"
                                         "    grain: month"), encoding="utf-8")  # fmt: skip
    run("db", "upgrade", str(tmp_path))
    with Session(open_store(f"sqlite:///{tmp_path / 'tolok.db'}")) as session, session.begin():
        session.add(AlertEvent(rule="jumlah-turun", kpi="event_amount", open_key="x",
                               period=dt.date(2026, 10, 1), detail="{}",
                               opened_at=dt.datetime(2026, 11, 2, 9, 30)))  # fmt: skip
    table = run("--lang", "id", "alerts", "list", str(tmp_path), terminal=True)
    for heading in ("aturan", "KPI", "periode", "dibuka (UTC)", "diberitahukan"):
        assert heading in table
    row = next(line for line in table.splitlines() if "jumlah-turun" in line)
    cells = [cell.strip() for cell in row.strip("│").split("│")]
    assert cells == ["jumlah-turun", "event_amount", "Okt 2026", "2026-11-02 09:30", "ditahan"]
    english = run("--lang", "en", "alerts", "list", str(tmp_path), terminal=True)
    row = next(line for line in english.splitlines() if "jumlah-turun" in line)
    assert [cell.strip() for cell in row.strip("│").split("│")][2:] == [
        "2026-10-01", "2026-11-02 09:30", "held"]  # fmt: skip


def test_catalog_add_in_indonesian(tmp_path: Path) -> None:
    folder = catalog_project(tmp_path)
    p = ("-p", str(folder))
    refused = run("--lang", "id", "catalog", "add", "rio", "--dataset", "ads", *p, code=1)
    assert refused.strip() == "galat: tidak ada templat bernama 'rio' (lihat `tolok catalog`)"
    refused = run("--lang", "id", "catalog", "add", "roi", "--dataset", "iklan", *p, code=1)
    assert refused.strip() == "galat: tidak ada dataset bernama 'iklan' (dataset: ads, visits)"
    refused = run("--lang", "id", "catalog", "add", "roi", "--dataset", "ads", "--map", "x",
                  *p, code=1)  # fmt: skip
    assert refused.strip() == "galat: --map 'x': tulis sebagai NAMA=NILAI"
    said = run("--lang", "id", "catalog", "add", "roi", "--dataset", "ads", "--map",
               "revenue=rev", "--map", "campaign=channel", *p)  # fmt: skip
    lines = said.splitlines()
    assert lines[0] == "KPI roi ditambahkan: ratio(attributed_revenue - spend, spend)"
    assert "  campaign_cost: memakai ukuran yang sudah ada ads.spend" in lines
    assert any(line.startswith("  ukuran baru ads.attributed_revenue: ") for line in lines)
    assert not english_left(said, folder)


def test_english_says_what_it_said(toko: Path) -> None:
    p = ("-p", str(toko))
    assert run("--lang", "en", "target", "set", "nps", "2026-12", "40", *p).strip() == (
        "target of nps for 2026-12: 40"
    )
    assert run("--lang", "en", "target", "set", "nps", "2026-12", "42.5", *p).strip() == (
        "target of nps for 2026-12: 42.5 (was 40)"
    )
    said = run("--lang", "en", "enter", "ad_spend", "spend", "2026-04", "1500000",
               "--by", "platform=google", *p)  # fmt: skip
    assert said.strip() == "ad_spend.spend 2026-04 [platform=google]: 1500000"
    refused = run("--lang", "en", "enter", "ad_spend", "spend", "2026-04", "abc", *p, code=1)
    assert refused.strip() == "error: 'abc' is not a number; nothing was stored"
    checked = run("--lang", "en", "alerts", "check", str(toko)).splitlines()[-1]
    assert re.fullmatch(
        r"\d+ messages? sent, \d+ failed, \d+ held for quiet hours; \d+ alerts? open", checked
    )
    said = run("--lang", "en", "suggest-target", "revenue", *p).splitlines()
    assert said[0].startswith("Revenue: against the same period a year before, it grew between ")
    assert re.search(r"\(\d+ periods\)\.$", said[0])
    assert re.search(r"its recent level is IDR\s[\d,]+\.$", said[1]), said
    assert said[2].startswith("Suggested: ")
    said = run("--lang", "en", "db", "upgrade", str(toko)).strip()
    assert re.fullmatch(r"store at revision \w+ \(was \w+\)", said)
    refused = run("--lang", "en", "user", "disable", "siapa@tokomaju.id", *p, code=1)
    assert refused.strip() == "error: no account for siapa@tokomaju.id"
