"""The action plan's storage: actions, their history, proposals, statuses, on a database."""

from datetime import UTC, date, datetime

import pytest

from storage import plan

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def test_an_action_keeps_every_change_in_its_history(relais, db):
    async with db.transaction() as tx:
        row = await plan.create(tx, plan.Fields("Plus de TER le soir", consultation_id="mobilite",
                                                themes=("ponctualite",)), "official:a", NOW)
    async with db.transaction() as tx:
        row = await plan.action(tx, row.id)
        changed = await plan.update(tx, row, plan.Fields(
            "Plus de TER le soir", status="en_cours", progress=30, consultation_id="mobilite",
            themes=("ponctualite", "prix"), starts_on=date(2027, 1, 5)), "official:b", NOW)
    assert changed == ["status", "progress", "starts_on", "themes"]
    async with db.read() as tx:
        found = [(c.field, c.old, c.new, c.actor) for c in await plan.history(tx, row.id)]
        themes = await plan.themes_of(tx, [row.id])
    assert sorted(found) == sorted([
        ("création", None, "Plus de TER le soir", "official:a"),
        ("status", "a_lancer", "en_cours", "official:b"),
        ("progress", None, "30", "official:b"),
        ("starts_on", None, "2027-01-05", "official:b"),
        ("themes", "ponctualite", "ponctualite|prix", "official:b")])
    assert themes[row.id] == ["ponctualite", "prix"]


async def test_an_accepted_proposal_is_to_be_launched(relais, db):
    async with db.transaction() as tx:
        row = await plan.create(tx, plan.Fields("Navette du marché", status=plan.PROPOSED),
                                "association:x", NOW, proposer_association_id=None)
        await plan.decide(tx, row, "accepted", "Bonne idée", None, "official:a", NOW)
    assert (row.status, row.decision, row.decision_reason) == ("a_lancer", "accepted",
                                                               "Bonne idée")


async def test_statuses_ship_five_and_take_more(db):
    async with db.transaction() as tx:
        assert list(await plan.statuses(tx)) == ["proposee", "a_lancer", "en_cours",
                                                 "realisee", "abandonnee"]
        await plan.add_status(tx, "suspendue", "Suspendue", "En pause.", None)
        with pytest.raises(ValueError):
            await plan.add_status(tx, "suspendue", "Encore", "", None)
        with pytest.raises(ValueError):
            await plan.add_status(tx, "Pas Bon", "Mauvaise clé", "", None)
    async with db.read() as tx:
        assert list(await plan.statuses(tx))[-1] == "suspendue"


async def test_progress_rolls_up_and_leaves_take_their_status_default(relais, db):
    async with db.transaction() as tx:
        parent = await plan.create(tx, plan.Fields("Parent"), "o", NOW)
        done = await plan.create(tx, plan.Fields("Fait", status="realisee", weight=3,
                                                 parent_id=parent.id), "o", NOW)
        todo = await plan.create(tx, plan.Fields("À faire", parent_id=parent.id), "o", NOW)
        dropped = await plan.create(tx, plan.Fields("Abandon", status="abandonnee", progress=0,
                                                    parent_id=parent.id), "o", NOW)
        rows = await plan.actions(tx)
        found = plan.progress(rows, await plan.statuses(tx))
    assert found == {parent.id: 75.0, done.id: 100.0, todo.id: 0.0, dropped.id: 0.0}


def test_problems_name_each_bad_field():
    known = {s.key: s for s in plan.SHIPPED}
    bad = plan.Fields("", status="inconnu", progress=120, weight=-1, parent_id=9,
                      consultation_id="mobilite", themes=("nulle_part",),
                      starts_on=date(2027, 2, 1), ends_on=date(2027, 1, 1))
    assert plan.problems(bad, known_statuses=known, themes={"mobilite": {"prix"}},
                         actions={1}) == [
        "titre vide", "statut inconnu « inconnu »", "avancement hors de 0–100 (120)",
        "poids hors de 0–1000 (-1)", "fin avant le début", "parent inconnu (9)",
        "thème inconnu « nulle_part »"]


async def test_a_cycle_slipped_in_by_two_edits_breaks_no_page(relais, db):
    async with db.transaction() as tx:
        first = await plan.create(tx, plan.Fields("A", progress=10), "o", NOW)
        second = await plan.create(tx, plan.Fields("B", progress=30, parent_id=first.id),
                                   "o", NOW)
        first.parent_id = second.id  # as two officials' edits, each valid alone, would leave
        rows = await plan.actions(tx)
        found = plan.progress(rows, await plan.statuses(tx))
    assert found == {first.id: 10.0, second.id: 30.0}
    assert [(row.id, depth) for row, depth in plan.tree_order(rows)] == [(first.id, 0),
                                                                        (second.id, 0)]
