"""The shared action plan: the list of actions, an official's new action, an association's
proposal."""

from dataclasses import dataclass

from aiohttp import web

from admin import auth, consultations, plan_form
from admin.consultations import Consultation
from admin.pages import config, render
from storage import audit, plan
from storage.plan_tables import Action

routes = web.RouteTableDef()

DECISIONS = {"accepted": "acceptée", "merged": "fusionnée", "declined": "refusée"}


@dataclass(frozen=True)
class Line:
    """An action as the plan's list shows it."""

    action: Action
    depth: int
    status: str
    progress: int | None
    themes: list[str]
    owner: str
    proposer: str | None


async def context(request: web.Request, consultation_id: str | None = None) -> dict:
    """Returns what every plan page needs: the actions in tree order and their labels."""
    found = {c.id: c for c in await consultations.all_consultations(request)}
    async with config(request).db.read() as tx:
        rows = await plan.actions(tx, consultation_id)
        statuses = await plan.statuses(tx)
        themes = await plan.themes_of(tx, [row.id for row in rows])
        names = await plan.association_names(tx)
    progress = plan.progress(rows, statuses)
    lines = []
    for row, depth in plan.tree_order(rows):
        labels = found[row.consultation_id].theme_labels if row.consultation_id in found else {}
        value = progress.get(row.id)
        lines.append(Line(row, depth, statuses[row.status].name if row.status in statuses
                          else row.status, None if value is None else round(value),
                          [labels.get(t, t) for t in themes.get(row.id, [])],
                          owner_label(row, names),
                          names.get(row.proposer_association_id)))
    return {"lines": lines, "consultations": found, "statuses": statuses,
            "associations": names, "decisions": DECISIONS,
            "all_actions": [(row.id, row.title) for row in rows]}


def owner_label(row: Action, names: dict[int, str]) -> str:
    """Returns who carries an action: its association's name, else the service named."""
    return names.get(row.owner_association_id) or row.owner or "—"


@routes.get("/plan")
@auth.requires("official", "association")
async def page(request: web.Request) -> web.StreamResponse:
    """Shows the whole plan, with the form to add (official) or propose (association)."""
    return await render_plan(request, None)


@routes.get("/plan/consultations/{consultation}")
@auth.requires("official", "association")
async def consultation_page(request: web.Request) -> web.StreamResponse:
    """Shows the plan of one consultation."""
    return await render_plan(request, await consultations.get(request))


async def render_plan(request: web.Request, consultation: Consultation | None, *,
                  errors: list[str] | None = None, status: int = 200,
                  draft: plan.Fields | None = None) -> web.StreamResponse:
    found = await context(request, consultation.id if consultation else None)
    return render(request, "plan.html", {
        **found, "consultation": consultation, "errors": errors or [],
        "draft": draft or plan.Fields("", consultation_id=consultation.id if consultation
                                      else None),
        "created": request.query.get("cree"), "proposed": request.query.get("propose"),
        "imported": _imported(request.query.get("importe", ""))}, status=status)


def _imported(value: str) -> tuple[int, int] | None:
    """Reads the counts an import left in the address: created-updated."""
    created, _, updated = value.partition("-")
    return (int(created), int(updated)) if created.isdigit() and updated.isdigit() else None


@routes.post("/plan/actions")
@auth.requires("official")
async def create(request: web.Request) -> web.StreamResponse:
    """Adds an action to the plan."""
    values, errors = await _read(request)
    if errors:
        return await render_plan(request, None, errors=errors, status=400, draft=values)
    settings, user = config(request), auth.current_user(request)
    async with settings.db.transaction() as tx:
        row = await plan.create(tx, values, user.actor, settings.clock())
        audit.record(tx, actor=user.actor, action="plan.action_created",
                     target=f"action:{row.id}", at=settings.clock(),
                     details={"consultation_id": values.consultation_id})
    return auth.see_other(f"/admin/plan/actions/{row.id}?cree=1")


@routes.post("/plan/propositions")
@auth.requires("association")
async def propose(request: web.Request) -> web.StreamResponse:
    """Records an association's proposal: status proposee, its association as proposer."""
    user = auth.current_user(request)
    form = await request.post()
    found = {c.id: c for c in await consultations.all_consultations(request)}
    async with config(request).db.read() as tx:
        names = await plan.association_names(tx)
    # Only what a proposal may say: the rest is officials' to decide.
    read, errors = plan_form.read(form, found, names)
    values = plan.Fields(read.title, read.description, consultation_id=read.consultation_id,
                         themes=read.themes, status=plan.PROPOSED,
                         owner_association_id=user.association_id)
    errors += await check(request, values, found)
    if errors:
        return await render_plan(request, None, errors=errors, status=400, draft=values)
    settings = config(request)
    async with settings.db.transaction() as tx:
        row = await plan.create(tx, values, user.actor, settings.clock(),
                                proposer_association_id=user.association_id)
        audit.record(tx, actor=user.actor, action="plan.action_proposed",
                     target=f"action:{row.id}", at=settings.clock(),
                     details={"consultation_id": values.consultation_id})
    return auth.see_other(f"/admin/plan/actions/{row.id}?propose=1")


async def _read(request: web.Request) -> tuple[plan.Fields, list[str]]:
    """Reads an official's action form and checks it."""
    form = await request.post()
    found = {c.id: c for c in await consultations.all_consultations(request)}
    async with config(request).db.read() as tx:
        names = await plan.association_names(tx)
    values, errors = plan_form.read(form, found, names)
    return values, errors + await check(request, values, found)


async def check(request: web.Request, values: plan.Fields,
                    found: dict[str, Consultation], action_id: int | None = None) -> list[str]:
    async with config(request).db.read() as tx:
        known = await plan.statuses(tx)
        parent_map = await plan.parents(tx)
    problems = plan.problems(values, known_statuses=known, themes=plan_form.theme_sets(found),
                             actions=set(parent_map) - {action_id})
    if action_id is not None and values.parent_id in parent_map and \
            plan.cycle_through(parent_map, action_id, values.parent_id):
        problems.append("cycle de parents : l'action serait sa propre ascendante")
    return problems
