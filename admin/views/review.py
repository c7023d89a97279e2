"""The review queue: officials confirm, correct or set aside the themes the model is least
sure of, and those participants disputed."""

import re

from aiohttp import web

from admin import auth
from admin.consultations import get
from admin.indicators import AGREEMENT_DEFINITION, KAPPA_DEFINITION, agree
from admin.pages import config, render
from storage import audit, curation, labels, review

routes = web.RouteTableDef()

PAGE_SIZE = 15
MAX_ANSWERS = 100  # per form: a page never holds more
DOUBLE = "double"
# Form fields name the answer they are about: theme-12, valider-12, ecarter-12. Only ASCII
# digits, and no more than an integer column holds: "²" or "٣" pass str.isdigit() but are
# no answer id.
FIELD = re.compile(r"(theme|valider|ecarter)-([0-9]{1,9})")
REASONS = {"hors_sujet": "Hors sujet", "test": "Message de test", "doublon": "Doublon"}


@routes.get("/consultations/{consultation}/revue")
@auth.requires("official")
async def queue(request: web.Request) -> web.StreamResponse:
    """Shows a page of answers to label: disputed and least sure first, or (double lecture)
    those another official labelled, without their choice."""
    consultation = await get(request)
    user = auth.current_user(request)
    double = request.query.get("mode") == DOUBLE
    async with config(request).db.read() as tx:
        if double:
            answers = await review.second_readings(tx, consultation.id, user.actor, PAGE_SIZE)
        else:
            answers = await review.queue(
                tx, consultation.id, [q.id for q in consultation.questions if q.classify],
                list(consultation.theme_labels), user.actor, PAGE_SIZE)
        ids = [a.answer_id for a in answers]
        proposed = await labels.themes_of_answers(tx, ids)
        rejected = await curation.rejected_themes(tx, ids)
        readings = await review.official_labels(tx, consultation.id)
    agreement = agree([(r[0][1], r[1][1]) for r in readings.values() if len(r) > 1])
    saved = request.query.get("enregistres", "")
    return render(request, "revue.html", {
        "consultation": consultation, "tab": "revue", "answers": answers, "double": double,
        "questions": {q.id: q for q in consultation.questions},
        "proposed": proposed, "rejected": rejected, "reasons": REASONS,
        "agreement": agreement, "agreement_definition": AGREEMENT_DEFINITION,
        "kappa_definition": KAPPA_DEFINITION,
        "saved": int(saved) if saved.isdigit() and saved.isascii() else None})


def read_choices(form, themes: dict[str, str]) -> tuple[dict[int, list[str]], dict[int, str]]:
    """Reads what an official decided per answer: the themes chosen (ticked ones, else the
    proposal they validated) and the answers set aside; raises 400 on anything malformed."""
    ticked: dict[int, list[str]] = {}
    validated: dict[int, list[str]] = {}
    set_aside: dict[int, str] = {}
    for key, value in form.items():
        match = FIELD.fullmatch(key)
        if match is None:
            if key.startswith(("theme", "valider", "ecarter")):
                raise web.HTTPBadRequest(text="Identifiant de réponse invalide.")
            continue
        kind, answer_id = match[1], int(match[2])
        value = str(value)
        if kind == "ecarter":
            if value and value not in REASONS:
                raise web.HTTPBadRequest(text="Motif inconnu.")
            if value:
                set_aside[answer_id] = value
            continue
        chosen = [t for t in value.split("|") if t] if kind == "valider" else [value]
        if not chosen or any(theme not in themes for theme in chosen):
            raise web.HTTPBadRequest(text="Thème inconnu.")
        target = validated if kind == "valider" else ticked
        target.setdefault(answer_id, [])
        target[answer_id] += [t for t in chosen if t not in target[answer_id]]
    # A ticked theme says more than a validated proposal: it wins when both are there.
    decided = {**validated, **ticked}
    for answer_id in set_aside:
        decided.pop(answer_id, None)
    return decided, set_aside


@routes.post("/consultations/{consultation}/revue")
@auth.requires("official")
async def label(request: web.Request) -> web.StreamResponse:
    """Stores the themes an official chose or validated, and the answers set aside, each with
    its audit entry, in one transaction; untouched answers are left as they were."""
    consultation = await get(request)
    user = auth.current_user(request)
    form = await request.post()
    decided, set_aside = read_choices(form, consultation.theme_labels)
    if len(decided) + len(set_aside) > MAX_ANSWERS:
        raise web.HTTPBadRequest(text="Trop de réponses dans un même envoi.")
    now = config(request).clock()
    classified = [q.id for q in consultation.questions if q.classify]
    async with config(request).db.transaction() as tx:
        wanted = [*decided, *set_aside]
        before = await review.reviewable(tx, consultation.id, classified, wanted)
        if len(before) != len(set(wanted)):  # another consultation's, a closed question's
            raise web.HTTPNotFound(text="Réponse inconnue parmi les réponses à classer de "
                                        "cette consultation.")
        for answer_id, themes in decided.items():
            await labels.record_person_label(tx, answer_id, themes, labels.OFFICIAL,
                                             actor=user.actor, at=now)
            audit.record(tx, actor=user.actor, at=now, target=f"reponse:{answer_id}",
                         action="theme.confirmed" if before[answer_id] == themes
                         else "theme.changed",
                         details={"consultation": consultation.id,
                                  "before": before[answer_id], "after": themes})
        for answer_id, reason in set_aside.items():
            await curation.set_aside(tx, answer_id, reason, user.actor, now)
            audit.record(tx, actor=user.actor, at=now, target=f"reponse:{answer_id}",
                         action="answer.set_aside",
                         details={"consultation": consultation.id, "reason": reason})
    mode = "&mode=double" if form.get("mode") == DOUBLE else ""
    raise web.HTTPSeeOther(f"/admin/consultations/{consultation.id}/revue"
                           f"?enregistres={len(decided) + len(set_aside)}{mode}")
