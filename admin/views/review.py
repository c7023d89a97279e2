"""The review queue: officials confirm or correct the themes the model is least sure of."""

from aiohttp import web

from admin import auth
from admin.consultations import get
from admin.indicators import AGREEMENT_DEFINITION, KAPPA_DEFINITION, agree
from admin.pages import config, render
from storage import audit, labels, review

routes = web.RouteTableDef()

PAGE_SIZE = 15
MAX_LABELS = 100  # per form: a page never holds more
DOUBLE = "double"


@routes.get("/consultations/{consultation}/revue")
@auth.requires("official")
async def queue(request: web.Request) -> web.StreamResponse:
    """Shows a page of answers to label: the least sure, or (double lecture) those another
    official labelled, without their choice."""
    consultation = await get(request)
    user = auth.current_user(request)
    double = request.query.get("mode") == DOUBLE
    async with config(request).db.read() as tx:
        if double:
            answers = await review.second_readings(tx, consultation.id, user.actor, PAGE_SIZE)
        else:
            answers = await review.queue(
                tx, consultation.id, [q.id for q in consultation.questions if q.classify],
                list(consultation.themes), user.actor, PAGE_SIZE)
        readings = await review.official_labels(tx, consultation.id)
    agreement = agree([(r[0][1], r[1][1]) for r in readings.values() if len(r) > 1])
    saved = request.query.get("enregistres", "")
    return render(request, "revue.html", {
        "consultation": consultation, "tab": "revue", "answers": answers, "double": double,
        "questions": {q.id: q for q in consultation.questions},
        "agreement": agreement, "agreement_definition": AGREEMENT_DEFINITION,
        "kappa_definition": KAPPA_DEFINITION,
        "saved": int(saved) if saved.isdigit() else None})


@routes.post("/consultations/{consultation}/revue")
@auth.requires("official")
async def label(request: web.Request) -> web.StreamResponse:
    """Stores the themes of a page of answers, each with its audit entry, in one transaction."""
    consultation = await get(request)
    user = auth.current_user(request)
    form = await request.post()
    chosen: dict[int, str] = {}
    for key, theme in form.items():
        if not key.startswith("theme-") or not theme:  # an empty choice skips the answer
            continue
        answer_id = key.removeprefix("theme-")
        if not answer_id.isdigit() or theme not in consultation.themes:
            raise web.HTTPBadRequest(text="Thème ou réponse inconnus.")
        chosen[int(answer_id)] = str(theme)
    if len(chosen) > MAX_LABELS:
        raise web.HTTPBadRequest(text="Trop de réponses dans un même envoi.")
    now = config(request).clock()
    async with config(request).db.transaction() as tx:
        before = await review.themes_of(tx, consultation.id, list(chosen))
        if len(before) != len(chosen):  # an answer of another consultation, or none
            raise web.HTTPNotFound(text="Réponse inconnue dans cette consultation.")
        for answer_id, theme in chosen.items():
            await labels.record_person_label(tx, answer_id, theme, labels.OFFICIAL,
                                             actor=user.actor, at=now)
            audit.record(tx, actor=user.actor, at=now, target=f"reponse:{answer_id}",
                         action="theme.confirmed" if before[answer_id] == theme
                         else "theme.changed",
                         details={"consultation": consultation.id,
                                  "before": before[answer_id], "after": theme})
    mode = "&mode=double" if form.get("mode") == DOUBLE else ""
    raise web.HTTPSeeOther(f"/admin/consultations/{consultation.id}/revue"
                           f"?enregistres={len(chosen)}{mode}")
