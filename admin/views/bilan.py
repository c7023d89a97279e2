"""The bilan of a consultation: a printable page and its Markdown export."""

import re
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web

from admin import auth, indicators
from admin.consultations import PARIS, Consultation, Question, get
from admin.pages import config, record, render
from storage import indicators as queries
from storage import labels, stats
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
    total: int
    themes: list[tuple[str, int, list[str]]]  # (label, answers, quotes)


@dataclass(frozen=True)
class ClosedQuestion:
    """A closed question: answers per choice."""

    question: Question
    respondents: int
    rows: list[tuple[str, int]]  # (label, answers)


async def gather(request: web.Request, consultation: Consultation) -> dict:
    """Reads everything the bilan shows."""
    db = config(request).db
    report = await indicators.compute(db, consultation)
    async with db.read() as tx:
        counts = await queries.theme_counts(tx, AnswerFilter(consultation.id))
        summaries = await labels.summaries_of(tx, consultation.id)
        closed = {q.id: await stats.choice_counts(tx, AnswerFilter(consultation.id, q.id))
                  for q in consultation.questions if q.closed}
        feedback = await queries.sent_feedback(tx, consultation.id)
    quotes = {(s.question_id, s.theme): list(s.examples or [])[:QUOTES] for s in summaries}
    open_questions = []
    for question in consultation.questions:
        if not question.classify:
            continue
        themes = [(consultation.themes.get(theme, theme), n, quotes.get((question.id, theme), []))
                  for question_id, theme, n in counts if question_id == question.id]
        open_questions.append(OpenQuestion(question, sum(n for _, n, _ in themes), themes))
    return {"consultation": consultation, "report": report, "open_questions": open_questions,
            "closed_questions": [_closed(q, closed[q.id]) for q in consultation.questions
                                 if q.closed],
            "feedback": feedback, "now": config(request).clock()}


def _closed(question: Question, found: stats.ChoiceCounts) -> ClosedQuestion:
    # Every choice in the file's order, then values the file no longer lists.
    per_choice = dict.fromkeys(question.choices, 0) | found.counts
    return ClosedQuestion(question, found.respondents,
                          [(question.choices.get(k, k), n) for k, n in per_choice.items()])


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
