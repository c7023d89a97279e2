"""Admin pages at a million answers: fills a database, then times pages and a streamed export.

One command: `python benchmarks/admin.py [--database sqlite|postgresql] [--answers 100000,1000000]`.
Publishes the real `mobilite` and `jeunesse` consultations as Relais does, fills the database
with participants, sessions, answers, model labels and theme summaries in bulk, runs the
worker's first pass over the tallies (timed), signs an official in through the form, then
prints, for each page, the median and p95 time of a
request served by the real application on loopback (after one warm-up), and for the CSV export
of 10,000 and 100,000 answers its time and how much the process's memory grew meanwhile.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Run as a script, this folder comes first on the path, where benchmarks/nlp.py would hide
# the nlp package: look in the project instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from admin import passwords  # noqa: E402
from bot.app import build, create_web_app  # noqa: E402
from bot.channels.base import IncomingMessage  # noqa: E402
from bot.consultations import describe  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import feedback, invites, labels, migrate, tallies, users  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.tables import Answer, AnswerTheme  # noqa: E402

CONSULTATIONS = ("mobilite", "jeunesse")
START = datetime(2026, 9, 7, 5, 0, tzinfo=UTC)  # a Monday; answers spread over 8 weeks
WEEKS = 8
PARIS = ZoneInfo("Europe/Paris")
EMAIL, PASSWORD = "elue.bench@region.example.fr", "une phrase de passe pour mesurer"
TARGET_MS = 150.0  # every page; the bilan, a whole report, 500 ms
TARGET_BILAN_MS = 500.0
BATCH_SESSIONS = 4_000

DEPARTEMENTS = {"59": 0.40, "62": 0.22, "60": 0.13, "80": 0.10, "02": 0.09, "hors_region": 0.06}
CHANNELS = {"telegram": 0.45, "sms": 0.35, "web": 0.20}
STATUSES = {"completed": 0.82, "active": 0.10, "stopped": 0.08}
ASSOCIATIONS = [("Maison des Jeunes de Lens", "62"), ("Vélo Solidaire Lille", "59"),
                ("Les Amis du Rail Picard", "80"), ("Familles Rurales de l'Aisne", "02"),
                ("Centre Social de Creil", "60"), ("Mission Locale du Hainaut", "59"),
                ("Secours Populaire Boulogne", "62"), ("Foyer Rural de Thiérache", "02"),
                ("Amicale des Usagers du TER", "80"), ("Jeunes Bénévoles de l'Oise", "60")]

# Generic sentences, as redacted answers read; built here, no real answer copied.
OPENINGS = ["", "Franchement, ", "Pour moi, ", "Je pense que ", "Surtout ", "Honnêtement, ",
            "Dans ma commune, ", "Comme beaucoup de gens, "]
SENTENCES = [
    "il faudrait plus de moyens pour les petites communes.",
    "les horaires ne sont pas adaptés à ceux qui travaillent tôt le matin.",
    "c'est trop cher pour les familles avec plusieurs enfants.",
    "on manque d'informations claires sur ce qui existe déjà.",
    "les démarches en ligne sont compliquées pour les personnes âgées.",
    "il n'y a presque rien le week-end et pendant les vacances.",
    "je voudrais qu'on écoute davantage les habitants des villages.",
    "les jeunes partent parce qu'ils ne trouvent rien près de chez eux.",
    "il faut rendre les lieux accessibles aux personnes en fauteuil.",
    "la sécurité le soir laisse à désirer, on ne se sent pas tranquille.",
    "une aide financière simple changerait beaucoup de choses.",
    "mon voisin [personne] a le même problème depuis des années.",
    "j'ai écrit plusieurs fois à [courriel] sans jamais avoir de réponse.",
    "les délais sont beaucoup trop longs, il faut attendre des mois.",
    "ce serait bien d'avoir un point d'accueil avec de vraies personnes.",
    "il faut mieux relier les villes moyennes entre elles.",
    "rien n'est prévu pour ceux qui n'ont pas de voiture.",
    "les associations font beaucoup mais manquent de soutien.",
    "on devrait pouvoir tout faire par SMS, c'est plus simple.",
    "les prix ont beaucoup augmenté cette année.",
    "il faudrait des permanences dans les mairies une fois par semaine.",
    "je ne sais pas, je n'ai pas d'avis précis là-dessus.",
    "plus de places et moins d'attente, tout simplement.",
    "il faut penser aux gens qui habitent loin de tout.",
]


def pick(weights: dict, rng: random.Random):
    """Returns a key of `weights` drawn in proportion to its weight."""
    return rng.choices(list(weights), list(weights.values()))[0]


def percentile(values: list[float], share: float) -> float:
    """Returns the nearest-rank percentile of some values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


@dataclass
class Rows:
    """Rows waiting to be inserted, per table, as tuples in column order."""

    participants: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    answers: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    themes: list = field(default_factory=list)
    identities: list = field(default_factory=list)


COLUMNS = {
    "participants": ("id", "pseudonym", "channel", "created_at", "stopped_at", "invite_code",
                     "association_id"),
    "consultation_sessions": ("id", "participant_id", "consultation_id", "status", "state",
                              "territory", "age_band", "feedback_opt_in", "started_at",
                              "updated_at", "completed_at"),
    "answers": ("id", "session_id", "participant_id", "consultation_id", "question_id",
                "raw_text", "value", "valid", "answered_at", "redacted_text", "channel",
                "association_id", "territory", "theme", "theme_score", "theme_source"),
    "answer_labels": ("id", "answer_id", "theme", "source", "score", "model_version", "actor",
                      "created_at"),
    "answer_themes": ("answer_id", "theme", "consultation_id", "question_id", "score", "source"),
    "identities": ("participant_id", "address_ciphertext"),
}
JSON_COLUMNS = {"state", "value"}
TIME_COLUMNS = {"created_at", "stopped_at", "started_at", "updated_at", "completed_at",
                "answered_at"}


class Filler:
    """Draws realistic participants, sessions and answers and inserts them in bulk."""

    def __init__(self, db: Database, flows: dict, associations: dict[int, tuple[str, str]],
                 invite_codes: dict[tuple[int, str], str], seed: int = 5) -> None:
        self.db = db
        self.flows = flows
        self.associations = associations
        self.invite_codes = invite_codes
        self.rng = random.Random(seed)
        self.ids = Counter()
        self.theme_texts: dict[tuple[str, str, str], Counter] = {}
        self.themes = {c: [t["id"] for t in flows[c]["themes"]] for c in flows}
        self.pending_labels: list[tuple] = []
        self.pending_themes: list[tuple] = []
        self.example_ids: dict[tuple[str, str, str], dict[str, int]] = {}

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    async def fill(self, answers: int) -> None:
        """Adds sessions until each consultation holds about its share of `answers`, in the
        order people started them, so ids grow with time as they do in production."""
        wanted = {c: answers // len(CONSULTATIONS) for c in CONSULTATIONS}
        added = Counter()
        while any(added[c] < wanted[c] for c in CONSULTATIONS):
            rows = Rows()
            for started, consultation in self.starts(wanted):
                if added[consultation] >= wanted[consultation]:
                    continue
                added[consultation] += self.session(consultation, started, rows)
                if len(rows.sessions) >= BATCH_SESSIONS:
                    await self.insert(rows)
                    rows = Rows()
            await self.insert(rows)

    def starts(self, wanted: dict[str, int]) -> list[tuple[datetime, str]]:
        """Draws when sessions start, more at the launch and fewer as weeks pass, in order."""
        found = []
        for consultation, answers in wanted.items():
            for _ in range(int(answers / 6.5)):  # a little more than sessions will need
                day = min(WEEKS * 7 - 1, int(self.rng.random() ** 1.4 * WEEKS * 7))
                found.append((START + timedelta(days=day,
                                                seconds=self.rng.randrange(16 * 3600)),
                              consultation))
        return sorted(found)

    def session(self, consultation: str, started: datetime, rows: Rows) -> int:
        """Draws one participant and their session; returns how many answers it gave."""
        rng = self.rng
        flow = self.flows[consultation]
        association_id = rng.choice(list(self.associations)) if rng.random() < 0.8 else None
        home = self.associations[association_id][1] if association_id else None
        territory = home if home and rng.random() < 0.7 else pick(DEPARTEMENTS, rng)
        channel = pick(CHANNELS, rng)
        status = pick(STATUSES, rng)
        participant_id = self.next_id("participants")
        session_id = self.next_id("consultation_sessions")
        questions = flow["questions"]
        last = len(questions) if status == "completed" else rng.randrange(2, len(questions))
        values: dict[str, object] = {}
        at = started
        for question in questions[:last]:
            when = question["when"]
            if when is not None and not self.applies(when, values.get(when["question"])):
                continue
            if not question["required"] and rng.random() < 0.1:
                continue
            at += timedelta(seconds=rng.randrange(15, 120))
            rows.answers.append(self.answer(consultation, question, values, session_id,
                                            participant_id, channel, association_id,
                                            territory, at))
        stopped = at + timedelta(minutes=rng.randrange(1, 600)) if status == "stopped" else None
        invite = self.invite_codes.get((association_id, consultation)) if association_id \
            else None
        rows.participants.append((participant_id, f"bench-{participant_id:09d}", channel,
                                  started, stopped, invite, association_id))
        state = {"consultation": consultation, "status": status, "last_at": at.isoformat(),
                 "question": None if status == "completed" else questions[last]["id"],
                 "answers": values, "attempts": 0, "confirming_erasure": False,
                 "confirming_theme": None, "consented": True, "turns": len(values) + 2,
                 "stopped_from": "active" if status == "stopped" else None}
        rows.sessions.append((session_id, participant_id, consultation, status, state, territory,
                              values.get("age"), values.get("retour"), started,
                              stopped or at, at if status == "completed" else None))
        return len(values)

    @staticmethod
    def applies(when: dict, value: object) -> bool:
        """Tells whether a question's condition holds for an earlier answer."""
        given = set(value) if isinstance(value, list) else {value}
        if when["any_of"]:
            return bool(given & set(when["any_of"]))
        if when["none_of"]:
            return not given & set(when["none_of"])
        return when["equals"] in given

    def answer(self, consultation: str, question: dict, values: dict, session_id: int,
               participant_id: int, channel: str, association_id: int | None,
               territory: str, at: datetime) -> tuple:
        """Draws one answer row (and its theme labels for a free-text question)."""
        rng = self.rng
        kind = question["type"]
        choices = [c["value"] for c in question.get("choices") or []]
        redacted = theme = score = source = None
        if kind == "postcode":
            value = territory
            raw = f"{territory}{rng.randrange(0, 999):03d}" if territory != "hors_region" \
                else f"75{rng.randrange(1, 20):03d}"
        elif kind == "single_choice":
            position = min(len(choices) - 1, int(rng.random() ** 1.6 * len(choices)))
            value, raw = choices[position], str(position + 1)
        elif kind == "multiple_choice":
            size = rng.randint(1, min(3, question["max_choices"] or 3))
            picked = sorted(rng.sample(range(len(choices)), size))
            value = [choices[p] for p in picked]
            raw = " ".join(str(p + 1) for p in picked)
        elif kind == "yes_no":
            value = rng.random() < 0.7
            raw = "oui" if value else "non"
        elif kind in ("scale", "number"):
            value = rng.randint(question["minimum"] or 1, question["maximum"] or 5)
            raw = str(value)
        else:
            redacted = rng.choice(OPENINGS) + rng.choice(SENTENCES)
            value, raw = None, redacted  # one raw copy of free text, as Relais keeps it
            themes = self.themes[consultation]
            # A few themes carry most answers, as in real consultations.
            theme = themes[min(len(themes) - 1, int(rng.random() ** 1.8 * len(themes)))]
            self.theme_texts.setdefault((consultation, question["id"], theme),
                                        Counter())[redacted] += 1
        values[question["id"]] = value
        answer_id = self.next_id("answers")
        if theme is not None:  # a summary quotes answers by id: the first with these words
            self.example_ids.setdefault((consultation, question["id"], theme),
                                        {}).setdefault(redacted, answer_id)
        if theme is not None:
            model_score = round(0.25 + 0.74 * rng.random() ** 0.6, 3)
            source, score = "model", model_score
            roll = rng.random()
            if roll < 0.03:
                source, score = "official", None
            elif roll < 0.07 and question.get("confirm_theme"):
                source, score = "participant", None
            self.pending_labels.append((self.next_id("answer_labels"), answer_id, theme,
                                        "model", model_score, f"{consultation}-bench-1", None,
                                        at))
            if source != "model":
                self.pending_labels.append((self.next_id("answer_labels"), answer_id, theme,
                                            source, None, None,
                                            EMAIL if source == "official" else None,
                                            at + timedelta(days=1)))
            self.pending_themes.append((answer_id, theme, consultation, question["id"], score,
                                        source))
        return (answer_id, session_id, participant_id, consultation, question["id"], raw,
                value, True, at, redacted, channel, association_id, territory, theme, score,
                source)

    async def insert(self, rows: Rows) -> None:
        """Writes a batch of rows, parents first, in one transaction."""
        rows.labels, self.pending_labels = self.pending_labels, []
        rows.themes, self.pending_themes = self.pending_themes, []
        # Every participant can be reached (feedback goes to those with an address).
        rows.identities = [(row[0], "chiffré") for row in rows.participants]
        tables = (("participants", rows.participants), ("identities", rows.identities),
                  ("consultation_sessions", rows.sessions),
                  ("answers", rows.answers), ("answer_labels", rows.labels),
                  ("answer_themes", rows.themes))
        async with self.db.engine.begin() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            for table, values in tables:
                await bulk_insert(self.db.dialect, raw, table, values)


async def bulk_insert(dialect: str, raw, table: str, rows: list[tuple]) -> None:
    """Inserts rows with the driver itself: COPY on PostgreSQL, executemany on SQLite."""
    columns = COLUMNS[table]
    json_at = [i for i, c in enumerate(columns) if c in JSON_COLUMNS]
    time_at = [i for i, c in enumerate(columns) if c in TIME_COLUMNS]

    def convert(row: tuple) -> tuple:
        row = list(row)
        for i in json_at:
            row[i] = json.dumps(row[i])
        if dialect == "sqlite":
            for i in time_at:
                if row[i] is not None:  # as SQLAlchemy stores UTC timestamps in SQLite
                    row[i] = row[i].strftime("%Y-%m-%d %H:%M:%S.%f")
        return tuple(row)

    converted = [convert(row) for row in rows]
    if dialect == "postgresql":
        await raw.copy_records_to_table(table, records=converted, columns=list(columns))
    else:
        marks = ", ".join("?" * len(columns))
        await raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                              converted)


async def fill(relais, answers: int) -> dict[str, int]:
    """Fills the database; returns the associations' ids by name."""
    db = relais.db
    flows = {c: describe(relais.flows[c]) for c in CONSULTATIONS}
    flows = json.loads(json.dumps(flows, default=str))  # plain strings for the enums
    associations, codes = {}, {}
    async with db.transaction() as tx:
        for name, territory in ASSOCIATIONS:
            association = await invites.add_association(tx, name, territory, START)
            associations[association.id] = (name, territory)
            for consultation in CONSULTATIONS:
                code = f"{consultation[:3].upper()}{association.id:03d}"
                await invites.create_invite(tx, association.id, consultation, code, START)
                codes[association.id, consultation] = code
        for consultation in CONSULTATIONS:
            await labels.register_model(
                tx, version=f"{consultation}-bench-1", consultation_id=consultation,
                path=f"models/{consultation}-bench-1", training_rows=400,
                scores={"macro_f1": 0.8}, at=START)
    filler = Filler(db, flows, associations, codes)
    await filler.fill(answers)
    await summaries(db, filler)
    if db.dialect == "postgresql":
        async with db.engine.connect() as connection:
            for table in (t for t, columns in COLUMNS.items() if "id" in columns):
                # COPY took explicit ids: move the sequences past them
                await connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"))
            await connection.commit()
    return {name: id_ for id_, (name, _) in associations.items()}


async def summaries(db: Database, filler: Filler) -> None:
    """Writes theme summaries as the classification worker does: terms and examples."""
    found: dict[str, dict] = {c: {} for c in CONSULTATIONS}
    for (consultation, question, theme), texts in filler.theme_texts.items():
        words = Counter()
        for sentence, times in texts.items():
            for word in re.findall(r"[a-zàâçéèêëîïôûù']{5,}", sentence.lower()):
                words[word] += times
        found[consultation][question, theme] = (
            sum(texts.values()), [[w, n] for w, n in words.most_common(8)],
            [filler.example_ids[consultation, question, theme][s]
             for s, _ in texts.most_common(3)])
    async with db.transaction() as tx:
        for consultation, summaries_of in found.items():
            await labels.save_summaries(tx, consultation, f"{consultation}-bench-1",
                                        summaries_of, START)


def remove_sqlite_files(path: str) -> None:
    """Deletes an SQLite database file and its journals."""
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


async def reset(url: str) -> None:
    """Empties the database and creates the schema; refuses one holding real participants."""
    db = Database(url)
    try:
        async with db.read() as tx:
            real = await tx.scalar(text(
                "SELECT count(*) FROM participants WHERE pseudonym NOT LIKE 'bench-%'"))
    except DBAPIError:
        real = 0  # no schema yet
    if real:
        await db.close()
        raise SystemExit(f"la base contient {real} participant(s) qui ne viennent pas de ce "
                         "banc d'essai : elle ne sera pas vidée")
    if db.dialect == "postgresql":
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    else:
        await db.close()
        remove_sqlite_files(db.url.database)  # a new file: the next size starts from nothing
        db = Database(url)
    await migrate.upgrade(db)
    await db.close()


class PeakMemory:
    """Samples the process's resident memory in a thread and keeps the highest value."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.running = False
        self.peak = 0

    def rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.page

    def __enter__(self) -> "PeakMemory":
        self.base = self.peak = self.rss()
        self.running = True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.002)

    def __exit__(self, *_exc) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def growth(self) -> int:
        return self.peak - self.base


class SlowQueries:
    """Times every SQL statement the application runs, to name what a slow page waits for."""

    def __init__(self, db: Database) -> None:
        self.found: list[tuple[float, str]] = []
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)
        self.found.clear()

    def before(self, connection, _cursor, statement, *_args) -> None:
        connection.info.setdefault("began", []).append(time.perf_counter())

    def after(self, connection, _cursor, statement, *_args) -> None:
        began = connection.info["began"].pop()
        if len(self.found) > 10_000:  # the export's batches, while nobody reports
            self.found.clear()
        self.found.append(((time.perf_counter() - began) * 1000, statement))

    def report(self, threshold_ms: float) -> None:
        """Prints the statements slower than a threshold since the last report."""
        for ms, statement in sorted(self.found, reverse=True):
            if ms >= threshold_ms:
                print(f"    {ms:7.0f} ms  {' '.join(statement.split())[:400]}")
        self.found.clear()


async def fetch(client: TestClient, path: str) -> tuple[float, int, int]:
    """Requests a page and reads its whole body; returns (ms, status, lines)."""
    began = time.perf_counter()
    async with client.get(path, allow_redirects=False) as response:
        lines = 0
        async for chunk in response.content.iter_chunked(1 << 16):
            lines += chunk.count(b"\n")
    return (time.perf_counter() - began) * 1000, response.status, lines


async def sign_in(client: TestClient) -> None:
    """Signs the official in through the form, as a browser would."""
    page = await (await client.get("/admin/connexion")).text()
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = await client.post("/admin/connexion", data={
        "email": EMAIL, "password": PASSWORD, "csrf": token})
    if response.status != 200:
        raise SystemExit(f"connexion refusée ({response.status})")


def export_window(counts: dict[date, int], wanted: int) -> tuple[date, date]:
    """Returns the run of consecutive days whose answers are closest to `wanted`."""
    days = sorted(counts)
    runs = ((abs(sum(counts[d] for d in days[i:j + 1]) - wanted), days[i], days[j])
            for i in range(len(days)) for j in range(i, len(days)))
    _, first, last = min(runs)
    return first, last


async def answers_per_day(db: Database, consultation: str) -> dict[date, int]:
    """Counts a consultation's answers per day, Paris time, as the date filters cut them."""
    counts: dict[date, int] = Counter()
    async with db.read() as tx:
        times = await tx.scalars(select(Answer.answered_at)
                                 .where(Answer.consultation_id == consultation))
        for answered_at in times:
            counts[answered_at.astimezone(PARIS).date()] += 1
    return counts


async def measure(relais, associations: dict[str, int], runs: int,
                  slow_ms: float | None, only: str | None = None) -> None:
    """Times the pages and the export; prints one line each."""
    db = relais.db
    async with db.transaction() as tx:
        if await users.by_email(tx, EMAIL) is None:
            await users.create(tx, email=EMAIL, role="official", at=datetime.now(UTC),
                               password_hash=passwords.hash_password(PASSWORD))
    client = TestClient(TestServer(create_web_app(relais, work=False)))
    await client.start_server()
    try:
        await sign_in(client)
        some = associations["Vélo Solidaire Lille"]
        base = "/admin/consultations/mobilite"
        pages = [
            ("vue d'ensemble (mobilite)", base),
            ("vue d'ensemble (jeunesse)", "/admin/consultations/jeunesse"),
            ("question ouverte, sans filtre", f"{base}/questions/probleme"),
            ("question ouverte, thème + territoire + association",
             f"{base}/questions/probleme?theme=prix&territoire=59&association={some}"),
            ("question ouverte, mêmes filtres, page 5",
             f"{base}/questions/probleme?theme=prix&territoire=59&association={some}&page=5"),
            ("question fermée (choix unique)", f"{base}/questions/priorite"),
            ("question fermée (choix multiples)", f"{base}/questions/modes"),
            ("représentativité", f"{base}/representativite"),
            ("revue", f"{base}/revue"),
            ("indicateurs", f"{base}/indicateurs"),
            ("bilan", f"{base}/bilan"),
            ("plan d'actions", "/admin/plan/consultations/mobilite"),
            ("suivi public (sans connexion)", "/suivi/mobilite"),
        ]
        print(f"\n{'page':<55} {'statut':>6} {'médiane':>9} {'p95':>9}")
        queries = SlowQueries(db) if slow_ms is not None else None
        for name, path in pages if only != "export" else []:
            elapsed, status, _ = await fetch(client, path)  # warm-up
            if status == 404 and elapsed < 1000:
                print(f"{name:<55} {'absente':>6}")
                continue
            times = [(await fetch(client, path))[0] for _ in range(runs)]
            target = TARGET_BILAN_MS if path.endswith("/bilan") else TARGET_MS
            mark = "" if statistics.median(times) < target else f"  > {target:.0f} ms"
            print(f"{name:<55} {status:>6} {statistics.median(times):7.0f} ms "
                  f"{percentile(times, 0.95):6.0f} ms{mark}", flush=True)
            if queries is not None and mark:
                queries.found.clear()
                await fetch(client, path)
                queries.report(slow_ms)
        if only != "export":
            await busy_day(client, db, runs)
            await notification(relais)
        if only != "pages":
            await export(client, db, base, runs)
    finally:
        await client.close()


async def busy_day(client: TestClient, db: Database, runs: int) -> None:
    """Times the overview while the busiest day waits for the worker's next pass (it is
    recounted from the rows at each request, as today's is while people answer), then that
    pass."""
    per_day = await answers_per_day(db, "mobilite")
    last = max(per_day, key=per_day.get)
    async with db.transaction() as tx:
        await tallies.touch_consultation_days(tx, "mobilite", [last])
    path = "/admin/consultations/mobilite"
    await fetch(client, path)
    times = [(await fetch(client, path))[0] for _ in range(runs)]
    print(f"{'vue d’ensemble, le ' + str(last) + ' à recompter':<55} {'':>6} "
          f"{statistics.median(times):7.0f} ms {percentile(times, 0.95):6.0f} ms", flush=True)
    began = time.perf_counter()
    days = await tallies.refresh(db, "mobilite", datetime.now(UTC))
    print(f"{'passage du worker sur ce jour':<55} {days:>6} "
          f"{(time.perf_counter() - began) * 1000:7.0f} ms", flush=True)


async def notification(relais) -> None:
    """Times telling the participants of the two most frequent themes, then of every theme,
    about an action: their selection and one outbox row each, in one transaction (what
    "envoyer" does); meanwhile, every 20 ms, the intake step a webhook's acknowledgement waits
    for (`Relais.accept`: the journal on SQLite, the inbox on PostgreSQL), against the same
    step with nothing else running."""
    async with relais.db.read() as tx:
        themes = tuple(theme for theme, _ in (await tx.execute(
            select(AnswerTheme.theme, func.count()).where(
                AnswerTheme.consultation_id == "mobilite").group_by(AnswerTheme.theme)
            .order_by(func.count().desc()))).all())
    quiet = [await acknowledge(relais, f"calme-{n}") for n in range(50)]
    print(f"{'accusé de réception (' + relais.settings.intake + '), au calme':<55} "
          f"{len(quiet):>6} {statistics.median(quiet):7.1f} ms {percentile(quiet, 0.99):6.1f} ms"
          " p99", flush=True)
    for chosen in (themes[:2], themes):
        began = time.perf_counter()

        async def send(chosen=chosen):
            async with relais.db.transaction() as tx:
                return await feedback.send(tx, feedback.Audience("mobilite", themes=chosen),
                                           # a text of its own: the same twice is refused
                                           f"La Région a décidé ({time.time_ns()}) : voici "
                                           "ce qui change.", EMAIL, datetime.now(UTC))
        sending = asyncio.create_task(send())
        during = []
        while not sending.done():
            during.append(await acknowledge(relais, f"pendant-{len(chosen)}-{len(during)}"))
            await asyncio.sleep(0.02)
        sent = await sending
        label = ", ".join(chosen) if len(chosen) <= 2 else f"les {len(chosen)} thèmes"
        print(f"{'notification (' + label + ')':<55} {sent.recipients:>6,} "
              f"{(time.perf_counter() - began) * 1000:7.0f} ms mis en file", flush=True)
        print(f"{'  accusés de réception pendant ce temps':<55} {len(during):>6} "
              f"{statistics.median(during):7.1f} ms {max(during):6.1f} ms max", flush=True)


async def acknowledge(relais, provider_id: str) -> float:
    """Times the intake of one SMS as a webhook does it before answering 200, in ms."""
    message = IncomingMessage("sms", "+33600000000", provider_id, "Bonjour",
                              datetime.now(UTC))
    began = time.perf_counter()
    await relais.accept(message)
    return (time.perf_counter() - began) * 1000


async def first_pass(db: Database) -> None:
    """Runs the worker's first pass over the tallies, which counts every day, and times it."""
    for consultation in CONSULTATIONS:
        began = time.perf_counter()
        days = await tallies.refresh(db, consultation, datetime.now(UTC))
        print(f"premier décompte ({consultation}) : {days} jours en "
              f"{time.perf_counter() - began:.1f} s", flush=True)


async def export(client: TestClient, db: Database, base: str, runs: int) -> None:
    """Times the CSV export of about 10,000 and 100,000 answers and its memory growth."""
    per_day = await answers_per_day(db, "mobilite")
    print(f"\n{'export CSV':<34} {'lignes':>8} {'médiane':>9} {'p95':>9} {'RSS +':>9} "
          f"{'tracemalloc':>12}")
    for wanted in (10_000, 100_000):
        first, last = export_window(per_day, wanted)
        path = f"{base}/exports/reponses.csv?du={first}&au={last}"
        with PeakMemory() as memory:  # the first run: what a cold process needs
            _, status, lines = await fetch(client, path)
        if status != 200:
            print(f"  {path}: statut {status}")
            return
        tracemalloc.start()
        await fetch(client, path)
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        times = [(await fetch(client, path))[0] for _ in range(max(3, runs // 2))]
        print(f"{f'du {first} au {last}':<34} {lines - 1:>8,} {statistics.median(times):7.0f} ms "
              f"{percentile(times, 0.95):6.0f} ms {memory.growth / 2**20:6.1f} MiB "
              f"{traced / 2**20:9.1f} MiB", flush=True)


def machine() -> str:
    """Describes the CPU, the cores and the memory."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                if line.startswith("model name")), platform.machine())
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                  .splitlines() if line.startswith("MemTotal"))
    return (f"{cpu}, {os.cpu_count()} cores, {memory / 2**20:.0f} GiB, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


async def database_version(db: Database) -> str:
    async with db.read() as tx:
        if db.dialect == "postgresql":
            return (await tx.scalar(text("SHOW server_version"))).split()[0]
        return await tx.scalar(text("SELECT sqlite_version()"))


async def run(url: str, answers: int, args: argparse.Namespace) -> None:
    """Fills the database with `answers` answers (unless reused) and times the pages."""
    if not args.reuse:
        await reset(url)
    # The intake a default install uses (`Settings.from_env`): the journal on SQLite.
    settings = Settings(env="test", database_url=url, secret_key="k" * 40, public_url=None,
                        intake="journal" if url.startswith("sqlite") else "database",
                        spool_dir=Path(tempfile.mkdtemp(prefix="relais-bench-spool-")))
    relais = build(settings)
    await relais.prepare()
    try:
        if args.reuse:
            async with relais.db.read() as tx:
                associations = {a.name: a.id for a in await invites.all_associations(tx)}
        else:
            print(f"\nremplissage : {answers:,} réponses ({url.split(':')[0]})", flush=True)
            began = time.perf_counter()
            associations = await fill(relais, answers)
            filled = time.perf_counter() - began
            began = time.perf_counter()
            if relais.db.dialect == "postgresql":
                async with relais.db.engine.connect() as connection:
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await connection.execute(text("VACUUM ANALYZE"))
            elif args.analyze:
                async with relais.db.engine.begin() as connection:
                    await connection.execute(text("ANALYZE"))
            print(f"rempli en {filled:.0f} s (+ {time.perf_counter() - began:.0f} s "
                  f"d'ANALYZE)", flush=True)
            await first_pass(relais.db)
        async with relais.db.read() as tx:
            counts = dict((await tx.execute(text(
                "SELECT 'answers', count(*) FROM answers UNION ALL "
                "SELECT 'sessions', count(*) FROM consultation_sessions UNION ALL "
                "SELECT 'participants', count(*) FROM participants UNION ALL "
                "SELECT 'labels', count(*) FROM answer_labels"))).all())
        print(", ".join(f"{n:,} {name}" for name, n in counts.items()))
        print(f"{relais.db.dialect} {await database_version(relais.db)}")
        await measure(relais, associations, args.runs, args.slow_queries, args.only)
    finally:
        await relais.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="database URL (default: a new SQLite file, or "
                        "RELAIS_BENCH_DATABASE_URL for PostgreSQL)")
    parser.add_argument("--answers", default="1000000",
                        help="answers to fill, or several sizes timed one after the other "
                             "(100000,1000000)")
    parser.add_argument("--runs", type=int, default=10, help="timed requests per page")
    parser.add_argument("--reuse", action="store_true",
                        help="time an already filled database instead of filling it")
    parser.add_argument("--analyze", action="store_true",
                        help="on SQLite, run ANALYZE after filling (PostgreSQL always does)")
    parser.add_argument("--slow-queries", type=float, metavar="MS",
                        help="under a page slower than the target, list its SQL statements "
                             "that took at least MS milliseconds")
    parser.add_argument("--only", choices=("pages", "export"), help="time only these")
    args = parser.parse_args()
    url = args.url
    if url is None and args.database == "postgresql":
        url = os.environ.get("RELAIS_BENCH_DATABASE_URL")
        if not url:
            raise SystemExit("PostgreSQL : donnez --url ou RELAIS_BENCH_DATABASE_URL")
    if url is None:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='relais-bench-')}/admin.db"
    sizes = [int(size.replace("_", "")) for size in args.answers.split(",")]
    for size in sizes[:1] if args.reuse else sizes:
        await run(url, size, args)
    print(f"\nmachine: {machine()}")


if __name__ == "__main__":
    asyncio.run(main())
