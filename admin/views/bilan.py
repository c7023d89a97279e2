"""The bilan of a consultation: a printable page and its Markdown export."""

import re
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web

from admin import auth, indicators, plan_bilan
from admin.consultations import CHANNELS, PARIS, TRIAL_CHANNELS, Consultation, Question, get
from admin.pages import config, record, render
from storage import curation, labels, stats
from storage import indicators as queries
from storage.answer_queries import AnswerFilter

routes = web.RouteTableDef()

QUOTES = 3
INLINE = re.compile(r"([\\`*_\[\]<>&|~!#])")
LEADING = re.compile(r"^(\d+)([.)])|^([+\-=])")


def md(text: object) -> str:
    """Escapes text for Markdown on one line: it can start no block and make no link, emphasis
    or HTML."""
    line = " ".join(str(text).split())  # a newline could start a heading or a list
    line = INLINE.sub(r"\\\1", line)
    return LEADING.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", line)


@dataclass(frozen=True)
class OpenQuestion:
    """A free-text question: its themes with counts and a few redacted quotes."""

    question: Question
    total: int  # answers, each counted once
    themes: list[tuple[str, int, list[str]]]  # (label, answers, quotes: pinned first)
    several: bool  # some answers count in several themes: shares add up past 100 %


@dataclass(frozen=True)
class ClosedQuestion:
    """A closed question: answers per choice."""

    question: Question
    respondents: int
    rows: list[tuple[str, int]]  # (label, answers)


@dataclass(frozen=True)
class Method:
    """How the consultation really ran, as the data says: channels, relays, review, quotes."""

    channels: list[tuple[str, int]]  # (name, participants), the most used first
    associations: list[str]  # that relayed at least one participant
    keyword: str | None  # the SMS keyword, said only when SMS was used
    reviewed: int  # answers whose themes an official chose or validated
    confirmed: int  # answers whose participant confirmed or chose the theme
    pinned: int  # quotes chosen by officials


async def gather(request: web.Request, consultation: Consultation) -> dict:
    """Reads everything the bilan shows."""
    db = config(request).db
    report = await indicators.compute(db, consultation)
    open_questions = []
    async with db.read() as tx:
        found = await stats.overview(tx, consultation.id, TRIAL_CHANNELS)
        sources = await queries.theme_sources(tx, AnswerFilter(
            consultation.id, hidden_channels=TRIAL_CHANNELS))
        summaries = await labels.summaries_of(tx, consultation.id)
        pinned = await curation.pinned(tx, consultation.id)
        texts = await labels.quotes(tx, [i for s in summaries for i in s.examples or []])
        for question in consultation.questions:
            if not question.classify:
                continue
            counted = await stats.theme_counts(tx, AnswerFilter(
                consultation.id, question.id, hidden_channels=TRIAL_CHANNELS),
                config(request).clock())
            themed = [t for t in counted.themes if t.theme is not None]
            quotes = {}
            for t in themed:
                chosen = [q.text for q in pinned
                          if q.question_id == question.id and q.theme == t.theme]
                typical = [texts[i] for s in summaries
                           if s.question_id == question.id and s.theme == t.theme
                           for i in s.examples or [] if i in texts]
                quotes[t.theme] = list(dict.fromkeys(chosen + typical))[:max(QUOTES,
                                                                             len(chosen))]
            open_questions.append(OpenQuestion(
                question, counted.answers,
                [(consultation.theme_labels.get(t.theme, t.theme), t.answers, quotes[t.theme])
                 for t in themed],
                sum(t.answers for t in themed) > counted.answers))
        closed = {q.id: await stats.choice_counts(tx, AnswerFilter(
            consultation.id, q.id, hidden_channels=TRIAL_CHANNELS))
            for q in consultation.questions if q.closed}
        feedback = await queries.sent_feedback(tx, consultation.id)
    channels = [(CHANNELS.get(g.key, g.key or "inconnu"), g.tally.sessions)
                for g in found.by_channel if g.tally.sessions]
    method = Method(
        channels=channels,
        associations=[g.name for g in found.by_association if g.key is not None and g.name],
        keyword=consultation.keyword if any(g.key == "sms" for g in found.by_channel)
        else None,
        reviewed=sources.get(labels.OFFICIAL, 0), confirmed=sources.get(labels.PARTICIPANT, 0),
        pinned=len(pinned))
    return {"consultation": consultation, "report": report, "open_questions": open_questions,
            "closed_questions": [_closed(q, closed[q.id]) for q in consultation.questions
                                 if q.closed],
            "method": method, "feedback": feedback, "now": config(request).clock(),
            **await plan_bilan.gather(request, consultation)}


def _closed(question: Question, found: stats.ChoiceCounts) -> ClosedQuestion:
    # Every choice in the file's order, then values the file no longer lists.
    per_choice = dict.fromkeys(question.choice_labels, 0) | found.counts
    return ClosedQuestion(question, found.respondents,
                          [(question.choice_labels.get(k, k), n) for k, n in per_choice.items()])


@routes.get("/consultations/{consultation}/bilan")
@auth.requires("official")
async def page(request: web.Request) -> web.StreamResponse:
    """Shows the bilan, laid out for printing."""
    consultation = await get(request)
    return render(request, "bilan.html", {"tab": "bilan", **await gather(request, consultation)})


@routes.get("/consultations/{consultation}/bilan.md")
@auth.requires("official")
async def markdown(request: web.Request) -> web.StreamResponse:
    """Returns the bilan as a Markdown file, citizen text escaped."""
    consultation = await get(request)
    context = await gather(request, consultation)
    text = aiohttp_jinja2.render_string("bilan.md", request, {
        **context, "md": md, "shown": indicators.shown})
    await record(request, "export", target=consultation.id,
                 details={"what": "bilan", "format": "md"})
    day = context["now"].astimezone(PARIS).date().isoformat()
    return web.Response(text=text, content_type="text/markdown", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="bilan-{consultation.id}-{day}.md"'})
