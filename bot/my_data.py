"""What MES DONNEES answers: the person's answers in words, grouped by consultation, and on SMS
a signed link that shows them in full for a day."""

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.engine import Flow, QuestionType
from bot.engine.answers import bounds
from storage.feedback import REPLY_PREFIX

LINK_SECONDS = 24 * 3600
# By SMS a long answer is cut to this, the rest behind the link; elsewhere one message holds
# far more (Telegram: 4,096 characters), so answers are cut only when very long.
ANSWER_CHARS = {"sms": 60}
ANSWER_CHARS_ELSEWHERE = 400
FEEDBACK_REPLY = "Votre réponse à un message de la Région"
REMOVED_QUESTION = "Question retirée depuis"
NOTHING = ("Nous ne gardons aucune réponse de vous. Votre numéro ou compte est conservé "
           "chiffré, seulement pour vous répondre.")


@dataclass(frozen=True)
class Held:
    """One stored answer, as MES DONNEES reads it."""

    consultation_id: str
    question_id: str
    value: object
    raw_text: str


@dataclass(frozen=True)
class Section:
    """One consultation's answers in words: its title and (question, answer) pairs."""

    title: str
    answers: tuple[tuple[str, str], ...]


class MyData:
    """Words for the answers Relais holds about someone, and the link to read them all."""

    def __init__(self, flows: dict[str, Flow], secret_key: str, public_url: str | None,
                 link_seconds: int = LINK_SECONDS) -> None:
        self.flows = flows
        self.public_url = public_url.rstrip("/") if public_url else None
        self.link_seconds = link_seconds
        self.signer = URLSafeTimedSerializer(secret_key, salt="mes-donnees")

    def sections(self, held: list[Held]) -> list[Section]:
        """Returns the answers in words, a section per consultation, in the order given."""
        grouped: dict[str, list[tuple[str, str]]] = {}
        for answer in held:
            grouped.setdefault(answer.consultation_id, []).append(self.in_words(answer))
        return [Section(self.title(cid), tuple(pairs)) for cid, pairs in grouped.items()]

    def title(self, consultation_id: str) -> str:
        flow = self.flows.get(consultation_id)
        return flow.title if flow is not None else consultation_id

    def in_words(self, answer: Held) -> tuple[str, str]:
        """Returns (the question's short label, the answer as the person would say it)."""
        if answer.question_id.startswith(REPLY_PREFIX):
            return FEEDBACK_REPLY, answer.raw_text.strip() or "(pas de réponse)"
        try:
            question = self.flows[answer.consultation_id].question(answer.question_id)
        except KeyError:  # a question since removed from its file: the words as typed
            return REMOVED_QUESTION, answer.raw_text.strip() or "(pas de réponse)"
        value = answer.value
        if question.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE) \
                and value is not None:
            picked = set(value) if isinstance(value, list) else {value}
            words = ", ".join(c.label for c in question.choices if c.value in picked)
        elif question.type is QuestionType.YES_NO and isinstance(value, bool):
            words = "Oui" if value else "Non"
        elif question.type is QuestionType.SCALE and isinstance(value, int):
            words = f"{value} sur {bounds(question)[1]}"
        else:
            words = answer.raw_text.strip()
        return question.short_label, words or "(pas de réponse)"

    def message(self, held: list[Held], channel: str, participant_id: int) -> str:
        """Returns the French answer to MES DONNEES for this channel."""
        if not held:
            return NOTHING
        limit = ANSWER_CHARS.get(channel, ANSWER_CHARS_ELSEWHERE)
        lines, cut = ["Vos réponses enregistrées :"], False
        for section in self.sections(held):
            lines.append(section.title)
            for label, words in section.answers:
                if len(words) > limit:
                    words, cut = words[:limit - 1].rstrip() + "…", True
                lines.append(f"- {label} : {words}")
        if cut:
            link = self.link(participant_id)
            lines.append(f"Réponses longues coupées. Tout lire pendant 24 h : {link}" if link
                         else "Réponses longues coupées.")
        lines.append("Envoyez SUPPRIMER pour tout effacer.")
        return "\n".join(lines)

    def link(self, participant_id: int) -> str | None:
        """Returns the address that shows the person's answers in full, if Relais has one."""
        if self.public_url is None:
            return None
        return f"{self.public_url}/mes-donnees/{self.signer.dumps(participant_id)}"

    def participant_of(self, token: str) -> int | None:
        """Returns whose answers a link shows; None when forged, altered or expired."""
        try:
            participant_id = self.signer.loads(token, max_age=self.link_seconds)
        except (BadSignature, SignatureExpired):
            return None
        return participant_id if isinstance(participant_id, int) else None
