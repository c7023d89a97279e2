"""Officials curate what answers show: pin a quote to a theme, set an answer aside (off-topic,
test, duplicate) or bring it back. Every change is audited and reversible."""

from aiohttp import web

from admin import auth
from admin.consultations import get, question_of
from admin.pages import config
from storage import audit, curation

routes = web.RouteTableDef()

ANSWER = r"{answer:[0-9]{1,9}}"  # ASCII digits only, within an integer column


def _back(request: web.Request, consultation_id: str, question_id: str, form) -> str:
    """Returns where to go back: the question page, with the filters the form carried."""
    query = str(form.get("retour", ""))
    # Only a query string of this page: never another site, path or scheme.
    if not query.startswith("?") or any(c in query for c in "\\\r\n#"):
        query = ""
    return f"/admin/consultations/{consultation_id}/questions/{question_id}{query}#reponses"


async def _answer(request: web.Request):
    consultation = await get(request)
    answer_id = int(request.match_info["answer"])
    async with config(request).db.read() as tx:
        facts = await curation.answer_facts(tx, consultation.id, answer_id)
    if facts is None:
        raise web.HTTPNotFound(text="Réponse inconnue dans cette consultation.")
    question_id, _ = facts
    question = question_of(consultation, question_id)
    if not question.classify:
        raise web.HTTPNotFound(text="Seules les réponses libres classées par thème se "
                                    "choisissent ou s'écartent.")
    return consultation, answer_id, question_id


@routes.post(f"/consultations/{{consultation}}/reponses/{ANSWER}/epingler")
@auth.requires("official")
async def pin(request: web.Request) -> web.StreamResponse:
    """Pins an answer as a quote of one of its themes, or unpins it."""
    consultation, answer_id, question_id = await _answer(request)
    form = await request.post()
    theme = str(form.get("theme", ""))
    if theme not in consultation.theme_labels:
        raise web.HTTPBadRequest(text="Thème inconnu.")
    unpin = form.get("retirer") == "1"
    actor = auth.current_user(request).actor
    now = config(request).clock()
    async with config(request).db.transaction() as tx:
        if unpin:
            done = await curation.unpin(tx, answer_id, theme)
        else:
            done = await curation.pin(tx, answer_id, theme, actor, now)
        if not done:
            raise web.HTTPConflict(text="Cette réponse ne porte pas ce thème, est écartée ou "
                                        "n'était pas choisie.")
        audit.record(tx, actor=actor, at=now, action="quote.unpinned" if unpin
                     else "quote.pinned", target=f"reponse:{answer_id}",
                     details={"consultation": consultation.id, "theme": theme})
    raise web.HTTPSeeOther(_back(request, consultation.id, question_id, form))


@routes.post(f"/consultations/{{consultation}}/reponses/{ANSWER}/ecarter")
@auth.requires("official")
async def set_aside(request: web.Request) -> web.StreamResponse:
    """Sets an answer aside for a reason, or (empty reason) brings it back."""
    consultation, answer_id, question_id = await _answer(request)
    form = await request.post()
    reason = str(form.get("motif", "")) or None
    if reason is not None and reason not in curation.REASONS:
        raise web.HTTPBadRequest(text="Motif inconnu : hors_sujet, test ou doublon.")
    actor = auth.current_user(request).actor
    now = config(request).clock()
    async with config(request).db.transaction() as tx:
        before = await curation.set_aside(tx, answer_id, reason, actor, now)
        audit.record(tx, actor=actor, at=now, action="answer.set_aside" if reason
                     else "answer.restored", target=f"reponse:{answer_id}",
                     details={"consultation": consultation.id, "reason": reason,
                              "before": before})
    raise web.HTTPSeeOther(_back(request, consultation.id, question_id, form))
