"""One action of the plan: its page with milestones, comments and history; an official's
edits, milestones and decisions; comments by officials and associations."""

from datetime import date

from aiohttp import web

from admin import auth, consultations, plan_form
from admin.consultations import CHANNELS
from admin.ids import id_or_404, parse_id
from admin.pages import config, render
from admin.views.feedback import euros
from admin.views.plan import check, context
from storage import audit, plan, plan_notices
from storage.plan_tables import Action

routes = web.RouteTableDef()

FIELDS = {"création": "Création", "title": "Titre", "description": "Description",
          "owner": "Porteur (service)", "owner_association_id": "Association porteuse",
          "status": "Statut", "progress": "Avancement", "weight": "Poids",
          "starts_on": "Début", "ends_on": "Fin", "public": "Public",
          "consultation_id": "Consultation", "parent_id": "Action parente",
          "themes": "Thèmes", "jalon": "Jalon", "décision": "Décision"}
MAX_MILESTONE = 2000


async def load_action(request: web.Request) -> Action:
    action_id = id_or_404(request.match_info["action_id"])
    async with config(request).db.read() as tx:
        row = await plan.action(tx, action_id)
    if row is None:
        raise web.HTTPNotFound(text="Action inconnue.")
    return row


@routes.get("/plan/actions/{action_id}")
@auth.requires("official", "association")
async def page(request: web.Request) -> web.StreamResponse:
    """Shows an action: its fields, milestones, comments and history."""
    return await render_action(request, await load_action(request))


async def render_action(request: web.Request, row: Action, *, errors: list[str] | None = None,
                  draft: plan.Fields | None = None, status: int = 200, preview=None,
                  notice: str = "") -> web.StreamResponse:
    found = await context(request)
    user = auth.current_user(request)
    async with config(request).db.read() as tx:
        themes = (await plan.themes_of(tx, [row.id])).get(row.id, [])
        milestones = (await plan.milestones_of(tx, [row.id])).get(row.id, [])
        comments = await plan.comments(tx, row.id)
        history = await plan.history(tx, row.id)
        # Counts of messages to participants are for officials, as on the feedback page.
        notices = await plan_notices.sent(tx, row.consultation_id, row.id) \
            if row.consultation_id and user.role == "official" else []
    line = next(line for line in found["lines"] if line.action.id == row.id)
    return render(request, "plan_action.html", {
        **found, "line": line, "action": row, "milestones": milestones, "comments": comments,
        "history": history, "fields": FIELDS, "errors": errors or [],
        "draft": draft or plan.fields_of(row, themes),
        "children": [line for line in found["lines"] if line.action.parent_id == row.id],
        "notices": notices, "preview": preview, "notice": notice, "channels": CHANNELS,
        "euros": euros,
        "flash": next((key for key in ("cree", "propose", "modifie", "commente", "jalon",
                                       "decide", "notifie", "deja") if key in request.query),
                      None)},
        status=status)


@routes.post("/plan/actions/{action_id}")
@auth.requires("official")
async def edit(request: web.Request) -> web.StreamResponse:
    """Changes an action; every change goes to its history."""
    row = await load_action(request)
    form = await request.post()
    found = {c.id: c for c in await consultations.all_consultations(request)}
    async with config(request).db.read() as tx:
        names = await plan.association_names(tx)
    values, errors = plan_form.read(form, found, names)
    errors += await check(request, values, found, row.id)
    if errors:
        return await render_action(request, row, errors=errors, draft=values, status=400)
    settings, user = config(request), auth.current_user(request)
    async with settings.db.transaction() as tx:
        row = await plan.action(tx, row.id)
        changed = await plan.update(tx, row, values, user.actor, settings.clock())
        if changed:
            audit.record(tx, actor=user.actor, action="plan.action_changed",
                         target=f"action:{row.id}", at=settings.clock(),
                         details={"fields": changed})
    return auth.see_other(f"/admin/plan/actions/{row.id}?modifie=1")


@routes.post("/plan/actions/{action_id}/commentaires")
@auth.requires("official", "association")
async def comment(request: web.Request) -> web.StreamResponse:
    """Adds a comment, signed by the association or as the Region's."""
    row = await load_action(request)
    text = str((await request.post()).get("texte", "")).strip()
    if not text or len(text) > plan_form.MAX_COMMENT:
        return await render_action(request, row, status=400, errors=[
            f"Écrivez un commentaire de 1 à {plan_form.MAX_COMMENT} caractères."])
    settings, user = config(request), auth.current_user(request)
    async with settings.db.transaction() as tx:
        await plan.add_comment(tx, row.id, user.id, user.association_id, text,
                               settings.clock())
        audit.record(tx, actor=user.actor, action="plan.comment_added",
                     target=f"action:{row.id}", at=settings.clock())
    return auth.see_other(f"/admin/plan/actions/{row.id}?commente=1#commentaires")


@routes.post("/plan/actions/{action_id}/jalons")
@auth.requires("official")
async def milestone(request: web.Request) -> web.StreamResponse:
    """Adds a dated milestone to an action."""
    row = await load_action(request)
    form = await request.post()
    title = str(form.get("titre", "")).strip()
    text = str(form.get("texte", "")).strip()
    errors = []
    try:
        on = date.fromisoformat(str(form.get("date", "")).strip())
    except ValueError:
        errors.append("Date du jalon : AAAA-MM-JJ.")
    if not title or len(title) > plan.MAX_TITLE:
        errors.append(f"Titre du jalon : de 1 à {plan.MAX_TITLE} caractères.")
    if len(text) > MAX_MILESTONE:
        errors.append(f"Texte du jalon : au plus {MAX_MILESTONE} caractères.")
    if errors:
        return await render_action(request, row, errors=errors, status=400)
    settings, user = config(request), auth.current_user(request)
    async with settings.db.transaction() as tx:
        row = await plan.action(tx, row.id)
        await plan.add_milestone(tx, row, on, title, text, user.actor, settings.clock())
        audit.record(tx, actor=user.actor, action="plan.milestone_added",
                     target=f"action:{row.id}", at=settings.clock())
    return auth.see_other(f"/admin/plan/actions/{row.id}?jalon=1#jalons")


@routes.post("/plan/actions/{action_id}/decision")
@auth.requires("official")
async def decide(request: web.Request) -> web.StreamResponse:
    """Accepts, merges or declines an association's proposal, with a reason it reads."""
    row = await load_action(request)
    form = await request.post()
    decision = str(form.get("decision", ""))
    reason = str(form.get("motif", "")).strip()
    merged_into = parse_id(str(form.get("fusion", "")))
    errors = []
    if row.proposer_association_id is None:
        errors.append("Cette action n'est pas une proposition d'association.")
    if decision not in plan.DECISIONS:
        errors.append("Choisissez : accepter, fusionner ou refuser.")
    if not reason or len(reason) > plan_form.MAX_COMMENT:
        errors.append(f"Donnez un motif, lu par l'association (au plus "
                      f"{plan_form.MAX_COMMENT} caractères).")
    if decision == "merged":
        async with config(request).db.read() as tx:
            target = await plan.action(tx, merged_into) if merged_into else None
        if target is None or target.id == row.id:
            errors.append("Choisissez l'action dans laquelle la proposition est fusionnée.")
    if errors:
        return await render_action(request, row, errors=errors, status=400)
    settings, user = config(request), auth.current_user(request)
    async with settings.db.transaction() as tx:
        row = await plan.action(tx, row.id)
        await plan.decide(tx, row, decision, reason, merged_into, user.actor, settings.clock())
        audit.record(tx, actor=user.actor, action="plan.proposal_decided",
                     target=f"action:{row.id}", at=settings.clock(),
                     details={"decision": decision, "merged_into": row.merged_into_id})
    return auth.see_other(f"/admin/plan/actions/{row.id}?decide=1")
