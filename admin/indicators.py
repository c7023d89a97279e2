"""A consultation's follow-up indicators (steps b and d), each with its French definition."""

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from admin.consultations import DEPARTEMENTS, REGION, TRIAL_CHANNELS, Consultation
from storage import indicators as queries
from storage import review, stats
from storage.answer_queries import AnswerFilter
from storage.database import Database

COMPLETED, STOPPED = "completed", "stopped"
# Below this many people (or answers) a share or an index moves with a single one of them: it
# is shown, with a word of caution, as representativeness does.
SMALL_SAMPLE = 30
CAUTION = "peu de données : à lire avec prudence"


@dataclass(frozen=True)
class Indicator:
    """One figure, its unit ("nombre", "part", "durée", "indice") and what it means."""

    key: str
    label: str
    value: float | int | timedelta | None
    unit: str
    definition: str
    detail: str = ""  # e.g. "7 / 9", shown beside the value
    method: str = ""  # how it is computed, for those who ask: under "Méthode"
    base: int | None = None  # how many people or answers a share or an index rests on

    @property
    def fragile(self) -> bool:
        """Tells whether the value rests on too few people or answers to be read as is."""
        return self.value is not None and self.base is not None and self.base < SMALL_SAMPLE

    @property
    def shown(self) -> str:
        """Returns the value written the French way, with a caution when it rests on little."""
        return (shown(self.value, self.unit) + (f" ({self.detail})" if self.detail else "")
                + (f" — {CAUTION}" if self.fragile else ""))


@dataclass(frozen=True)
class AssociationReach:
    """Participants relayed by one association."""

    name: str
    participants: int
    completed: int
    stopped: int

    @property
    def completion(self) -> float | None:
        """Returns the share of its participants who answered to the end."""
        return self.completed / self.participants if self.participants else None


@dataclass(frozen=True)
class Agreement:
    """How often two officials who read the same answer gave it the same theme."""

    answers: int  # answers read by at least two officials
    agreed: int
    share: float | None
    kappa: float | None


@dataclass(frozen=True)
class Report:
    """Everything the indicators page and the bilan show."""

    participants: int
    associations: list[AssociationReach]
    territories: list[tuple[str, int]]  # (label, participants)
    ages: list[tuple[str, int]]
    agreement: Agreement
    first_answer: datetime | None
    last_answer: datetime | None
    items: list[Indicator]


AGREEMENT_DEFINITION = (
    "Part des réponses lues par deux agents où ils ont choisi le même thème.")
KAPPA_DEFINITION = (
    "Kappa de Cohen : le même accord, corrigé de celui que le hasard donnerait ; 1 = accord "
    "parfait, 0 = pas mieux que le hasard, au-delà de 0,6 l'accord est jugé bon.")
ENTROPY_METHOD = ("Entropie de Shannon de la répartition, divisée par sa valeur maximale "
                  "(ln du nombre de catégories).")


async def compute(db: Database, consultation: Consultation,
                  hidden_channels: tuple[str, ...] = TRIAL_CHANNELS) -> Report:
    """Computes a consultation's indicators from storage, a few grouped queries in all; the
    trial conversations are left out unless `hidden_channels` is emptied."""
    classified = [q.id for q in consultation.questions if q.classify]
    answers = AnswerFilter(consultation.id, hidden_channels=hidden_channels)
    async with db.read() as tx:
        groups = await queries.participation(tx, consultation.id, hidden_channels)
        names = await stats.association_names(tx)
        themes = await queries.theme_totals(tx, answers, classified)
        first_answer, last_answer = await queries.answer_span(
            tx, consultation.id, [q.id for q in consultation.questions])
        feedback = await queries.sent_feedback(tx, consultation.id)
        reached = await queries.feedback_reached(tx, consultation.id)
        readings = await review.official_labels(tx, consultation.id)

    total = sum(g.participants for g in groups)
    completed = sum(g.participants for g in groups if g.status == COMPLETED)
    stopped = sum(g.participants for g in groups if g.status == STOPPED)
    opted_in = sum(g.participants for g in groups if g.feedback_opt_in)
    territories = Counter()
    ages = Counter()
    reach: dict[int | None, list[int]] = {}
    for g in groups:
        territories[g.territory] += g.participants
        ages[g.age_band] += g.participants
        counts = reach.setdefault(g.association_id, [0, 0, 0])
        counts[0] += g.participants
        counts[1] += g.participants if g.status == COMPLETED else 0
        counts[2] += g.participants if g.status == STOPPED else 0
    associations = sorted(
        (AssociationReach(names.get(a, "Sans association") if a is not None
                          else "Sans association", *counts) for a, counts in reach.items()),
        key=lambda r: (-r.participants, r.name))

    themed = sum(themes.values())
    reviewed = len(readings)  # answers with at least one official's theme
    covered = {theme for theme, n in themes.items() if n and theme in consultation.theme_labels}
    first_sent = feedback[0].sent_at if feedback else None
    delay = first_sent - last_answer if first_sent and last_answer else None
    age_labels = consultation.age_bands()
    agreement = agree([(pair[0][1], pair[1][1]) for pair in readings.values() if len(pair) > 1])
    region_counts = {code: territories.get(code, 0) for code in REGION}

    items = [
        Indicator("participants", "Participants", total, "nombre",
                  "Conversations de cette consultation où la personne a accepté de répondre "
                  "(comme « commencées » dans la vue d'ensemble) ; les refus sont exclus."),
        Indicator("taux_completion", "Taux de complétion", _share(completed, total), "part",
                  "Part des participants qui ont répondu jusqu'à la dernière question.",
                  f"{completed} / {total}", base=total),
        Indicator("taux_desinscription", "Taux de désinscription (STOP)",
                  _share(stopped, total), "part",
                  "Part des participants qui ont écrit STOP (ou ARRET) pendant la "
                  "consultation et ne reçoivent plus rien.", f"{stopped} / {total}", base=total),
        Indicator("part_revue", "Réponses revues par un agent", _share(reviewed, themed),
                  "part",
                  "Part des réponses libres classées dont un agent a confirmé ou corrigé le "
                  "thème ; les autres gardent le thème du modèle ou celui du participant.",
                  f"{reviewed} / {themed}", base=themed),
        Indicator("themes_couverts", "Thèmes couverts",
                  _share(len(covered), len(consultation.theme_labels)), "part",
                  "Thèmes de la grille qui ont au moins une réponse, sur le nombre de thèmes "
                  "de la grille.", f"{len(covered)} / {len(consultation.theme_labels)}"),
        Indicator("delai_retour", "Délai entre la dernière réponse et le premier retour",
                  delay, "durée",
                  "Temps écoulé entre la dernière réponse reçue et l'envoi du premier message "
                  "de retour ; négatif si le retour est parti avant la fin des réponses."),
        Indicator("part_demande_retour", "Participants qui ont demandé un retour",
                  _share(opted_in, total), "part",
                  "Part des participants qui ont répondu oui à la question sur le retour.",
                  f"{opted_in} / {total}", base=total),
        Indicator("part_retour", "Participants qui ont reçu un retour",
                  _share(reached, total), "part",
                  "Part des participants à qui au moins un message de retour a été envoyé par "
                  "leur canal.", f"{reached} / {total}", base=total),
        Indicator("diversite_territoires", "Diversité des territoires",
                  diversity(region_counts, len(REGION)), "indice",
                  "Les participants viennent-ils de tous les départements ? 1 : autant de "
                  "chacun des 5 ; 0 : tous du même. Hors région et inconnus ne comptent pas.",
                  method=ENTROPY_METHOD, base=sum(region_counts.values())),
        Indicator("diversite_ages", "Diversité des âges",
                  diversity({band: ages.get(band, 0) for band in age_labels},
                            len(age_labels)), "indice",
                  "Toutes les générations ont-elles répondu ? 1 : autant de chaque tranche "
                  "d'âge ; 0 : une seule. Les âges non donnés ne comptent pas.",
                  method=ENTROPY_METHOD, base=sum(ages.get(band, 0) for band in age_labels)),
        Indicator("accord_agents", "Accord entre agents", agreement.share, "part",
                  AGREEMENT_DEFINITION, f"{agreement.agreed} / {agreement.answers}",
                  base=agreement.answers),
        Indicator("kappa_agents", "Accord entre agents, hasard déduit", agreement.kappa,
                  "indice",
                  "Les agents s'accordent-ils plus que s'ils choisissaient au hasard ? 0 : "
                  "pas mieux que le hasard ; au-delà de 0,6 : bon accord ; 1 : accord parfait.",
                  method=KAPPA_DEFINITION, base=agreement.answers),
    ]
    return Report(
        participants=total, associations=associations,
        territories=[(DEPARTEMENTS.get(code, "Non renseigné") if code else "Non renseigné", n)
                     for code, n in sorted(territories.items(), key=lambda kv: kv[0] or "~")],
        ages=[(age_labels.get(band, band) if band else "Non renseigné", n)
              for band, n in sorted(ages.items(), key=lambda kv: _rank(kv[0], age_labels))],
        agreement=agreement, first_answer=first_answer, last_answer=last_answer, items=items)


def agree(pairs: list[tuple[str, str]]) -> Agreement:
    """Returns the share of agreement and Cohen's kappa of (first reading, second reading)."""
    if not pairs:
        return Agreement(0, 0, None, None)
    n = len(pairs)
    agreed = sum(a == b for a, b in pairs)
    observed = agreed / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    kappa = None if expected == 1 else (observed - expected) / (1 - expected)
    return Agreement(n, agreed, observed, kappa)


def diversity(counts: dict[str, int], categories: int) -> float | None:
    """Returns Shannon's entropy of the counts divided by its maximum, ln(categories)."""
    total = sum(counts.values())
    if total == 0 or categories < 2:
        return None
    entropy = -sum(n / total * math.log(n / total) for n in counts.values() if n)
    return max(0.0, entropy / math.log(categories))  # never a negative zero


def shown(value: float | int | timedelta | None, unit: str) -> str:
    """Writes an indicator's value the French way."""
    if value is None:
        return "—"
    if unit == "nombre":
        return f"{value:,}".replace(",", "\u202f")
    if unit == "part":
        return f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"
    if unit == "durée":
        return _duration(value)
    return f"{value:.2f}".replace(".", ",")


def _duration(delay: timedelta) -> str:
    sign = "-" if delay < timedelta(0) else ""
    minutes = int(abs(delay).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{sign}{days}\u00a0j {hours}\u00a0h"
    return f"{sign}{hours}\u00a0h {minutes:02d}\u00a0min"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rank(band: str | None, labels: dict[str, str]) -> tuple[int, str]:
    """Orders age bands as the question lists them, unknown ones after, missing last."""
    order = list(labels)
    if band is None:
        return len(order) + 1, ""
    return (order.index(band), "") if band in order else (len(order), band)

