"""The rules: one function per concern of a good KPI, each yielding findings.

The concerns follow the article tolok grew from (a KPI is aligned, actionable, realistic,
specific and measurable, clear) and what goes wrong in practice (too many KPIs on one goal,
a ratio divided by zero, an average of ratios, a count of rows where people were meant,
a leading indicator with nothing to lead, data nobody loaded for weeks).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tolok.display import format_change, format_value
from tolok.lint.finding import Facts, Finding, Level, Rule, Say
from tolok.spec.formula import Binary, Call, FormulaError, Name, Node, Number, parse_formula, walk
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import (
    KPI,
    Agg,
    ConstantTarget,
    Direction,
    Grain,
    Indicator,
    Project,
    Status,
)
from tolok.spec.models import (
    Level as GoalLevel,
)
from tolok.spec.problems import Location
from tolok.spec.refs import KpiRef, MeasureRef, Scope
from tolok.spec.source import PathPart


@dataclass(frozen=True)
class Context:
    loaded: LoadedProject
    project: Project
    facts: Facts
    locale: str

    def at(self, section: str, name: str, *path: PathPart, key: bool = False) -> Location:
        """Where a part of a definition was written; the definition's key when that part
        is not written out (a default)."""
        try:
            return self.loaded.locate(section, name, *path, key=key)
        except (KeyError, IndexError, TypeError):
            return self.loaded.locate(section, name)

    def active(self) -> Iterator[tuple[str, KPI]]:
        for name, kpi in self.project.kpis.items():
            if kpi.status is Status.active:
                yield name, kpi

    def written(self, name: str, key: str) -> bool:
        node = self.loaded.raw("kpis", name)
        return hasattr(node, "get") and key in node

    def value(self, value: float, kpi: KPI) -> str:
        return format_value(value, kpi.unit, self.project.currency, self.locale)


Check = Callable[[Context], Iterator[Finding]]
RULES: dict[str, tuple[Rule, Check]] = {}


def rule(
    code: str, name: str, concern: str, level: Level, en: str, id_: str
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES[code] = (Rule(code, name, concern, level, Say(en, id_)), check)
        return check

    return register


def _find(code: str, message: Say, fix: Say, where: Location, subject: str) -> Finding:
    spec = RULES[code][0]
    return Finding(spec, message, fix, where, subject, spec.level)


# --- aligned -------------------------------------------------------------------------------


@rule("TLK101", "no-goal", "aligned", Level.warning,
      "A KPI serves a goal", "KPI melayani sebuah sasaran")  # fmt: skip
def no_goal(ctx: Context) -> Iterator[Finding]:
    goals = ", ".join(ctx.project.goals) or None
    for name, kpi in ctx.active():
        if kpi.goal is None:
            yield _find(
                "TLK101",
                Say(f"KPI {name} serves no goal", f"KPI {name} tidak melayani sasaran apa pun"),
                Say(
                    f"add `goal:` ({goals})" if goals else "define goals and link it: `goal: NAME`",
                    f"tambahkan `goal:` ({goals})"
                    if goals
                    else "tetapkan sasaran lalu tautkan: `goal: NAMA`",
                ),
                ctx.at("kpis", name),
                f"kpi:{name}",
            )


@rule("TLK102", "goal-without-kpi", "aligned", Level.warning,
      "A goal is measured by a KPI", "Sasaran diukur oleh KPI")  # fmt: skip
def goal_without_kpi(ctx: Context) -> Iterator[Finding]:
    served = {kpi.goal for _, kpi in ctx.active() if kpi.goal}
    children: dict[str, list[str]] = {}
    for name, goal in ctx.project.goals.items():
        if goal.parent:
            children.setdefault(goal.parent, []).append(name)

    def measured(goal: str, seen: frozenset[str] = frozenset()) -> bool:
        if goal in served:
            return True
        return any(measured(c, seen | {goal}) for c in children.get(goal, []) if c not in seen)

    for name, goal in ctx.project.goals.items():
        if not measured(name):
            strategic = goal.level is GoalLevel.strategic
            yield _find(
                "TLK102",
                Say(
                    f"{'strategic ' if strategic else ''}goal {name} has no KPI: nobody can "
                    "tell whether it is reached",
                    f"sasaran {'strategis ' if strategic else ''}{name} tidak punya KPI: tak "
                    "ada yang tahu apakah sasaran itu tercapai",
                ),
                Say(
                    f"give a KPI `goal: {name}` (see `tolok catalog` for ideas)",
                    f"beri sebuah KPI `goal: {name}` (lihat `tolok catalog` untuk ide)",
                ),
                ctx.at("goals", name),
                f"goal:{name}",
            )


# --- actionable ----------------------------------------------------------------------------


@rule("TLK103", "no-owner", "actionable", Level.warning,
      "A KPI has an owner", "KPI punya penanggung jawab")  # fmt: skip
def no_owner(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        if not kpi.owner:
            yield _find(
                "TLK103",
                Say(
                    f"KPI {name} has no owner: when it goes wrong, nobody is asked to act",
                    f"KPI {name} tidak punya penanggung jawab: saat memburuk, tak ada yang "
                    "diminta bertindak",
                ),
                Say("add `owner:` (a person's e-mail)", "tambahkan `owner:` (e-mail seseorang)"),
                ctx.at("kpis", name),
                f"kpi:{name}",
            )


@rule("TLK104", "off-track-without-actions", "actionable", Level.warning,
      "A KPI off track says what to do", "KPI yang meleset menyebut tindakan")  # fmt: skip
def off_track_without_actions(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        facts = ctx.facts.kpis.get(name)
        if facts is None or facts.standing != "off_track" or kpi.actions:
            continue
        yield _find(
            "TLK104",
            Say(
                f"KPI {name} is off track and lists no actions",
                f"KPI {name} meleset dari target dan tidak mencantumkan tindakan",
            ),
            Say(
                "add `actions:` — what the owner does when it is off track",
                "tambahkan `actions:` — apa yang dilakukan penanggung jawab saat meleset",
            ),
            ctx.at("kpis", name),
            f"kpi:{name}",
        )


# --- realistic -----------------------------------------------------------------------------


@rule("TLK105", "unrealistic-target", "realistic", Level.warning,
      "A target is within reach of history", "Target terjangkau menurut riwayat")  # fmt: skip
def unrealistic_target(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        facts = ctx.facts.kpis.get(name)
        if facts is None or facts.target_ahead is None or len(facts.values) < 4:
            continue
        if kpi.direction is Direction.band:
            continue
        values, target = facts.values, facts.target_ahead
        up = kpi.direction is Direction.up
        best = max(values) if up else min(values)
        if (target <= best) if up else (target >= best):
            continue
        if best <= 0:
            continue
        needed = target / best - 1 if up else 1 - target / best
        steps = [(b / a - 1 if up else 1 - b / a) for a, b in itertools.pairwise(values) if a > 0]
        jump = max([s for s in steps if s > 0], default=0.0)
        if needed <= jump:
            continue
        best_text, target_text = ctx.value(best, kpi), ctx.value(target, kpi)
        need, most = format_change(needed, ctx.locale), format_change(jump, ctx.locale)
        word = ("best", "terbaik") if up else ("lowest", "terendah")
        yield _find(
            "TLK105",
            Say(
                f"KPI {name}'s target {target_text} is {need} beyond its {word[0]} period "
                f"ever ({best_text}); its biggest gain from one period to the next was {most}",
                f"target KPI {name} {target_text} berjarak {need} dari periode "
                f"{word[1]}nya ({best_text}); lonjakan terbesarnya dari satu periode ke "
                f"berikutnya {most}",
            ),
            Say(
                f"set a target history can reach (`tolok suggest-target {name}`), or ramp to it",
                f"pasang target yang terjangkau (`tolok suggest-target {name}`), atau "
                "naikkan bertahap (`ramp`)",
            ),
            ctx.at("kpis", name, "target", key=True),
            f"kpi:{name}",
        )


# --- specific and measurable ---------------------------------------------------------------


@rule("TLK106", "no-target", "measurable", Level.warning,
      "A KPI has a target", "KPI punya target")  # fmt: skip
def no_target(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        if kpi.target is None:
            yield _find(
                "TLK106",
                Say(
                    f"KPI {name} has no target: its numbers cannot be called good or bad",
                    f"KPI {name} tidak punya target: angkanya tak bisa dinilai baik atau buruk",
                ),
                Say(
                    f"add `target:` (`tolok suggest-target {name}` proposes one)",
                    f"tambahkan `target:` (`tolok suggest-target {name}` mengusulkannya)",
                ),
                ctx.at("kpis", name),
                f"kpi:{name}",
            )


@rule("TLK107", "target-without-period", "measurable", Level.note,
      "A target says when it holds", "Target menyebut kapan berlaku")  # fmt: skip
def target_without_period(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        targets = kpi.target if isinstance(kpi.target, list) else [kpi.target]
        written_as_list = isinstance(ctx.loaded.raw("kpis", name).get("target"), list)
        for index, target in enumerate(targets):
            if isinstance(target, ConstantTarget) and target.from_ is None and target.until is None:
                path: tuple[PathPart, ...] = ("target", index) if written_as_list else ("target",)
                yield _find(
                    "TLK107",
                    Say(
                        f"KPI {name}'s target has no period: say from when it holds",
                        f"target KPI {name} tanpa periode: sebutkan sejak kapan berlaku",
                    ),
                    Say(
                        "add `from: 2026-01` (and `until:`), or use `ramp: {to: …, by: …}`",
                        "tambahkan `from: 2026-01` (dan `until:`), atau pakai "
                        "`ramp: {to: …, by: …}`",
                    ),
                    ctx.at("kpis", name, *path, key=not written_as_list),
                    f"kpi:{name}",
                )


@rule("TLK108", "no-unit", "measurable", Level.warning,
      "A KPI says its unit", "KPI menyebut satuannya")  # fmt: skip
def no_unit(ctx: Context) -> Iterator[Finding]:
    for name, _ in ctx.active():
        if not ctx.written(name, "unit"):
            yield _find(
                "TLK108",
                Say(
                    f"KPI {name} does not say its unit, so it shows as a bare number",
                    f"KPI {name} tidak menyebut satuannya, jadi tampil sebagai angka polos",
                ),
                Say(
                    "add `unit:` (number, percent, currency, duration or count)",
                    "tambahkan `unit:` (number, percent, currency, duration atau count)",
                ),
                ctx.at("kpis", name),
                f"kpi:{name}",
            )


@rule("TLK109", "no-grain", "measurable", Level.note,
      "A KPI says how often it is measured", "KPI menyebut seberapa sering diukur")  # fmt: skip
def no_grain(ctx: Context) -> Iterator[Finding]:
    for name, _ in ctx.active():
        if not ctx.written(name, "grain"):
            yield _find(
                "TLK109",
                Say(
                    f"KPI {name} does not say its grain (it is measured per month by default)",
                    f"KPI {name} tidak menyebut periodenya (bawaannya per bulan)",
                ),
                Say(
                    "add `grain:` with `day`, `week`, `month`, `quarter` or `year`",
                    "tambahkan `grain:` dengan `day`, `week`, `month`, `quarter` atau `year`",
                ),
                ctx.at("kpis", name),
                f"kpi:{name}",
            )


# --- clear ---------------------------------------------------------------------------------

_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,5}s?\b")
_COMMON = {"KPI", "KPIS", "ID", "URL", "API", "USD", "IDR", "EUR", "CSV", "PDF", "Q1", "Q2"}
_COMMON |= {"Q3", "Q4", "FY", "AM", "PM", "UTC", "OK"}


@rule("TLK110", "no-description", "clear", Level.warning,
      "A KPI explains itself", "KPI menjelaskan dirinya")  # fmt: skip
def no_description(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        if not (kpi.description or "").strip():
            yield _find(
                "TLK110",
                Say(
                    f"KPI {name} has no description: say in plain words what it counts",
                    f"KPI {name} tanpa deskripsi: jelaskan dengan kata sederhana apa yang "
                    "dihitungnya",
                ),
                Say(
                    "add `description:` — what is counted, from what, and why it matters",
                    "tambahkan `description:` — apa yang dihitung, dari mana, dan mengapa penting",
                ),
                ctx.at("kpis", name),
                f"kpi:{name}",
            )


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


@rule("TLK111", "description-repeats-title", "clear", Level.warning,
      "A description says more than the title", "Deskripsi lebih dari judul")  # fmt: skip
def description_repeats_title(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        if not kpi.description:
            continue
        words = _words(kpi.description)
        title = set(_words(kpi.title or name.replace("_", " ")))
        if words and (set(words) <= title or len(words) < 4):
            yield _find(
                "TLK111",
                Say(
                    f"KPI {name}'s description only repeats its title",
                    f"deskripsi KPI {name} hanya mengulang judulnya",
                ),
                Say(
                    "say how it is computed and what a change in it means",
                    "jelaskan cara menghitungnya dan arti perubahannya",
                ),
                ctx.at("kpis", name, "description"),
                f"kpi:{name}",
            )


@rule("TLK112", "undefined-acronym", "clear", Level.warning,
      "Acronyms are spelled out", "Singkatan dijelaskan")  # fmt: skip
def undefined_acronym(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        for bare in undefined_acronyms(f"{kpi.title or ''}\n{kpi.description or ''}"):
            field = "title" if bare in (kpi.title or "") else "description"
            yield _find(
                "TLK112",
                Say(
                    f"KPI {name} uses {bare} without saying what it stands for",
                    f"KPI {name} memakai {bare} tanpa menjelaskan kepanjangannya",
                ),
                Say(
                    f"write out once what it stands for, as in 'net promoter score ({bare})'",
                    f"tulis kepanjangannya sekali, seperti 'net promoter score ({bare})'",
                ),
                ctx.at("kpis", name, field),
                f"kpi:{name}",
            )


def undefined_acronyms(text: str) -> list[str]:
    """The acronyms in `text` (CAC, MRR) that it never spells out."""
    out = []
    for acronym in dict.fromkeys(_ACRONYM.findall(text)):
        bare = acronym.rstrip("s") if acronym.endswith("s") else acronym
        if bare.upper() in _COMMON or not bare.isupper() or bare in out:
            continue
        if not _spelled_out(text, bare):
            out.append(bare)
    return out


def _spelled_out(text: str, acronym: str) -> bool:
    """`Customer acquisition cost (CAC)` or `CAC (customer acquisition cost)`: words whose
    letters hold the acronym's in order, or (another language) a phrase of two words or more."""
    before = [m.group(1) for m in re.finditer(rf"([\w\s-]+?)\(\s*{re.escape(acronym)}\s*\)", text)]
    after = re.findall(rf"\b{re.escape(acronym)}\s*\(([^)]+)\)", text)
    return any(_expands(phrase, acronym) for phrase in (*before, *after))


def _expands(phrase: str, acronym: str) -> bool:
    words = re.findall(r"[^\W\d_]+", phrase.lower())
    if len(words) >= 2:
        return True
    letters = iter("".join(words))
    return (
        bool(words)
        and words[0][0] == acronym[0].lower()
        and all(c in letters for c in acronym.lower())
    )


@rule("TLK113", "hard-to-read", "clear", Level.note,
      "Descriptions are plain", "Deskripsi mudah dibaca")  # fmt: skip
def hard_to_read(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        sentences = re.split(r"(?<=[.!?;])\s+", (kpi.description or "").strip())
        longest = max((len(_words(s)) for s in sentences), default=0)
        if longest > 35:
            yield _find(
                "TLK113",
                Say(
                    f"KPI {name}'s description has a sentence of {longest} words",
                    f"deskripsi KPI {name} punya kalimat sepanjang {longest} kata",
                ),
                Say(
                    "split it: one idea per sentence, 25 words or fewer",
                    "pecah: satu gagasan per kalimat, paling banyak 25 kata",
                ),
                ctx.at("kpis", name, "description"),
                f"kpi:{name}",
            )


# --- focused -------------------------------------------------------------------------------


@rule("TLK120", "too-many-kpis-on-goal", "focused", Level.warning,
      "A goal has few KPIs", "Sasaran punya sedikit KPI")  # fmt: skip
def too_many_on_goal(ctx: Context) -> Iterator[Finding]:
    limit = ctx.project.lint.max_kpis_per_goal
    counts: dict[str, list[str]] = {}
    for name, kpi in ctx.active():
        if kpi.goal:
            counts.setdefault(kpi.goal, []).append(name)
    for goal, names in counts.items():
        if len(names) > limit and goal in ctx.project.goals:
            yield _find(
                "TLK120",
                Say(
                    f"goal {goal} has {len(names)} KPIs (more than {limit}): focus blurs",
                    f"sasaran {goal} punya {len(names)} KPI (lebih dari {limit}): fokus kabur",
                ),
                Say(
                    "keep the few that decide it; retire the rest (`status: retired`)",
                    "pertahankan beberapa yang menentukan; pensiunkan sisanya (`status: retired`)",
                ),
                ctx.at("goals", goal),
                f"goal:{goal}",
            )


@rule("TLK121", "too-many-kpis-for-owner", "focused", Level.warning,
      "An owner has few KPIs", "Penanggung jawab memegang sedikit KPI")  # fmt: skip
def too_many_for_owner(ctx: Context) -> Iterator[Finding]:
    limit = ctx.project.lint.max_kpis_per_owner
    counts: dict[str, list[str]] = {}
    for name, kpi in ctx.active():
        if kpi.owner:
            counts.setdefault(kpi.owner, []).append(name)
    for owner, names in counts.items():
        if len(names) > limit:
            yield _find(
                "TLK121",
                Say(
                    f"{owner} owns {len(names)} KPIs (more than {limit})",
                    f"{owner} memegang {len(names)} KPI (lebih dari {limit})",
                ),
                Say(
                    "share them out, or keep fewer KPIs",
                    "bagi ke orang lain, atau kurangi jumlah KPI",
                ),
                ctx.at("kpis", names[0], "owner"),
                f"owner:{owner}",
            )


# --- correct -------------------------------------------------------------------------------


def _tree(text: str) -> Node | None:
    try:
        return parse_formula(text)
    except FormulaError:
        return None


def _unguarded(tree: Node) -> Iterator[Binary]:
    for node in walk(tree):
        if isinstance(node, Binary) and node.op == "/":
            right = node.right
            if not (isinstance(right, Number) and right.value != 0):
                yield node


@rule("TLK130", "unguarded-division", "correct", Level.warning,
      "A division cannot divide by zero", "Pembagian tidak membagi dengan nol")  # fmt: skip
def unguarded_division(ctx: Context) -> Iterator[Finding]:
    for name, kpi in ctx.active():
        tree = _tree(kpi.formula)
        if tree is None:
            continue
        for node in _unguarded(tree):
            text = kpi.formula[node.span.start : node.span.end]
            yield _find(
                "TLK130",
                Say(
                    f"KPI {name} divides by something that can be 0 ({text})",
                    f"KPI {name} membagi dengan sesuatu yang bisa 0 ({text})",
                ),
                Say(
                    "write ratio(a, b): empty when b is 0 instead of infinite",
                    "tulis ratio(a, b): kosong bila b bernilai 0, bukan tak hingga",
                ),
                ctx.at("kpis", name, "formula"),
                f"kpi:{name}",
            )
    for dataset, spec in ctx.project.datasets.items():
        for measure, definition in spec.measures.items():
            tree = _tree(definition.expr) if definition.expr else None
            if tree is None or definition.agg in (Agg.avg, Agg.median, Agg.percentile):
                continue  # an average of a ratio: TLK131 says more
            for node in _unguarded(tree):
                text = (definition.expr or "")[node.span.start : node.span.end]
                yield _find(
                    "TLK130",
                    Say(
                        f"measure {dataset}.{measure} divides by a column that can be 0 ({text})",
                        f"ukuran {dataset}.{measure} membagi dengan kolom yang bisa 0 ({text})",
                    ),
                    Say(
                        "guard it: case(b != 0, a / b)",
                        "lindungi: case(b != 0, a / b)",
                    ),
                    ctx.at("datasets", dataset, "measures", measure, "expr"),
                    f"dataset:{dataset}",
                )


def _is_ratio(tree: Node) -> bool:
    """One quantity over another (not over a constant, like minutes / 60)."""
    if isinstance(tree, Binary) and tree.op == "/":
        return not isinstance(tree.right, Number)
    return isinstance(tree, Call) and tree.func == "ratio"


@rule("TLK131", "average-of-ratio", "correct", Level.warning,
      "A ratio is not averaged", "Rasio tidak dirata-ratakan")  # fmt: skip
def average_of_ratio(ctx: Context) -> Iterator[Finding]:
    for dataset, spec in ctx.project.datasets.items():
        for measure, definition in spec.measures.items():
            if definition.agg not in (Agg.avg, Agg.median) or not definition.expr:
                continue
            tree = _tree(definition.expr)
            if tree is not None and _is_ratio(tree):
                yield _find(
                    "TLK131",
                    Say(
                        f"measure {dataset}.{measure} averages a ratio per row: a row with "
                        "little weighs as much as a row with a lot",
                        f"ukuran {dataset}.{measure} merata-ratakan rasio per baris: baris "
                        "kecil berbobot sama dengan baris besar",
                    ),
                    Say(
                        "sum the top and the bottom as two measures and divide them in the KPI",
                        "jumlahkan pembilang dan penyebut sebagai dua ukuran, lalu bagi di KPI",
                    ),
                    ctx.at("datasets", dataset, "measures", measure, "expr"),
                    f"dataset:{dataset}",
                )
    scope = Scope.of(ctx.project)
    for name, kpi in ctx.active():
        tree = _tree(kpi.formula)
        if tree is None:
            continue
        for node in walk(tree):
            if not (isinstance(node, Call) and node.func == "rolling" and len(node.args) == 3):
                continue
            how, inner = node.args[2], node.args[0]
            if getattr(how, "value", None) != "avg" or not isinstance(inner, Name):
                continue
            found = scope.resolve(inner)
            inner_tree = (
                _tree(ctx.project.kpis[found.name].formula) if isinstance(found, KpiRef) else None
            )
            if inner_tree is not None and _is_ratio(inner_tree):
                yield _find(
                    "TLK131",
                    Say(
                        f"KPI {name} averages the ratio {inner.name} over periods: a quiet "
                        "period weighs as much as a busy one",
                        f"KPI {name} merata-ratakan rasio {inner.name} antarperiode: periode "
                        "sepi berbobot sama dengan periode ramai",
                    ),
                    Say(
                        "divide the rolling sums: ratio(rolling(a, n), rolling(b, n))",
                        "bagi jumlah bergulirnya: ratio(rolling(a, n), rolling(b, n))",
                    ),
                    ctx.at("kpis", name, "formula"),
                    f"kpi:{name}",
                )


_ENTITY = re.compile(r"(^|_)(id|uuid|email|e_mail|user|customer|visitor|member|account)$", re.I)


@rule("TLK132", "count-of-entity", "correct", Level.warning,
      "People are counted once", "Orang dihitung sekali")  # fmt: skip
def count_of_entity(ctx: Context) -> Iterator[Finding]:
    for dataset, spec in ctx.project.datasets.items():
        for measure, definition in spec.measures.items():
            if definition.agg is not Agg.count or not definition.expr:
                continue
            tree = _tree(definition.expr)
            if not isinstance(tree, Name) or not _ENTITY.search(tree.name):
                continue
            if spec.key == [tree.name]:
                continue  # one row per key: counting rows counts them once
            yield _find(
                "TLK132",
                Say(
                    f"measure {dataset}.{measure} counts rows with a {tree.name}, so someone "
                    "with three rows counts three times",
                    f"ukuran {dataset}.{measure} menghitung baris yang ber-{tree.name}, jadi "
                    "seseorang dengan tiga baris terhitung tiga kali",
                ),
                Say(
                    "use `agg: count_distinct` to count each one once",
                    "pakai `agg: count_distinct` agar masing-masing terhitung sekali",
                ),
                ctx.at("datasets", dataset, "measures", measure, "agg"),
                f"dataset:{dataset}",
            )


@rule("TLK133", "leading-without-lagging", "correct", Level.warning,
      "A leading KPI leads to a result", "KPI pendahulu mengarah ke hasil")  # fmt: skip
def leading_without_lagging(ctx: Context) -> Iterator[Finding]:
    lagging = {kpi.goal for _, kpi in ctx.active() if kpi.indicator is Indicator.lagging}

    def led(goal: str | None, seen: frozenset[str] = frozenset()) -> bool:
        """A result to lead: a lagging KPI on the goal or on a goal it serves."""
        if goal is None or goal in seen:
            return False
        parent = ctx.project.goals[goal].parent if goal in ctx.project.goals else None
        return goal in lagging or led(parent, seen | {goal})

    for name, kpi in ctx.active():
        if kpi.indicator is not Indicator.leading or kpi.goal is None:
            continue
        if not led(kpi.goal):
            yield _find(
                "TLK133",
                Say(
                    f"KPI {name} is a leading indicator, but neither goal {kpi.goal} nor a goal "
                    "above it has a lagging KPI to show whether leading it pays off",
                    f"KPI {name} adalah indikator pendahulu, tetapi sasaran {kpi.goal} maupun "
                    "sasaran di atasnya tak punya KPI hasil (lagging) untuk membuktikan "
                    "manfaatnya",
                ),
                Say(
                    f"add a lagging KPI (the result) with `goal: {kpi.goal}`",
                    f"tambahkan KPI hasil (lagging) dengan `goal: {kpi.goal}`",
                ),
                ctx.at("kpis", name, "indicator"),
                f"kpi:{name}",
            )


# --- fresh ---------------------------------------------------------------------------------

_GRAIN_DAYS = {
    Grain.day: 1,
    Grain.week: 7,
    Grain.month: 31,
    Grain.quarter: 92,
    Grain.fiscal_quarter: 92,
    Grain.year: 366,
    Grain.fiscal_year: 366,
}


@rule("TLK140", "stale-data", "fresh", Level.warning,
      "Data is newer than one period", "Data lebih baru dari satu periode")  # fmt: skip
def stale_data(ctx: Context) -> Iterator[Finding]:
    scope = Scope.of(ctx.project)
    finest: dict[str, Grain] = {}
    for _, kpi in ctx.active():
        tree = _tree(kpi.formula)
        for node in walk(tree) if tree is not None else []:
            found = scope.resolve(node) if isinstance(node, Name) else None
            if isinstance(found, MeasureRef):
                old = finest.get(found.dataset)
                if old is None or _GRAIN_DAYS[kpi.grain] < _GRAIN_DAYS[old]:
                    finest[found.dataset] = kpi.grain
    for dataset, grain in finest.items():
        if dataset not in ctx.facts.last_day:
            continue
        last = ctx.facts.last_day[dataset]
        age = None if last is None else (ctx.facts.today - last).days
        if age is not None and age <= _GRAIN_DAYS[grain]:
            continue
        newest = "no rows" if last is None else f"newest row {last.isoformat()}"
        terbaru = "tanpa baris" if last is None else f"baris terbaru {last.isoformat()}"
        yield _find(
            "TLK140",
            Say(
                f"dataset {dataset} is older than one {grain.value} ({newest}), so its KPIs "
                "show an old picture",
                f"dataset {dataset} lebih tua dari satu periode {grain.value} ({terbaru}), "
                "jadi KPI-nya menampilkan gambaran lama",
            ),
            Say(
                "load the new rows (`tolok ingest`), or switch the rule off for this dataset "
                "with the reason",
                "muat baris baru (`tolok ingest`), atau matikan aturan ini untuk dataset ini "
                "beserta alasannya",
            ),
            ctx.at("datasets", dataset),
            f"dataset:{dataset}",
        )
