"""Questions of a consultation: closed ones counted per choice, open ones read by theme with
their answers, filtered from the URL and paginated."""

import math
from dataclasses import replace

from aiohttp import web

from admin import auth, charts, exports, filters
from admin.consultations import (
    CHANNELS,
    DEPARTEMENTS,
    TRIAL_CHANNELS,
    Consultation,
    Question,
    get,
    question_of,
)
from admin.pages import config, render
from storage import answer_queries, curation, invites, labels, stats, visits

routes = web.RouteTableDef()
PAGE_SIZE = 50
TYPES = {"single_choice": "Choix unique", "multiple_choice": "Choix multiples",
         "yes_no": "Oui / non", "scale": "Échelle", "text": "Texte libre",
         "postcode": "Code postal"}
REASONS = {"hors_sujet": "hors sujet", "test": "message de test", "doublon": "doublon"}
UNCLASSIFIED = "Pas encore classées"


@routes.get("/consultations/{consultation}/questions")
@auth.requires("official")
async def question_list(request: web.Request) -> web.StreamResponse:
    """Lists a consultation's questions with their number of answers."""
    consultation = await get(request)
    async with config(request).db.read() as tx:
        counts = await stats.answers_per_question(tx, filters.parse(request.query, consultation))
    return render(request, "questions.html", {
        "consultation": consultation, "tab": "questions", "types": TYPES,
        "counts": counts})


@routes.get("/consultations/{consultation}/questions/{question}")
@auth.requires("official")
async def question_page(request: web.Request) -> web.StreamResponse:
    """Shows one question: counts per choice, or themes and the filtered answers."""
    consultation = await get(request)
    question = question_of(consultation, request.match_info["question"])
    query = request.query
    selection = filters.parse(query, consultation, question.id)
    page = filters.page_number(query)
    async with config(request).db.read() as tx:
        associations = await invites.all_associations(tx)
        if question.closed:
            context = await _closed(tx, question, selection)
        else:
            context = await _open(tx, consultation, question, selection, page,
                                  config(request).clock())
    names = {a.id: a.name for a in associations}
    shared = filters.query_string(query)
    user = auth.current_user(request)
    here = f"{consultation.id}/{question.id}"
    async with config(request).db.transaction() as tx:
        trials = await stats.trial_sessions(tx, consultation.id, TRIAL_CHANNELS)
        previous = (await visits.last_seen(tx, user.id, [here])).get(here)
        fresh = 0 if previous is None else await answer_queries.count(
            tx, replace(selection, since=max(previous, selection.since or previous)))
        now = config(request).clock()
        await visits.record(tx, user.id, here, now)
        await visits.record(tx, user.id, consultation.id, now)
    return render(request, "question.html", {
        "trials": trials, "trials_shown": not selection.hidden_channels,
        "trials_on": "?" + filters.query_string(query, essais="1", page=None),
        "trials_off": "?" + filters.query_string(query, essais=None, page=None),
        "set_aside_shown": selection.with_set_aside,
        "previous_visit": previous, "fresh": fresh,
        "consultation": consultation, "tab": "questions", "question": question,
        "types": TYPES, "associations": associations, "association_names": names,
        "chosen": filters.chosen(query), "departements": DEPARTEMENTS, "channels": CHANNELS,
        "filtered": bool(shared), "shared": shared,
        "link": lambda **changes: "?" + filters.query_string(query, **changes),
        "export": f"/admin/consultations/{consultation.id}/exports/reponses.csv?"
                  + filters.query_string(query, question=question.id),
        **context})


async def _closed(tx, question: Question, selection) -> dict:
    found = await stats.choice_counts(tx, selection)
    labels_of = question.choice_labels
    for value in found.counts:  # values the definition no longer lists still count
        labels_of.setdefault(value, value)
    rows = [(labels_of[value], found.counts.get(value, 0),
             found.counts.get(value, 0) / found.respondents if found.respondents else None)
            for value in labels_of]
    return {"closed": True, "respondents": found.respondents, "skipped": found.skipped,
            "rows": rows, "multiple": question.type == "multiple_choice",
            "chart": charts.bars(question.text, [charts.Bar(*row) for row in rows])}


async def _open(tx, consultation: Consultation, question: Question, selection, page: int,
                now) -> dict:
    counted = await stats.theme_counts(tx, selection, now)
    total = counted.answers
    last_page = max(1, math.ceil(total / PAGE_SIZE))
    answers = []
    if page <= last_page:
        answers = await answer_queries.page(tx, selection, offset=(page - 1) * PAGE_SIZE,
                                            limit=PAGE_SIZE)
    summaries = {s.theme: s for s in await labels.summaries_of(tx, consultation.id)
                 if s.question_id == question.id}
    pinned: dict[str, list[curation.Quote]] = {}
    for quote in await curation.pinned(tx, consultation.id, question.id):
        pinned.setdefault(quote.theme, []).append(quote)
    texts = await labels.quotes(tx, [i for s in summaries.values() for i in s.examples or []])
    typical = {theme: [(i, texts[i]) for i in s.examples or [] if i in texts
                       and i not in {q.answer_id for q in pinned.get(theme, [])}]
               for theme, s in summaries.items()}
    rows = [(t, _theme_label(consultation, t.theme), t.answers / total if total else None)
            for t in counted.themes]
    several = sum(t.answers for t in counted.themes) > total
    return {"closed": False, "classified": question.classify, "total": total,
            "themes": rows, "several_themes": several, "summaries": summaries,
            "pinned": pinned, "typical": typical, "answers": answers, "page": page,
            "pinned_ids": {theme: [q.answer_id for q in quotes]
                           for theme, quotes in pinned.items()},
            "last_page": last_page, "page_size": PAGE_SIZE, "sources": exports.SOURCES,
            "reasons": REASONS,
            "theme_label": lambda theme: _theme_label(consultation, theme),
            "trend_days": stats.TREND_DAYS,
            "chart": charts.bars(f"Thèmes des réponses à « {question.text} »",
                                 [charts.Bar(label, t.answers, share)
                                  for t, label, share in rows])}


def _theme_label(consultation: Consultation, theme: str | None) -> str:
    if theme is None:
        return UNCLASSIFIED
    return consultation.theme_labels.get(theme, theme)
