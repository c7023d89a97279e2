"""The shared action plan: actions with their themes, statuses, milestones, comments,
proposals and the history of every change."""

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.plan_tables import (
    Action,
    ActionChange,
    ActionComment,
    ActionStatus,
    ActionTheme,
    Milestone,
)
from storage.rollup import Node, has_cycle, rollup
from storage.tables import AdminUser, Association

PROPOSED = "proposee"
ACCEPTED_STATUS = "a_lancer"  # where an accepted proposal starts
ABANDONED = "abandonnee"
DECISIONS = ("accepted", "merged", "declined")
MAX_TITLE = 200
KEY_CHARACTERS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class Status:
    """A status as pages show it."""

    key: str
    name: str
    description: str
    default_progress: int | None
    position: int


# The statuses Relais ships (also inserted by migration 0014): they hold even on a database
# whose rows were emptied.
SHIPPED = (
    Status(PROPOSED, "Proposée", "Proposée par une association, en attente d'une décision.",
           0, 10),
    Status(ACCEPTED_STATUS, "À lancer", "Décidée, pas encore commencée.", 0, 20),
    Status("en_cours", "En cours", "Commencée.", None, 30),
    Status("realisee", "Réalisée", "Terminée.", 100, 40),
    Status(ABANDONED, "Abandonnée", "Arrêtée : la raison est dans son historique.", None, 50),
)


@dataclass(frozen=True)
class Fields:
    """What a person sets on an action (the proposal and decision aside)."""

    title: str
    description: str = ""
    owner: str = ""
    owner_association_id: int | None = None
    status: str = ACCEPTED_STATUS
    progress: int | None = None
    weight: int = 1
    starts_on: date | None = None
    ends_on: date | None = None
    public: bool = False
    consultation_id: str | None = None
    parent_id: int | None = None
    themes: tuple[str, ...] = ()


async def statuses(tx: AsyncSession) -> dict[str, Status]:
    """Returns every status, the shipped ones and those an operator added, in order."""
    found = {s.key: s for s in SHIPPED}
    for row in await tx.scalars(select(ActionStatus)):
        found[row.key] = Status(row.key, row.name, row.description, row.default_progress,
                                row.position)
    return dict(sorted(found.items(), key=lambda item: (item[1].position, item[0])))


async def add_status(tx: AsyncSession, key: str, name: str, description: str = "",
                     default_progress: int | None = None) -> Status:
    """Adds a status; raises ValueError, in French, on a bad or taken key."""
    if not key or set(key) - KEY_CHARACTERS or len(key) > 20:
        raise ValueError("clé de statut : 1 à 20 caractères parmi a-z, 0-9 et _")
    if key in await statuses(tx):
        raise ValueError(f"le statut « {key} » existe déjà")
    if not name.strip():
        raise ValueError("donnez un nom au statut")
    if default_progress is not None and not 0 <= default_progress <= 100:
        raise ValueError("avancement par défaut : de 0 à 100")
    position = max(s.position for s in (await statuses(tx)).values()) + 10
    tx.add(ActionStatus(key=key, name=name.strip(), description=description,
                        default_progress=default_progress, position=position))
    return Status(key, name.strip(), description, default_progress, position)


def problems(values: Fields, *, known_statuses: dict[str, Status],
             themes: dict[str, set[str]], actions: set[int]) -> list[str]:
    """Lists, in French, what is wrong with an action's fields; themes maps each consultation
    to its theme ids, actions holds the ids a parent may be."""
    found = []
    if not values.title.strip():
        found.append("titre vide")
    elif len(values.title) > MAX_TITLE:
        found.append(f"titre de plus de {MAX_TITLE} caractères")
    if values.status not in known_statuses:
        found.append(f"statut inconnu « {values.status} »")
    if values.progress is not None and not 0 <= values.progress <= 100:
        found.append(f"avancement hors de 0–100 ({values.progress})")
    if not 0 <= values.weight <= 1000:
        found.append(f"poids hors de 0–1000 ({values.weight})")
    if values.starts_on and values.ends_on and values.ends_on < values.starts_on:
        found.append("fin avant le début")
    if values.parent_id is not None and values.parent_id not in actions:
        found.append(f"parent inconnu ({values.parent_id})")
    if values.consultation_id is not None and values.consultation_id not in themes:
        found.append(f"consultation inconnue « {values.consultation_id} »")
    elif values.themes and values.consultation_id is None:
        found.append("des thèmes sans consultation")
    else:
        unknown = [t for t in values.themes if t not in themes.get(values.consultation_id, ())]
        if unknown:
            found.append(f"thème inconnu « {', '.join(unknown)} »")
    return found


async def parents(tx: AsyncSession) -> dict[int, int | None]:
    """Returns every action's parent."""
    return dict((await tx.execute(select(Action.id, Action.parent_id))).all())


def cycle_through(parent_map: dict[int, int | None], action_id: int,
                  parent_id: int | None) -> bool:
    """Tells whether giving an action this parent would close a loop."""
    return action_id in has_cycle({**parent_map, action_id: parent_id})


def _text(value) -> str | None:
    """Writes a value the way the history keeps it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "|".join(value)
    return str(value)


def _change(tx: AsyncSession, action_id: int, actor: str, at: datetime, field: str,
            old, new) -> None:
    tx.add(ActionChange(action_id=action_id, at=at, actor=actor, field=field,
                        old=_text(old), new=_text(new)))


async def create(tx: AsyncSession, values: Fields, actor: str, at: datetime, *,
                 proposer_association_id: int | None = None,
                 action_id: int | None = None) -> Action:
    """Adds an action (with the given id, on import) and its themes; its history starts."""
    row = Action(id=action_id, created_at=at, updated_at=at,
                 proposer_association_id=proposer_association_id,
                 **{f.name: getattr(values, f.name) for f in fields(Fields)
                    if f.name != "themes"})
    tx.add(row)
    await tx.flush()
    _set_themes(tx, row, values.themes)
    _change(tx, row.id, actor, at, "création", None, values.title)
    return row


def _set_themes(tx: AsyncSession, row: Action, themes: tuple[str, ...]) -> None:
    for theme in dict.fromkeys(themes):
        tx.add(ActionTheme(action_id=row.id, theme=theme, consultation_id=row.consultation_id))


async def update(tx: AsyncSession, row: Action, values: Fields, actor: str,
                 at: datetime) -> list[str]:
    """Changes an action's fields, keeping each change in its history; returns their names."""
    changed = []
    for name in (f.name for f in fields(Fields) if f.name != "themes"):
        old, new = getattr(row, name), getattr(values, name)
        if old != new:
            setattr(row, name, new)
            _change(tx, row.id, actor, at, name, old, new)
            changed.append(name)
    old_themes = tuple(sorted((await themes_of(tx, [row.id])).get(row.id, [])))
    if old_themes != tuple(sorted(dict.fromkeys(values.themes))) or "consultation_id" in changed:
        await tx.execute(delete(ActionTheme).where(ActionTheme.action_id == row.id))
        await tx.flush()
        _set_themes(tx, row, values.themes)
        if old_themes != tuple(sorted(dict.fromkeys(values.themes))):
            _change(tx, row.id, actor, at, "themes", old_themes,
                    tuple(sorted(dict.fromkeys(values.themes))))
            changed.append("themes")
    if changed:
        row.updated_at = at
    return changed


def fields_of(row: Action, themes: list[str]) -> Fields:
    """Returns an action's fields as a form or a CSV row holds them."""
    return Fields(**{f.name: getattr(row, f.name) for f in fields(Fields) if f.name != "themes"},
                  themes=tuple(themes))


async def actions(tx: AsyncSession, consultation_id: str | None = None, *,
                  public_only: bool = False) -> list[Action]:
    """Returns the plan's actions (of one consultation), by id."""
    query = select(Action).order_by(Action.id)
    if consultation_id is not None:
        query = query.where(Action.consultation_id == consultation_id)
    if public_only:
        query = query.where(Action.public.is_(True))
    return list(await tx.scalars(query))


async def action(tx: AsyncSession, action_id: int) -> Action | None:
    """Returns one action, or None."""
    return await tx.get(Action, action_id)


async def themes_of(tx: AsyncSession, action_ids: list[int]) -> dict[int, list[str]]:
    """Returns the theme ids linked to each action."""
    found: dict[int, list[str]] = defaultdict(list)
    if action_ids:
        for action_id, theme in await tx.execute(
                select(ActionTheme.action_id, ActionTheme.theme)
                .where(ActionTheme.action_id.in_(action_ids))
                .order_by(ActionTheme.action_id, ActionTheme.theme)):
            found[action_id].append(theme)
    return found


def counted(row: Action) -> bool:
    """Tells whether an action weighs on its parent's progress."""
    return row.status != ABANDONED and row.decision not in ("merged", "declined")


def progress(rows: list[Action], known: dict[str, Status]) -> dict[int, float | None]:
    """Returns each action's progress: set by hand, else rolled up from its children, else
    its status's default."""
    # Forms and imports refuse cycles; two edits at once could still close one: its actions
    # are then read as roots rather than breaking every page of the plan.
    looping = set(has_cycle({row.id: row.parent_id for row in rows}))
    with_children = {row.parent_id for row in rows
                     if row.parent_id is not None and row.id not in looping}
    nodes = {}
    for row in rows:
        value = row.progress
        if value is None and row.id not in with_children:
            status = known.get(row.status)
            value = status.default_progress if status else None
        parent = None if row.id in looping else row.parent_id
        nodes[row.id] = Node(parent, value, row.weight, counted(row))
    return rollup(nodes)


async def add_milestone(tx: AsyncSession, row: Action, on: date, title: str, text: str,
                        actor: str, at: datetime) -> Milestone:
    """Adds a dated milestone to an action, and says so in its history."""
    milestone = Milestone(action_id=row.id, on=on, title=title, text=text, created_at=at)
    tx.add(milestone)
    _change(tx, row.id, actor, at, "jalon", None, f"{on.isoformat()} {title}")
    row.updated_at = at
    await tx.flush()
    return milestone


async def milestones_of(tx: AsyncSession, action_ids: list[int]) -> dict[int, list[Milestone]]:
    """Returns each action's milestones, by date."""
    found: dict[int, list[Milestone]] = defaultdict(list)
    if action_ids:
        for milestone in await tx.scalars(
                select(Milestone).where(Milestone.action_id.in_(action_ids))
                .order_by(Milestone.on, Milestone.id)):
            found[milestone.action_id].append(milestone)
    return found


async def history(tx: AsyncSession, action_id: int) -> list[ActionChange]:
    """Returns an action's changes, newest first."""
    return list(await tx.scalars(select(ActionChange).where(ActionChange.action_id == action_id)
                                 .order_by(ActionChange.at.desc(), ActionChange.id.desc())))


@dataclass(frozen=True)
class Comment:
    """A comment as pages show it: its author named by role, never by e-mail."""

    text: str
    at: datetime
    by: str


async def add_comment(tx: AsyncSession, action_id: int, author_id: int,
                      association_id: int | None, text: str, at: datetime) -> None:
    """Adds a comment to an action."""
    tx.add(ActionComment(action_id=action_id, author_id=author_id,
                         association_id=association_id, text=text, at=at))


async def comments(tx: AsyncSession, action_id: int) -> list[Comment]:
    """Returns an action's comments, oldest first, each signed by its association or as the
    Region's."""
    rows = await tx.execute(
        select(ActionComment.text, ActionComment.at, Association.name, AdminUser.role)
        .outerjoin(Association, Association.id == ActionComment.association_id)
        .outerjoin(AdminUser, AdminUser.id == ActionComment.author_id)
        .where(ActionComment.action_id == action_id)
        .order_by(ActionComment.at, ActionComment.id))
    return [Comment(text, at, name or ("Région" if role != "association" else "Association"))
            for text, at, name, role in rows]


async def decide(tx: AsyncSession, row: Action, decision: str, reason: str,
                 merged_into: int | None, actor: str, at: datetime) -> None:
    """Records officials' decision on a proposal: accepted (it is then to be launched),
    merged into another action, or declined; the reason is for the association."""
    if decision not in DECISIONS:
        raise ValueError(f"décision inconnue : {decision}")
    _change(tx, row.id, actor, at, "décision", row.decision, decision)
    row.decision, row.decision_reason, row.decided_at = decision, reason, at
    row.merged_into_id = merged_into if decision == "merged" else None
    if decision == "accepted" and row.status == PROPOSED:
        _change(tx, row.id, actor, at, "status", row.status, ACCEPTED_STATUS)
        row.status = ACCEPTED_STATUS
    row.updated_at = at


async def association_names(tx: AsyncSession) -> dict[int, str]:
    """Returns every association's name by id."""
    return dict((await tx.execute(select(Association.id, Association.name))).all())


def tree_order(rows: list[Action]) -> list[tuple[Action, int]]:
    """Returns actions parents first, each followed by its children, with their depth."""
    by_parent: dict[int | None, list[Action]] = defaultdict(list)
    ids = {row.id for row in rows}
    for row in rows:
        by_parent[row.parent_id if row.parent_id in ids else None].append(row)
    ordered: list[tuple[Action, int]] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for row in by_parent.get(parent, []):
            if row.id not in seen:  # a loop, should one slip in, is not walked twice
                seen.add(row.id)
                ordered.append((row, depth))
                walk(row.id, depth + 1)

    walk(None, 0)
    for row in rows:  # actions caught in a cycle of parents, shown rather than lost
        if row.id not in seen:
            seen.add(row.id)
            ordered.append((row, 0))
    return ordered
