"""Telling participants what became of an action ("vous avez dit, nous avons fait"): a
preview, then a feedback message to those whose answers carry one of its themes."""

from aiohttp import web

from admin import auth
from admin.pages import config
from admin.views.feedback import MAX_TEXT, make_preview
from admin.views.plan_action import load_action, render_action
from storage import audit, feedback, plan
from storage.plan_tables import Action

routes = web.RouteTableDef()


def message(text: str, row: Action, public_url: str) -> str:
    """Returns the message as sent: the official's words and the follow-up page's link."""
    return f"{text}\nSuivi : {public_url.rstrip('/')}/suivi/{row.consultation_id}"


@routes.post("/plan/actions/{action_id}/notification")
@auth.requires("official")
async def notify(request: web.Request) -> web.StreamResponse:
    """Previews who would hear about an action, or sends the message once confirmed."""
    row = await load_action(request)
    form = await request.post()
    text = str(form.get("texte", "")).strip()
    settings = config(request)
    async with settings.db.read() as tx:
        themes = tuple((await plan.themes_of(tx, [row.id])).get(row.id, []))
    error = None
    if row.consultation_id is None or not themes:
        error = "Liez d'abord l'action à des thèmes d'une consultation."
    elif not text:
        error = "Écrivez le message à envoyer."
    elif len(text) > MAX_TEXT:
        error = f"Le message dépasse {MAX_TEXT} caractères : raccourcissez-le."
    if error:
        return await render_action(request, row, errors=[error], status=400, notice=text)
    audience = feedback.Audience(row.consultation_id, themes=themes)
    full = message(text, row, settings.public_url)
    preview = await make_preview(request, audience, full)
    if form.get("action") != "envoyer":
        return await render_action(request, row, preview=preview, notice=text)
    if form.get("confirmer") != "oui" or preview.total == 0:
        return await render_action(request, row, preview=preview, notice=text, status=400, errors=[
            "Personne ne recevrait ce message : rien n'est envoyé." if preview.total == 0
            else "Cochez la case de confirmation pour envoyer le message."])
    user = auth.current_user(request)
    try:
        async with settings.db.transaction() as tx:
            sent = await feedback.send(tx, audience, full, user.email, settings.clock(),
                                       action_id=row.id)
            audit.record(tx, actor=user.actor, action="plan.participants_notified",
                         target=f"action:{row.id}", at=settings.clock(),
                         details={"consultation_id": row.consultation_id,
                                  "recipients": sent.recipients})
    except feedback.AlreadySent:
        return auth.see_other(f"/admin/plan/actions/{row.id}?deja=1#retours")
    return auth.see_other(f"/admin/plan/actions/{row.id}?notifie=1#retours")
