"""The action plan as one CSV file, written and read the same way by the admin view and
`relais plan export|import`: an import with any bad row changes nothing."""

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from admin.consultations import from_definition
from admin.exports import FORMULA_STARTS, neutralise
from storage import catalog, plan
from storage.rollup import has_cycle

HEADER = ("id", "parent", "titre", "description", "porteur", "statut", "avancement", "poids",
          "debut", "fin", "consultation", "themes", "public")
BOM = "\ufeff"
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NUMBER = re.compile(r"-?[0-9]{1,9}")


@dataclass(frozen=True)
class Row:
    """One line of the file, read."""

    line: int
    id: int | None
    porteur: str
    values: plan.Fields


@dataclass(frozen=True)
class Problem:
    """What is wrong with one line."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.reason}"


async def export(tx: AsyncSession) -> tuple[str, int]:
    """Returns the whole plan as the CSV text, byte-order mark first, by action id, and its
    number of actions."""
    rows = await plan.actions(tx)
    themes = await plan.themes_of(tx, [row.id for row in rows])
    names = await plan.association_names(tx)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        cells = [row.id, row.parent_id, row.title, row.description,
                 names.get(row.owner_association_id) or row.owner, row.status, row.progress,
                 row.weight, row.starts_on, row.ends_on, row.consultation_id,
                 "|".join(sorted(themes.get(row.id, []))), "oui" if row.public else "non"]
        writer.writerow([neutralise(_cell(cell)) for cell in cells])
    return BOM + out.getvalue(), len(rows)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _unneutralise(cell: str) -> str:
    """Takes back the quote the export put before a cell a spreadsheet would run."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def parse(data: bytes) -> tuple[list[Row], list[Problem]]:
    """Reads the file's rows and what is wrong with each, line by line."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Problem(1, "le fichier n'est pas en UTF-8")]
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=";")
    try:
        header = next(reader, None)
    except csv.Error as error:
        return [], [Problem(1, f"CSV illisible ({error})")]
    if header is None or tuple(cell.strip() for cell in header) != HEADER:
        return [], [Problem(1, "en-tête attendu : " + ";".join(HEADER))]
    rows, problems = [], []
    line = reader.line_num + 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                row, found = _row(line, cells)
                rows += [row] if row else []
                problems += [Problem(line, reason) for reason in found]
            line = reader.line_num + 1
    except csv.Error as error:
        problems.append(Problem(line, f"CSV illisible ({error})"))
    return rows, problems


def _row(line: int, cells: list[str]) -> tuple[Row | None, list[str]]:
    if len(cells) != len(HEADER):
        return None, [f"{len(cells)} colonnes au lieu de {len(HEADER)}"]
    cell = dict(zip(HEADER, (_unneutralise(c) for c in cells), strict=True))
    found: list[str] = []

    def number(name: str) -> int | None:
        value = cell[name].strip()
        if not value:
            return None
        if not NUMBER.fullmatch(value):
            found.append(f"{name} : « {value} » n'est pas un nombre entier")
            return None
        return int(value)

    def day(name: str) -> date | None:
        value = cell[name].strip()
        if not value:
            return None
        try:
            if not DAY.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            found.append(f"{name} : date « {value} » invalide (AAAA-MM-JJ)")
            return None

    public = cell["public"].strip().lower()
    if public not in ("oui", "non"):
        found.append(f"public : « {cell['public']} » au lieu de oui ou non")
    weight = number("poids")
    action_id = number("id")
    if action_id is not None and action_id < 1:
        found.append(f"id : {action_id} n'est pas un numéro d'action")
    values = plan.Fields(
        title=cell["titre"].strip(), description=cell["description"],
        owner=cell["porteur"].strip(), status=cell["statut"].strip(),
        progress=number("avancement"), weight=1 if weight is None else weight,
        starts_on=day("debut"), ends_on=day("fin"), public=public == "oui",
        consultation_id=cell["consultation"].strip() or None, parent_id=number("parent"),
        themes=tuple(t.strip() for t in cell["themes"].split("|") if t.strip()))
    return Row(line, action_id, cell["porteur"].strip(), values), found


async def check(tx: AsyncSession, rows: list[Row]) -> list[Problem]:
    """Lists what is wrong with rows against the database: statuses, parents (and their
    cycles), consultations and themes."""
    known = await plan.statuses(tx)
    themes = {row.id: set(from_definition(row.definition, row.retention_days).theme_labels)
              for row in await catalog.consultations(tx)}
    existing = await plan.parents(tx)
    in_file = {row.id for row in rows if row.id is not None}
    problems = []
    seen: dict[int, int] = {}
    for row in rows:
        if row.id is not None and row.id in seen:
            problems.append(Problem(row.line, f"id {row.id} déjà à la ligne {seen[row.id]}"))
        if row.id is not None:
            seen.setdefault(row.id, row.line)
        problems += [Problem(row.line, reason) for reason in plan.problems(
            row.values, known_statuses=known, themes=themes, actions=set(existing) | in_file)]
    parents = dict(existing)
    parents.update({row.id: row.values.parent_id for row in rows if row.id is not None})
    looping = set(has_cycle(parents))
    problems += [Problem(row.line, "cycle de parents") for row in rows
                 if row.id in looping or (row.id is None and row.values.parent_id in looping)]
    return sorted(problems, key=lambda p: p.line)


async def read(tx: AsyncSession, data: bytes) -> tuple[list[Row], list[Problem]]:
    """Reads and checks a whole file: its rows, and every problem of every line in order."""
    rows, problems = parse(data)
    if problems and not rows:
        return rows, problems
    found = problems + await check(tx, rows)
    return rows, sorted(found, key=lambda p: p.line)  # stable: a line's reasons keep order


async def apply(tx: AsyncSession, rows: list[Row], actor: str,
                at: datetime) -> tuple[int, int]:
    """Writes checked rows: updates the actions with the same id, creates the others (numbered
    ones first, parents before their children); returns (created, updated)."""
    names = {name.casefold(): key for key, name in (await plan.association_names(tx)).items()}
    existing = set(await plan.parents(tx))
    created = updated = 0
    numbered = _parents_first([row for row in rows if row.id is not None])
    for position, row in enumerate(numbered + [row for row in rows if row.id is None]):
        if position == len(numbered) and created and tx.bind.dialect.name == "postgresql":
            # Ids given by the file bypass the sequence: move it past them before the rows
            # without an id take theirs from it.
            await tx.execute(text("SELECT setval(pg_get_serial_sequence('actions', 'id'), "
                                  "(SELECT max(id) FROM actions))"))
        owner_association = names.get(row.porteur.casefold())
        values = replace(row.values, owner="" if owner_association else row.porteur,
                         owner_association_id=owner_association)
        if row.id in existing:
            action = await plan.action(tx, row.id)
            if await plan.update(tx, action, values, actor, at):
                updated += 1
        else:
            await plan.create(tx, values, actor, at, action_id=row.id)
            created += 1
    if created and tx.bind.dialect.name == "postgresql":
        await tx.execute(text("SELECT setval(pg_get_serial_sequence('actions', 'id'), "
                              "(SELECT max(id) FROM actions))"))
    return created, updated


def _parents_first(rows: list[Row]) -> list[Row]:
    """Orders rows so that a parent of the file is written before its children."""
    by_id = {row.id: row for row in rows if row.id is not None}
    ordered: list[Row] = []
    placed: set[int] = set()

    def place(row: Row) -> None:
        if row.id is not None and row.id in placed:
            return
        parent = by_id.get(row.values.parent_id)
        if parent is not None and parent is not row:
            place(parent)
        if row.id is not None:
            placed.add(row.id)
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered
