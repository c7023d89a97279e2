"""Representativeness: participants per département and age band against the population of
Hauts-de-France (public INSEE figures shipped in admin/data/population.yaml)."""

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from aiohttp import web

from admin import auth, charts
from admin.consultations import DEPARTEMENTS, REGION, TRIAL_CHANNELS, get
from admin.pages import config, render
from storage import stats

routes = web.RouteTableDef()
POPULATION = Path(__file__).parents[1] / "data" / "population.yaml"
UNDER, OVER = 0.8, 1.25  # a ratio outside these bounds is flagged…
MIN_SAMPLE = 30  # …only from this many participants: below, any gap may be chance
Z95 = 1.96


@cache
def population() -> dict:
    """Returns the shipped INSEE figures."""
    return yaml.safe_load(POPULATION.read_text(encoding="utf-8"))


def wilson(successes: int, total: int) -> tuple[float, float] | None:
    """Returns the 95 % Wilson score interval of a share (better than ±1.96·se on small
    samples and shares near 0 or 1)."""
    if total <= 0:
        return None
    share = successes / total
    spread = Z95 * math.sqrt(share * (1 - share) / total + Z95 ** 2 / (4 * total ** 2))
    centre = share + Z95 ** 2 / (2 * total)
    scale = 1 + Z95 ** 2 / total
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


@dataclass(frozen=True)
class Line:
    """One territory or age band: participants and population side by side."""

    key: str
    label: str
    participants: int
    participant_share: float | None
    population: int | None
    population_share: float | None
    sample: int = 0  # participants counted on the whole table

    @property
    def ratio(self) -> float | None:
        """Returns the share of participants over the share of population (1 = as many)."""
        if self.participant_share is None or not self.population_share:
            return None
        return self.participant_share / self.population_share

    @property
    def interval(self) -> tuple[float, float] | None:
        """Returns the 95 % confidence interval of the participants' share."""
        return wilson(self.participants, self.sample)

    @property
    def verdict(self) -> str:
        """Returns in words how represented this line is; a gap counts only on enough
        participants and when chance alone cannot explain it."""
        ratio = self.ratio
        if ratio is None:
            return "non calculable"
        if self.sample < MIN_SAMPLE:
            return "trop peu de participants pour conclure"
        low, high = self.interval
        if ratio < UNDER and high < self.population_share:
            return "sous-représenté"
        if ratio > OVER and low > self.population_share:
            return "sur-représenté"
        if ratio < UNDER or ratio > OVER:
            return "écart possiblement dû au hasard"
        return "proche de la population"


def compare(counts: dict[str, int], labels: dict[str, str],
            population_of: dict[str, int]) -> list[Line]:
    """Returns a line per key of `labels`: each share among the keys that have a population."""
    counted = sum(counts.get(key, 0) for key in labels)
    people = sum(population_of.get(key, 0) for key in labels)
    return [Line(key, label, counts.get(key, 0),
                 counts.get(key, 0) / counted if counted else None,
                 population_of.get(key),
                 population_of[key] / people if people and key in population_of else None,
                 counted)
            for key, label in labels.items()]


@routes.get("/consultations/{consultation}/representativite")
@auth.requires("official")
async def representativeness(request: web.Request) -> web.StreamResponse:
    """Shows which départements and ages are under-represented among participants."""
    consultation = await get(request)
    async with config(request).db.read() as tx:
        profiles = await stats.participants_by_profile(tx, consultation.id, TRIAL_CHANNELS)
    figures = population()
    by_territory: dict[str, int] = {}
    by_age: dict[str, int] = {}
    for (territory, age), n in profiles.items():
        by_territory[territory] = by_territory.get(territory, 0) + n
        by_age[age] = by_age.get(age, 0) + n
    territories = compare(by_territory, {code: DEPARTEMENTS[code] for code in REGION},
                          figures["departements"]["population"])
    ages = consultation.age_bands()
    age_lines = compare(by_age, ages, figures.get("age_bands") or {})
    return render(request, "representativite.html", {
        "consultation": consultation, "tab": "representativite", "figures": figures,
        "territories": territories, "ages": age_lines, "has_age_question": bool(ages),
        "age_population": bool(figures.get("age_bands")),
        "outside": by_territory.get("hors_region", 0), "unknown_territory":
            sum(n for (territory, _), n in profiles.items() if territory is None),
        "unknown_age": sum(n for (_, age), n in profiles.items() if age is None),
        "under": UNDER, "over": OVER, "min_sample": MIN_SAMPLE,
        "territory_sample": sum(line.participants for line in territories),
        "age_sample": sum(line.participants for line in age_lines),
        "territory_chart": _chart("Part des participants et de la population par département",
                                  territories),
        "age_chart": _chart("Part des participants par tranche d'âge", age_lines),
    })


def _chart(title: str, lines: list[Line]):
    bars = []
    for line in lines:
        bars.append(charts.Bar(f"{line.label} : participants", line.participants,
                               line.participant_share))
        if line.population is not None:
            bars.append(charts.Bar(f"{line.label} : population", line.population,
                                   line.population_share, series=1))
    legend = ("Participants", "Population") if any(b.series for b in bars) else None
    return charts.bars(title, bars, by_share=True, legend=legend)
