"""What the bilan shows of the action plan: its actions, its indicators with their history,
and the messages that told participants about actions."""

from aiohttp import web

from admin.consultations import Consultation
from admin.pages import config
from admin.views.plan import context
from admin.views.plan_indicators import by_whom, cards
from bot.engine.text import french_number
from storage import plan_notices


async def gather(request: web.Request, consultation: Consultation) -> dict:
    """Reads the plan's part of a consultation's bilan."""
    found = await context(request, consultation.id)
    titles = {line.action.id: line.action.title for line in found["lines"]}
    async with config(request).db.read() as tx:
        indicators = await cards(tx, consultation.id)
        notices = await plan_notices.sent(tx, consultation.id)
    return {"plan_lines": found["lines"], "plan_indicators": indicators,
            "plan_notices": [(titles.get(action_id, f"action n° {action_id}"), sent)
                             for action_id, sent in notices],
            "by_whom": by_whom, "number": french_number}
