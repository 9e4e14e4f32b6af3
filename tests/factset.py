"""A generated long document with facts to find, and paraphrased questions about them.

Shared by tests/test_index.py (recall assertion) and benchmarks/document.py
(the 300-page PDF). The filler reuses the facts' vocabulary and entity names,
so the keyword ranking has to prefer the passage that holds the *fact*, and
the questions use other word forms and synonyms than the fact sentences
("When will the lease for X end?" vs "The X lease terminates on ...").
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = (
    "Northwind Bluewater Cedarhill Ironbridge Silverlake Redstone Oakmont Granite Harbor Summit "
    "Riverside Pinecrest Stonegate Westfield Eastbrook Goldleaf Maplewood Brightwater Highland "
    "Lakeshore Fairview Kingsbury Ashford Thornbury Willowdale Copperfield Ravenscroft Elmhurst "
    "Foxglove Marlowe"
).split()
SECOND = (
    "Logistics Energy Foods Holdings Medical Textiles Robotics Shipping Pharma Analytics "
    "Construction Insurance Brewing Aviation Telecom Mining Publishing Ceramics Optics Marine"
).split()
PEOPLE_FIRST = (
    "Amelia Bruno Clara Dmitri Elena Farid Greta Hugo Ines Jonas Keiko Lars Mira Nadia Oscar "
    "Priya Quentin Rosa Stefan Tamsin Umar Vera Wendell Ximena Yusuf Zora"
).split()
PEOPLE_LAST = (
    "Varga Okafor Lindqvist Moreau Castellanos Novak Haddad Brennan Sato Kowalski Ferreira "
    "Albrecht Mensah Ivanova Delacroix Oyelaran Takahashi Barros Whitcombe Zielinski"
).split()
CITIES = (
    "Lisbon Rotterdam Tallinn Valencia Gdansk Leipzig Porto Bergen Turin Ghent Aarhus Bilbao "
    "Krakow Lyon Malmo Graz Utrecht Seville Brno Nantes"
).split()
MONTHS = (
    "January February March April May June July August September October November December"
).split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday".split()
INSURERS = "Allmark Civitas Meridian Norland Provia Sentinel Tessera Valora".split()

# (fact template, question templates): questions paraphrase, with other word forms.
RELATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "The lease of the {E} warehouse terminates on {date}.",
        (
            "When does the {E} warehouse lease terminate?",
            "When will the lease for the {E} warehouse end?",
        ),
    ),
    (
        "{P} was appointed chief financial officer of {E} in {year}.",
        (
            "When was {P} appointed as chief financial officer?",
            "In which year did {E} appoint {P} as its financial officer?",
        ),
    ),
    (
        "The main distribution centre of {E} is located in {city}.",
        (
            "Where is the {E} distribution centre located?",
            "In which city does {E} locate its main distribution center?",
        ),
    ),
    (
        "{E} paid a security deposit of {money} euros.",
        (
            "How much did {E} pay as a security deposit?",
            "What was the amount of the deposit paid by {E}?",
        ),
    ),
    (
        "The safety inspection of the {E} plant was completed by {P}.",
        (
            "Who completed the safety inspection of the {E} plant?",
            "Who inspected the {E} plant for safety?",
        ),
    ),
    (
        "{E} employs {n} engineers at its research campus.",
        (
            "How many engineers does {E} employ?",
            "How many engineers are employed by {E} on the research campus?",
        ),
    ),
    (
        "The supply agreement with {E} was signed on {date}.",
        (
            "When was the supply agreement with {E} signed?",
            "On what date did {E} sign the supply agreement?",
        ),
    ),
    (
        "Deliveries to {E} are scheduled every {day} morning.",
        (
            "On which day are deliveries to {E} scheduled?",
            "Which weekday does {E} receive its scheduled deliveries?",
        ),
    ),
    (
        "The penalty for late payment by {E} amounts to {pct} percent of the invoice.",
        (
            "What is the late payment penalty for {E}?",
            "How large is the penalty when {E} pays late?",
        ),
    ),
    (
        "{E} renewed its liability insurance policy with {insurer}.",
        (
            "Which insurer renewed the liability policy of {E}?",
            "With which company is the {E} liability insurance renewed?",
        ),
    ),
    (
        "The external audit of {E} found {n} discrepancies in the accounts.",
        (
            "How many discrepancies did the external audit of {E} find?",
            "How many account discrepancies were found when auditing {E}?",
        ),
    ),
    (
        "{E} relocated its headquarters to {city} in {year}.",
        (
            "Where did {E} relocate its headquarters?",
            "To which city is {E} relocating the headquarters?",
        ),
    ),
)

# Filler: the same domain words, the same entity names, no facts.
FILLER = (
    "The board of {E} reviewed the quarterly budget and asked for a revised forecast.",
    "Several warehouse leases in the region were discussed at the annual meeting.",
    "{E} reported that its supply agreements remain under review by the legal team.",
    "The committee noted that insurance premiums rose across the whole sector this year.",
    "Engineers from {E} presented a summary of the maintenance programme.",
    "According to the minutes, the inspection schedule will be published next quarter.",
    "{P} summarised the discussion and thanked the staff of {E} for their work.",
    "Payment terms for new customers follow the standard conditions in the annex.",
    "The audit committee met twice to examine the internal control framework.",
    "Headquarters staff attended a training session on data protection and records.",
    "{E} continues to evaluate options for expanding its distribution network.",
    "The finance team prepared a report on currency exposure and interest rates.",
    "No changes to the security arrangements were proposed during the period.",
    "The plant operated at full capacity for most of the reporting period.",
    "Deliveries were occasionally delayed by weather and by road works.",
    "A working group on procurement will report its findings to the directors.",
    "{P} noted that the deposit rules for tenants are set by the regional authority.",
    "The research campus hosted visitors from several partner universities.",
    "Officers of {E} confirmed that the accounts were prepared on a going concern basis.",
    "Management expects the new information system to be operational next year.",
    "The policy on travel expenses was simplified after feedback from employees.",
    "{E} and its subsidiaries share a common approach to risk management.",
    "The relocation of smaller offices is considered only when leases expire.",
    "Customers praised the reliability of the service in the annual survey.",
)


@dataclass(frozen=True)
class Fact:
    sentence: str
    question: str
    paragraph: int  # index of the paragraph that holds the sentence


@dataclass(frozen=True)
class FactDocument:
    paragraphs: list[str]  # paragraphs in order; pages group them
    facts: list[Fact]
    paragraphs_per_page: int

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    def pages(self) -> list[list[str]]:
        n = self.paragraphs_per_page
        return [self.paragraphs[i : i + n] for i in range(0, len(self.paragraphs), n)]


def _entity(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(SECOND)}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(PEOPLE_FIRST)} {rng.choice(PEOPLE_LAST)}"


def _values(rng: random.Random, entity: str | None = None) -> dict[str, str]:
    return {
        "E": entity or _entity(rng),
        "P": _person(rng),
        "date": f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.randint(2024, 2039)}",
        "year": str(rng.randint(1998, 2024)),
        "city": rng.choice(CITIES),
        "money": f"{rng.randint(2, 90) * 1000:,}",
        "n": str(rng.randint(3, 480)),
        "day": rng.choice(DAYS),
        "pct": str(rng.randint(2, 15)),
        "insurer": rng.choice(INSURERS),
    }


def generate(
    pages: int = 300,
    facts: int = 240,
    *,
    words_per_page: int = 500,
    seed: int = 7,
) -> FactDocument:
    """Paragraphs of filler with ``facts`` fact sentences placed at random paragraphs."""
    rng = random.Random(seed)
    paragraphs_per_page = 5
    words_per_paragraph = words_per_page // paragraphs_per_page
    total = pages * paragraphs_per_page
    entities = [f"{a} {b}" for a in FIRST for b in SECOND]
    rng.shuffle(entities)
    fact_entities = entities[:facts]
    slots = rng.sample(range(total), min(facts, total))
    fact_at: dict[int, tuple[str, str]] = {}
    out_facts: list[Fact] = []
    for i, (slot, entity) in enumerate(zip(slots, fact_entities, strict=False)):
        template, questions = RELATIONS[i % len(RELATIONS)]
        values = _values(rng, entity)
        sentence = template.format(**values)
        question = questions[(i // len(RELATIONS)) % len(questions)].format(**values)
        fact_at[slot] = (sentence, question)
        out_facts.append(Fact(sentence, question, slot))
    paragraphs: list[str] = []
    for p in range(total):
        sentences: list[str] = []
        words = 0
        while words < words_per_paragraph:
            s = rng.choice(FILLER).format(**_values(rng, rng.choice(fact_entities)))
            sentences.append(s)
            words += len(s.split())
        if p in fact_at:
            sentences.insert(rng.randrange(len(sentences) + 1), fact_at[p][0])
        paragraphs.append(" ".join(sentences))
    out_facts.sort(key=lambda f: f.paragraph)
    return FactDocument(paragraphs, out_facts, paragraphs_per_page)
