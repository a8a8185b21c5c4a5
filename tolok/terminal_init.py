"""`tolok init`: write a project from a template, record its one change, say what to try."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from tolok.catalog.add import CatalogError
from tolok.catalog.init import create
from tolok.spec.loader import load_project

_NEXT = {
    "en": [
        "Created {folder}: {kpis} KPIs from the catalog, {goals} goals, {rows:,} rows of "
        "sample data over two years.",
        "On {day} the team made a change: {change}. It is recorded as annotation 1.",
        "",
        "Try:",
        "  cd {folder}",
        "  tolok refresh         compute every KPI and keep the history",
        "  tolok status          each KPI against its target, with pace and forecast",
        "  tolok goals           the goals and how far along they are",
        "  tolok impact 1        did the change work?",
        "  tolok explain {kpi} --by {dim}",
        "  tolok lint            advice on the KPIs (clean to start with)",
        "  tolok catalog         more KPIs to add",
    ],
    "id": [
        "Dibuat {folder}: {kpis} KPI dari katalog, {goals} sasaran, {rows:,} baris data "
        "contoh selama dua tahun.",
        "Pada {day} tim membuat perubahan: {change}. Dicatat sebagai anotasi 1.",
        "",
        "Coba:",
        "  cd {folder}",
        "  tolok refresh         hitung semua KPI dan simpan riwayatnya",
        "  tolok status          setiap KPI terhadap targetnya, dengan laju dan prakiraan",
        "  tolok goals           sasaran dan seberapa jauh tercapai",
        "  tolok impact 1        apakah perubahan itu berhasil?",
        "  tolok explain {kpi} --by {dim}",
        "  tolok lint            saran tentang KPI (bersih sejak awal)",
        "  tolok catalog         KPI lain untuk ditambahkan",
    ],
}


def run_init(folder: Path, template: str, lang: str, out: Console, err: Console) -> bool:
    from tolok.terminal_explain import run_annotate

    try:
        created = create(folder, template, lang)
    except CatalogError as exc:
        err.print(f"error: {exc}", markup=False)
        return False
    loaded = load_project(folder)
    assert loaded.project is not None
    quiet = Console(file=open(Path("/dev/null"), "w"))  # noqa: SIM115
    run_annotate(
        loaded, created.change_kpis, created.change_day.isoformat(), created.change, "tolok init",
        quiet,
    )  # fmt: skip
    quiet.file.close()
    project = loaded.project
    first = next(iter(project.kpis))
    dims = [d for k in project.kpis.values() for b in k.breakdowns for d in b]
    for line in _NEXT[lang]:
        text = line.format(
            folder=folder,
            kpis=len(project.kpis),
            goals=len(project.goals),
            rows=sum(created.rows.values()),
            day=created.change_day.isoformat(),
            change=created.change,
            kpi=first,
            dim=dims[0] if dims else "",
        )
        out.print(text, markup=False)
    return True
