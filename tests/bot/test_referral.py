"""Invites and the "which association?" answer pick exactly the right association among
several with similar codes and names, and near misses pick none."""

import pytest
from sqlalchemy import select

from bot import referral
from bot.app import build
from storage import invites
from storage.tables import OutboxMessage, Participant
from tests.bot.conversation import T0, RecordingChannel, incoming

NAMES = ["Les Amis du Rail", "Les Amis du Vélo", "Secours Populaire Nord",
         "Secours Populaire Somme", "Unis-Cité Lille"]


@pytest.mark.parametrize(("answer", "chosen"), [
    ("1", "Les Amis du Rail"), ("2", "Les Amis du Vélo"), ("3", "Secours Populaire Nord"),
    ("4", "Secours Populaire Somme"), ("5", "Unis-Cité Lille"), (" 5 ", "Unis-Cité Lille"),
    ("0", None), ("6", None), ("-1", None), ("99", None),
])
def test_a_number_picks_the_association_listed_under_it(answer, chosen):
    assert referral.match(answer, NAMES) == chosen


def test_every_number_of_the_question_picks_the_name_shown_next_to_it():
    text, choices = referral.question(NAMES)
    for value, label in choices:
        assert f"{value}. {label}" in text
        expected = None if value == "0" else label
        assert referral.match(value, NAMES) == expected, value
    assert [label for _, label in choices] == [*NAMES, referral.NONE_LABEL]


def test_past_twelve_names_only_the_listed_ones_have_a_number():
    names = [f"Association {letter}" for letter in "ABCDEFGHIJKLMN"]  # 14
    text, choices = referral.question(names)
    assert len(choices) == 13 and "Vous pouvez aussi écrire son nom." in text
    assert referral.match("1", names) == "Association A"
    assert referral.match("12", names) == "Association L"
    assert referral.match("13", names) is None  # not shown, so not meant
    assert referral.match("association n", names) == "Association N"  # by name it is found


@pytest.mark.parametrize(("answer", "chosen"), [
    ("Les Amis du Vélo", "Les Amis du Vélo"),
    ("les amis du velo", "Les Amis du Vélo"),
    ("LES AMIS DU VÉLO !", "Les Amis du Vélo"),
    ("Secours Populaire Somme", "Secours Populaire Somme"),
    ("somme", "Secours Populaire Somme"),  # a part that only one name has
    ("unis cite", "Unis-Cité Lille"),
    ("Secours Populaire", None),  # two names have it: nobody is guessed
    ("Les Amis", None),
    ("Amis du Train", None),
    ("Secours Catholique", None),
    ("", None), ("   ", None), ("?", None),
])
def test_a_name_picks_one_association_or_none(answer, chosen):
    assert referral.match(answer, NAMES) == chosen


# Invite codes, through the processor


@pytest.fixture
async def coded(settings, db):
    """Relais with three associations whose invite codes differ by one character."""
    relais = build(settings, channels=[RecordingChannel("web")])
    await relais.prepare()
    ids = {}
    async with relais.db.transaction() as tx:
        for name, code, consultation in [("Les Amis du Rail", "K7M2QX", "jeunesse"),
                                         ("Les Amis du Vélo", "K7M2QZ", "mobilite"),
                                         ("Unis-Cité Lille", "K7M2RX", "diagnostic")]:
            association = await invites.add_association(tx, name, "80", T0)
            await invites.create_invite(tx, association.id, consultation, code, T0)
            ids[code] = association.id
    yield relais, ids
    await relais.stop()


async def brought_by(relais, text: str, channel: str, **payload) -> Participant:
    await relais.inbox.receive(incoming(text, address="newcomer", channel=channel, **payload))
    assert await relais.processor.run_once() == 1
    async with relais.db.read() as tx:
        (participant,) = list(await tx.scalars(select(Participant)))
    return participant


@pytest.mark.parametrize("code", ["K7M2QX", "K7M2QZ", "K7M2RX", "k7m2qz", " K7m2Rx "])
async def test_an_sms_code_attributes_exactly_its_association(coded, code):
    relais, ids = coded
    participant = await brought_by(relais, f"{code} bonjour", "sms")
    assert participant.invite_code == code.strip().upper()
    assert participant.association_id == ids[code.strip().upper()]


@pytest.mark.parametrize("code", ["K7M2QX", "K7M2QZ", "K7M2RX"])
async def test_a_deep_link_code_attributes_exactly_its_association(coded, code):
    relais, ids = coded
    participant = await brought_by(relais, f"/start {code}", "telegram", invite=code)
    assert (participant.invite_code, participant.association_id) == (code, ids[code])


@pytest.mark.parametrize("near_miss", [
    "K7M2QY",  # one character off
    "K7M2Q",  # one short
    "K7M2QXX",  # one too many
    "7M2QX",  # the first one missing
    "K7M2QX0",
    "XK7M2QX",
    "K7M2Q X",  # split: the first word alone is K7M2Q
    "K7M-2QX",
])
async def test_a_code_that_is_nearly_right_attributes_nobody(coded, near_miss):
    relais, _ids = coded
    participant = await brought_by(relais, near_miss, "sms")
    assert (participant.invite_code, participant.association_id) == (None, None)


async def test_the_association_named_after_a_bare_start_is_the_one_recorded(coded):
    relais, ids = coded
    await relais.inbox.receive(incoming("/start", address="newcomer", channel="telegram",
                                        start=True))
    await relais.processor.run_once()
    # Listed by name: 1. Les Amis du Rail, 2. Les Amis du Vélo, 3. Unis-Cité Lille.
    participant = await brought_by(relais, "2", "telegram")
    assert participant.association_id == ids["K7M2QZ"]
    assert participant.invite_code is None


async def test_the_association_question_is_one_reply_with_its_numbered_choices(coded):
    relais, _ids = coded
    await relais.inbox.receive(incoming("/start", address="newcomer", channel="telegram",
                                        start=True))
    await relais.processor.run_once()
    async with relais.db.read() as tx:
        (reply,) = list(await tx.scalars(select(OutboxMessage)))
    assert (reply.position, reply.question_id) == (0, referral.STEP)
    assert reply.text.startswith("Bonjour ! Quelle association vous a parlé de Relais ?")
    assert [tuple(choice) for choice in reply.choices] == [
        ("1", "Les Amis du Rail"), ("2", "Les Amis du Vélo"), ("3", "Unis-Cité Lille"),
        ("0", referral.NONE_LABEL)]


async def test_without_any_association_a_bare_start_goes_straight_in(settings, db):
    relais = build(settings, channels=[RecordingChannel("web")])
    await relais.prepare()
    try:
        await relais.inbox.receive(incoming("/start", address="newcomer", channel="telegram",
                                            start=True))
        await relais.processor.run_once()
        async with relais.db.read() as tx:
            replies = list(await tx.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        assert replies[0].text.startswith("Bonjour ! La Région Hauts-de-France veut votre avis")
        assert referral.STEP not in {r.question_id for r in replies}
    finally:
        await relais.stop()


async def replies_to(relais) -> list[str]:
    async with relais.db.read() as tx:
        return [r.text for r in await tx.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id))]


@pytest.mark.parametrize(("channel", "text", "payload", "named"), [
    ("web", "K7M2QZ", {}, True),  # typed in the web chat, as printed on a flyer
    ("web", "k7m2qz merci", {}, True),
    ("web", "", {"invite": "K7M2QZ"}, True),  # the flyer's link: /simulateur?invite=K7M2QZ
    ("telegram", "K7M2QZ", {}, True),  # typed rather than followed as a deep link
    ("telegram", "/start K7M2QZ", {"invite": "K7M2QZ", "start": True}, True),
    ("terminal", "K7M2QZ", {}, True),
    ("sms", "K7M2QZ", {}, False),  # by SMS the name would cost a third message
])
async def test_a_code_typed_anywhere_brings_its_association_and_the_welcome_names_it(
        coded, channel, text, payload, named):
    relais, ids = coded
    participant = await brought_by(relais, text, channel, **payload)
    assert (participant.invite_code, participant.association_id) == ("K7M2QZ", ids["K7M2QZ"])
    welcome = (await replies_to(relais))[0]
    assert welcome.startswith("Invitation transmise par Les Amis du Vélo.\n") is named
    assert "Mobilit" in welcome  # the invite's consultation, not the default one


async def test_a_code_typed_after_the_association_question_answers_it(coded):
    relais, ids = coded
    await relais.inbox.receive(incoming("/start", address="newcomer", channel="telegram",
                                        start=True))
    await relais.processor.run_once()
    participant = await brought_by(relais, "K7M2RX", "telegram")
    assert participant.association_id == ids["K7M2RX"]
    assert (await replies_to(relais))[1].startswith("Invitation transmise par Unis-Cité Lille.")


async def test_an_invite_code_mid_consultation_changes_nothing_said(coded):
    relais, ids = coded
    await brought_by(relais, "bonjour", "web")
    before = len(await replies_to(relais))
    participant = await brought_by(relais, "K7M2QX", "web")  # the consent question is open
    # Counted for the association that handed it out, but the conversation goes on.
    assert participant.association_id == ids["K7M2QX"]
    assert not any("Invitation transmise" in text for text in (await replies_to(relais))[before:])
