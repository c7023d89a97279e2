"""Follow-up indicators: those Relais computes, measured at most once a day; the others
entered by officials or associations, validated by officials, shown against their target."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from bot import measuring
from bot.app import create_web_app
from storage import audit, plan, plan_indicators
from storage.plan_tables import Measurement
from tests.admin.conftest import NOW, add_user, form_token, sign_in
from tests.admin.seed import add_session
from tests.admin.test_plan_csv import SAFE_ENV
from tests.checkout import CHECKOUT

HOSTILE = "<script>alert(1)</script>"


async def _values(db) -> dict[str, float | None]:
    async with db.read() as tx:
        rows = await plan_indicators.indicators(tx, "mobilite")
        found = await plan_indicators.measurements(tx, [row.id for row in rows])
    return {row.computed: found[row.id][-1].value for row in rows if found.get(row.id)}


async def test_relais_measures_its_indicators_at_most_once_a_day(relais, db):
    for status in ("completed", "completed", "completed", "active"):
        await add_session(db, status=status)
    await add_session(db, status="completed", channel="web")  # a trial: not counted
    async with db.transaction() as tx:
        await plan.create(tx, plan.Fields("Tarif", status="en_cours", consultation_id="mobilite",
                                          themes=("prix",)), "o", NOW)
        await plan.create(tx, plan.Fields("Pistes", consultation_id="mobilite",
                                          themes=("velo", "prix")), "o", NOW)
        refused = await plan.create(tx, plan.Fields("Refusée", status=plan.PROPOSED,
                                                    consultation_id="mobilite",
                                                    themes=("autre",)), "o", NOW)
        await plan.decide(tx, refused, "declined", "Non", None, "o", NOW)
    clock = lambda: NOW  # noqa: E731
    first = await measuring.measure_once(db, clock)
    assert first == 5 * 3  # five computed indicators for each of the three consultations
    values = await _values(db)
    assert values["participants"] == 4
    assert values["completion"] == 75
    assert round(values["themes_with_action"], 1) == round(100 * 2 / 9, 1)  # prix, velo of 9
    assert values["actions_started"] == 50  # the declined proposal does not count
    assert values["feedback_delivered"] == 0
    assert await measuring.measure_once(db, clock) == 0  # the same Paris day: nothing more
    tomorrow = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert await measuring.measure_once(db, lambda: tomorrow) == 15
    async with db.read() as tx:
        assert await tx.scalar(select(func.count()).select_from(Measurement)) == 30


async def test_the_command_line_measures_once_a_day(relais, db, database_url, tmp_path):
    def run():
        return subprocess.run([sys.executable, "-m", "bot", "plan", "measure"], text=True,
                              capture_output=True, cwd=tmp_path, timeout=120, check=False,
                              env={**os.environ, **SAFE_ENV, **CHECKOUT,
                                   "RELAIS_DATABASE_URL": database_url})

    done = run()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "15 mesure(s) enregistrée(s)"
    assert run().stdout.strip() == "0 mesure(s) enregistrée(s)"


async def test_an_association_measures_and_an_official_validates(web, db, association,
                                                                 aiohttp_client, relais):
    await add_user(db, "elu@region.example.fr", "official")
    await add_user(db, "asso@exemple.fr", "association", association.id)
    await sign_in(web, "elu@region.example.fr")
    token = await form_token(web, "/admin/plan/indicateurs")
    response = await web.post("/admin/plan/indicateurs", data={
        "csrf": token, "nom": HOSTILE, "question": "Les trajets sont-ils plus simples ?",
        "niveau": "effet", "type": "quantitatif", "methode": "enquete", "cible": "80",
        "reference": "40", "unite": "%", "consultation": "mobilite"}, allow_redirects=False)
    assert response.status == 303
    refused = await web.post("/admin/plan/indicateurs", data={
        "csrf": token, "nom": "Calculé", "niveau": "effet", "type": "quantitatif",
        "methode": "calcule"})
    assert refused.status == 400  # only Relais makes computed indicators
    async with db.read() as tx:
        indicator = (await plan_indicators.indicators(tx))[0]
    web.session.cookie_jar.clear()
    await sign_in(web, "asso@exemple.fr")
    token = await form_token(web, "/admin/plan/indicateurs")
    path = f"/admin/plan/indicateurs/{indicator.id}/mesures"
    assert (await web.post(path, data={"csrf": token, "date": "2027-01-10"})).status == 400
    response = await web.post(path, data={"csrf": token, "date": "2027-01-10", "valeur": "55",
                                          "commentaire": "Enquête auprès de 120 adhérents"},
                              allow_redirects=False)
    assert response.status == 303
    public = await aiohttp_client(create_web_app(relais, work=False))
    assert "55" not in await (await public.get("/suivi/mobilite")).text()  # not validated yet
    page = await (await web.get("/admin/plan/indicateurs")).text()
    assert "en attente" in page and "Valider" not in page  # associations do not validate
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    web.session.cookie_jar.clear()
    await sign_in(web, "elu@region.example.fr")
    token = await form_token(web, "/admin/plan/indicateurs")
    async with db.read() as tx:
        measured = (await plan_indicators.measurements(tx, [indicator.id]))[indicator.id][0]
    response = await web.post(
        f"/admin/plan/indicateurs/{indicator.id}/mesures/{measured.id}/validation",
        data={"csrf": token}, allow_redirects=False)
    assert response.status == 303
    again = await web.post(
        f"/admin/plan/indicateurs/{indicator.id}/mesures/{measured.id}/validation",
        data={"csrf": token})
    assert again.status == 404
    page = await (await web.get("/admin/plan/indicateurs")).text()
    assert "<svg" in page and "cible 80" in page and "asso@exemple.fr" not in page
    shown = await (await public.get("/suivi/mobilite")).text()
    assert "55 %" in shown and "80 %" in shown and "10/01/2027" in shown
    assert "&lt;script&gt;" in shown and "<script>alert" not in shown
    async with db.read() as tx:
        assert {e.action for e in await audit.entries(tx, "plan.")} == {
            "plan.indicator_defined", "plan.measurement_recorded",
            "plan.measurement_validated"}


async def test_a_computed_indicator_takes_no_measurement_by_hand(as_role, db, relais):
    await measuring.measure_once(db, lambda: NOW)
    web = await as_role("official")
    async with db.read() as tx:
        computed = (await plan_indicators.indicators(tx, "mobilite"))[0]
    token = await form_token(web, "/admin/plan/indicateurs")
    response = await web.post(f"/admin/plan/indicateurs/{computed.id}/mesures", data={
        "csrf": token, "date": date(2027, 1, 1).isoformat(), "valeur": "999"})
    assert response.status == 400
    assert "mesuré par Relais" in await response.text()


async def test_the_worker_measures_by_itself(aiohttp_client, relais, monkeypatch):
    monkeypatch.setattr(measuring, "START_SECONDS", 0.0)
    await aiohttp_client(create_web_app(relais))  # the worker's loops started

    async def count() -> int:
        async with relais.db.read() as tx:
            return await tx.scalar(select(func.count()).select_from(Measurement))

    for _ in range(200):  # one transaction per consultation: wait for the three
        if await count() >= 15:
            break
        await asyncio.sleep(0.05)
    assert await count() == 15
