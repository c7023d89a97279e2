"""The overview of a consultation: who took part, how far they went, where and when."""

from aiohttp import web

from admin import auth, charts, filters, maps
from admin.consultations import CHANNELS, DEPARTEMENTS, TRIAL_CHANNELS, get
from admin.indicators import SMALL_SAMPLE
from admin.pages import config, render
from storage import stats, visits

routes = web.RouteTableDef()
PERIODS = {"jour": False, "semaine": True}


@routes.get("/consultations/{consultation}")
@auth.requires("official")
async def overview(request: web.Request) -> web.StreamResponse:
    """Shows the funnel, the breakdowns by channel, association and département, and the
    sessions opened over time."""
    consultation = await get(request)
    period = request.query.get("periode", "jour")
    if period not in PERIODS:
        raise web.HTTPBadRequest(text="Période inconnue : « jour » ou « semaine ».")
    db = config(request).db
    hidden = filters.hidden_channels(request.query)

    # From the tallies: as quick with a million answers as with a thousand.
    async with db.read() as tx:
        found = await stats.overview(tx, consultation.id, hidden)
        periods = await stats.timeline(tx, consultation.id, weekly=PERIODS[period],
                                       hidden_channels=hidden)
        trials = await stats.trial_sessions(tx, consultation.id, TRIAL_CHANNELS)
    funnel = found.funnel
    steps = [("Sessions ouvertes", funnel.sessions),
             ("Consentement donné (commencées)", funnel.started),
             ("Terminées", funnel.completed)]
    breakdowns = [
        ("canal", "Par canal", "Canal",
         [(CHANNELS.get(g.key, g.key or "Inconnu"), g.tally) for g in found.by_channel]),
        ("association", "Par association", "Association",
         [(g.name or ("Sans association" if g.key is None else f"n° {g.key}"), g.tally)
          for g in found.by_association]),
        ("departement", "Par département", "Département",
         [(DEPARTEMENTS.get(g.key, g.key or "Non renseigné"), g.tally)
          for g in found.by_territory]),
    ]
    async with db.transaction() as tx:
        await visits.record(tx, auth.current_user(request).id, consultation.id,
                            config(request).clock())
    label = "%d/%m/%Y" if period == "jour" else "sem. du %d/%m/%Y"
    timeline = [(p.start.strftime(label), p) for p in periods]
    return render(request, "consultation.html", {
        "consultation": consultation, "tab": "vue", "funnel": funnel, "period": period,
        "trials": trials, "trials_shown": not hidden, "small_sample": SMALL_SAMPLE,
        "region_map": maps.departements(
            "Sessions commencées par département",
            {g.key: g.tally.started for g in found.by_territory if g.key},
            ("commencée", "commencées")),
        "funnel_chart": charts.bars("Parcours des participants", [
            charts.Bar(name, n, n / funnel.sessions if funnel.sessions else None)
            for name, n in steps]),
        "steps": steps,
        "breakdowns": [(key, title, header, rows, charts.bars(title, [
            charts.Bar(name, tally.started,
                       tally.started / funnel.started if funnel.started else None)
            for name, tally in rows])) for key, title, header, rows in breakdowns],
        "timeline": timeline,
        "timeline_chart": charts.columns(
            "Sessions ouvertes par " + period, [charts.Column(text, p.sessions, p.completed)
                                              for text, p in timeline],
            "sessions ouvertes", "dont terminées"),
    })
