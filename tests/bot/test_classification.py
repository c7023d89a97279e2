"""Answers flowing in get themes with scores and model versions; people's labels train the next."""

from datetime import UTC, datetime

from sqlalchemy import select

from bot.themes import train_consultation
from storage import labels, review
from storage.tables import Answer, AnswerLabel, ThemeModel
from tests.bot.conversation import say

MOBILITE_TO_PROBLEM = ["Bonjour", "oui", "80000", "passer", "2", "Le prix"]


async def answers_of(relais, question):
    async with relais.db.read() as tx:
        return list(await tx.scalars(select(Answer).where(Answer.question_id == question)))


async def test_answers_get_the_active_models_theme_score_and_version(relais, tmp_path):
    lines = []
    classifier = await train_consultation(relais.db, relais.flows["mobilite"], tmp_path,
                                          lines.append)
    assert any("actif" in line for line in lines)
    await say(relais, *MOBILITE_TO_PROBLEM, "Le billet de TER est hors de prix pour un smicard",
              consultation="mobilite")
    assert await relais.classification.run_once() == 2  # redacted, then classified
    answer = (await answers_of(relais, "probleme"))[0]
    assert answer.redacted_text == "Le billet de TER est hors de prix pour un smicard"
    async with relais.db.read() as tx:
        label = await tx.scalar(select(AnswerLabel).where(AnswerLabel.answer_id == answer.id))
        summaries = await labels.summaries_of(tx, "mobilite")
    assert [(s.question_id, s.theme, s.answers) for s in summaries] == [("probleme", "prix", 1)]
    assert summaries[0].examples == [answer.id] and "billet" in dict(summaries[0].terms)
    assert (label.theme, label.source, label.model_version) == ("prix", "model",
                                                                 classifier.version)
    assert 0.0 < label.score <= 1.0
    assert await relais.classification.run_once() == 0  # nothing twice


async def test_a_new_model_reclassifies_and_officials_labels_train_it(relais, tmp_path):
    await train_consultation(relais.db, relais.flows["mobilite"], tmp_path, lambda _: None)
    await say(relais, *MOBILITE_TO_PROBLEM, "Trop de bouchons sur la rocade le matin",
              consultation="mobilite")
    await relais.classification.run_once()
    answer = (await answers_of(relais, "probleme"))[0]
    async with relais.db.transaction() as tx:
        await labels.record_person_label(tx, answer.id, "covoiturage_voiture", labels.OFFICIAL,
                                         "agent@hautsdefrance.fr", datetime.now(UTC))
    async with relais.db.read() as tx:
        taught = await labels.training_rows(tx, "mobilite")
    assert taught == [("Trop de bouchons sur la rocade le matin", "covoiturage_voiture")]
    lines = []
    second = await train_consultation(relais.db, relais.flows["mobilite"], tmp_path,
                                      lines.append)
    assert "1 réponses étiquetées" in lines[0]
    assert await relais.classification.run_once() == 1  # the new version labels it again
    async with relais.db.read() as tx:
        active = await tx.scalars(select(ThemeModel).where(ThemeModel.active.is_(True)))
        assert [m.version for m in active] == [second.version]


async def test_the_review_queue_puts_the_least_sure_first_and_skips_reviewed(relais, tmp_path):
    await train_consultation(relais.db, relais.flows["mobilite"], tmp_path, lambda _: None)
    themes = [theme.id for theme in relais.flows["mobilite"].themes]
    for number, text in enumerate(["Le TER est trop cher", "euh je sais pas trop",
                                   "Pas de bus dans mon village"]):
        await say(relais, *MOBILITE_TO_PROBLEM, text, address=f"p{number}",
                  consultation="mobilite")
    await relais.classification.run_once()
    async with relais.db.read() as tx:
        queue = await review.queue(tx, "mobilite", ["probleme"], themes, "agent")
    scores = [item.score for item in queue]
    assert len(queue) == 3 and scores == sorted(scores)
    async with relais.db.transaction() as tx:
        await labels.record_person_label(tx, queue[0].answer_id, "autre", labels.OFFICIAL,
                                         "agent", datetime.now(UTC))
    async with relais.db.read() as tx:
        after = await review.queue(tx, "mobilite", ["probleme"], themes, "agent")
    assert [item.answer_id for item in after] == [item.answer_id for item in queue[1:]]


async def test_without_a_usable_model_answers_are_kept_unclassified(relais, tmp_path, caplog):
    await train_consultation(relais.db, relais.flows["mobilite"], tmp_path, lambda _: None)
    for folder in (tmp_path / "mobilite").iterdir():
        (folder / "relais-model.json").unlink()
    await say(relais, *MOBILITE_TO_PROBLEM, "Trop cher, Mme Durand le dit", consultation="mobilite")
    assert await relais.classification.run_once() == 1  # redacted, not classified
    assert await relais.classification.run_once() == 0
    async with relais.db.read() as tx:
        assert list(await tx.scalars(select(AnswerLabel))) == []
    answer = (await answers_of(relais, "probleme"))[0]
    assert answer.redacted_text == "Trop cher, Mme [personne] le dit"
    assert len(await answers_of(relais, "probleme")) == 1
    assert sum("inutilisable" in r.message for r in caplog.records) == 1  # said once


async def test_a_participant_confirms_the_theme_understood_and_it_is_stored(relais, tmp_path):
    from tests.bot.conversation import RecordingChannel

    await train_consultation(relais.db, relais.flows["mobilite"], tmp_path, lambda _: None)
    channel = RecordingChannel("web")
    relais.delivery.channels["web"] = channel
    await say(relais, *MOBILITE_TO_PROBLEM, "Le TER coûte beaucoup trop cher",
              consultation="mobilite")
    assert channel.texts("alice")[-1].startswith("J'ai compris : ")
    await say(relais, "oui")
    async with relais.db.read() as tx:
        taught = await labels.training_rows(tx, "mobilite")
    assert taught == [("Le TER coûte beaucoup trop cher", "prix")]
    assert "que changeriez-vous" in channel.texts("alice")[-1]


async def test_a_participants_no_is_kept_acknowledged_and_sent_to_review(relais, tmp_path):
    from tests.bot.conversation import RecordingChannel

    await train_consultation(relais.db, relais.flows["mobilite"], tmp_path, lambda _: None)
    channel = RecordingChannel("web")
    relais.delivery.channels["web"] = channel
    await say(relais, *MOBILITE_TO_PROBLEM, "Le TER coûte beaucoup trop cher",
              consultation="mobilite")
    await relais.classification.run_once()
    guessed = channel.texts("alice")[-1]
    assert guessed.startswith("J'ai compris : Prix et tarifs.")
    await say(relais, "non")
    offer = channel.texts("alice")[-1]
    assert offer.startswith("D'accord, merci de me corriger. De quoi parliez-vous surtout ?")
    assert "4. Autre chose" in offer and "Prix et tarifs" not in offer
    answer = (await answers_of(relais, "probleme"))[0]
    assert (answer.theme, answer.disputed) != ("prix", False)
    assert answer.disputed and answer.theme != "prix"
    themes = [theme.id for theme in relais.flows["mobilite"].themes]
    async with relais.db.read() as tx:
        queue = await review.queue(tx, "mobilite", ["probleme"], themes, "agent")
        rejected = list(await tx.scalars(select(AnswerLabel).where(
            AnswerLabel.answer_id == answer.id, AnswerLabel.negative.is_(True))))
    assert queue[0].answer_id == answer.id and queue[0].disputed
    assert [(r.theme, r.source) for r in rejected] == [("prix", "participant")]
    await say(relais, "1")  # the closest other theme
    assert "que changeriez-vous" in channel.texts("alice")[-1]
    answer = (await answers_of(relais, "probleme"))[0]
    assert answer.theme_source == "participant" and answer.disputed
    async with relais.db.read() as tx:
        taught = await labels.training_rows(tx, "mobilite")
    assert taught == [("Le TER coûte beaucoup trop cher", answer.theme)]
