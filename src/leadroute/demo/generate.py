"""Generate Northwind Analytics: reps, accounts, leads and events as CSV, plus the policy.

Everything comes from ``random.Random(seed)`` and a fixed ``now``, so the same seed gives
byte-identical files. The data tables below are the company; the edge cases at the end
are placed deliberately and listed in ``EDGE_CASES`` so tests and docs can find them.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import attrs

from leadroute.files import write_bytes_atomic, write_text_atomic

__all__ = ["DEFAULT_NOW", "EDGE_CASES", "DemoFiles", "write_demo"]

DEFAULT_NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

LEAD_HEADER = (
    "id",
    "email",
    "name",
    "company",
    "website",
    "country",
    "state",
    "employees",
    "language",
    "product",
    "lead_type",
    "source",
    "created_at",
    "owner",
    "phone",
    "industry",
)
EVENT_HEADER = ("lead_id", "kind", "at", "count")
REP_HEADER = (
    "id",
    "name",
    "email",
    "active",
    "timezone",
    "territories",
    "languages",
    "segments",
    "products",
    "capacity",
    "weight",
    "backup",
    "pools",
    "open_leads",
)
ACCOUNT_HEADER = ("id", "name", "domain", "owner", "status")

BOTH = "analytics;data-platform"

# id, name, active, timezone, territories, languages, segments, products, capacity,
# weight, backup, pools, open_leads
# fmt: off
REPS: tuple[tuple[str, ...], ...] = (
    ("rep-001", "Maya Chen", "true", "America/New_York", "NA", "en;es", "smb", BOTH, "40", "1", "rep-002", "na-smb", "18"),
    ("rep-002", "Jordan Ellis", "true", "America/Chicago", "NA", "en", "smb", BOTH, "40", "1", "rep-001", "na-smb", "22"),
    ("rep-003", "Priya Raman", "true", "America/Los_Angeles", "NA", "en", "smb", "analytics", "35", "1", "rep-004", "na-smb", "14"),
    ("rep-004", "Sam Okafor", "true", "America/Toronto", "NA", "en;fr", "smb", BOTH, "30", "1", "rep-003", "na-smb", "30"),
    ("rep-005", "Lena Novak", "true", "America/New_York", "NA", "en", "smb", BOTH, "45", "0.5", "rep-001", "na-smb", "9"),
    ("rep-006", "Marcus Reid", "true", "America/New_York", "NA", "en", "enterprise", BOTH, "25", "1.5", "rep-007", "na-enterprise", "12"),
    ("rep-007", "Hannah Brooks", "true", "America/Chicago", "NA", "en", "enterprise", BOTH, "25", "1", "rep-006", "na-enterprise", "15"),
    ("rep-008", "Diego Alvarez", "true", "America/Los_Angeles", "NA", "en;es", "enterprise", "data-platform", "20", "1", "rep-006", "na-enterprise", "8"),
    ("rep-009", "Grace Kim", "true", "America/New_York", "NA", "en", "enterprise", BOTH, "25", "1", "rep-007", "na-enterprise", "11"),
    ("rep-010", "Oliver Hughes", "true", "Europe/London", "GB;IE;NL;BE;SE;DK;NO;FI", "en", "smb", BOTH, "40", "1", "rep-011", "emea-smb", "17"),
    ("rep-011", "Sofia Rossi", "true", "Europe/Rome", "EMEA", "en;it;es", "smb", BOTH, "40", "1", "rep-010", "emea-smb", "21"),
    ("rep-012", "Lukas Berg", "true", "Europe/Stockholm", "EMEA", "en", "smb;enterprise", BOTH, "35", "1", "rep-010", "emea-smb", "19"),
    ("rep-013", "Anna Kowalska", "true", "Europe/Warsaw", "EMEA", "en;de;pl", "smb", "analytics", "35", "1", "rep-014", "emea-smb", "12"),
    ("rep-014", "Felix Wagner", "true", "Europe/Berlin", "DE;AT;CH", "de;en", "smb;enterprise", BOTH, "50", "1", "rep-013", "emea-smb;emea-enterprise", "20"),
    ("rep-015", "Camille Laurent", "true", "Europe/Paris", "FR;BE;CH", "fr;en", "smb", BOTH, "35", "1", "rep-017", "emea-smb", "10"),
    ("rep-016", "James Whitfield", "true", "Europe/London", "EMEA", "en", "enterprise", BOTH, "25", "1.5", "rep-017", "emea-enterprise", "13"),
    ("rep-017", "Élodie Martin", "true", "Europe/Paris", "EMEA", "en;fr", "enterprise", BOTH, "25", "1", "rep-016", "emea-enterprise", "9"),
    ("rep-018", "Niels de Vries", "true", "Europe/Amsterdam", "EMEA", "en;de", "enterprise", "data-platform", "20", "1", "rep-016", "emea-enterprise", "7"),
    ("rep-019", "Aiko Tanaka", "true", "Asia/Tokyo", "APAC", "ja;en", "", BOTH, "30", "1", "rep-020", "apac-all", "11"),
    ("rep-020", "Liam O'Connor", "true", "Australia/Sydney", "APAC", "en", "", BOTH, "30", "1", "rep-021", "apac-all", "16"),
    ("rep-021", "Ravi Menon", "true", "Asia/Kolkata", "APAC", "en", "", "analytics", "30", "1", "rep-020", "apac-all", "10"),
    ("rep-022", "Noah Fischer", "true", "Europe/Berlin", "", "en;de", "", BOTH, "40", "1", "rep-099", "partners", "6"),
    ("rep-023", "Carlos Mendes", "false", "America/New_York", "NA", "en;es", "smb", BOTH, "40", "1", "rep-001", "na-smb", "0"),
    ("rep-024", "Ingrid Larsen", "false", "Europe/Oslo", "EMEA", "en", "enterprise", BOTH, "25", "1", "rep-016", "emea-enterprise", "0"),
    ("rep-025", "Wei Zhang", "false", "Asia/Singapore", "APAC", "en;zh", "", BOTH, "30", "1", "rep-019", "apac-all", "0"),
    ("rep-099", "Riley Park (RevOps queue)", "true", "America/New_York", "", "", "", "", "", "1", "", "", "0"),
    ("rep-098", "Morgan Blake (Marketing nurture)", "true", "America/New_York", "", "", "", "", "", "1", "", "", "0"),
)
# fmt: on

# country, weight, state choices, language mix
COUNTRIES: dict[str, tuple[tuple[str, int, tuple[str, ...], tuple[tuple[str, int], ...]], ...]] = {
    "NA": (
        ("US", 85, ("CA", "NY", "TX", "WA", "MA", "IL", "GA", "CO"), (("en", 92), ("es", 8))),
        ("CA", 15, ("ON", "BC", "QC"), (("en", 80), ("fr", 20))),
    ),
    "EMEA": (
        ("GB", 30, (), (("en", 100),)),
        ("DE", 22, (), (("de", 80), ("en", 20))),
        ("FR", 14, (), (("fr", 75), ("en", 25))),
        ("NL", 8, (), (("en", 100),)),
        ("IE", 5, (), (("en", 100),)),
        ("AT", 4, (), (("de", 90), ("en", 10))),
        ("CH", 4, (), (("de", 70), ("fr", 20), ("en", 10))),
        ("ES", 4, (), (("es", 60), ("en", 40))),
        ("IT", 4, (), (("it", 60), ("en", 40))),
        ("SE", 3, (), (("en", 100),)),
        ("PL", 2, (), (("pl", 50), ("en", 50))),
    ),
    "APAC": (
        ("AU", 45, (), (("en", 100),)),
        ("SG", 20, (), (("en", 100),)),
        ("IN", 20, (), (("en", 100),)),
        ("JP", 15, (), (("ja", 70), ("en", 30))),
    ),
}
REGION_WEIGHTS = (("NA", 45), ("EMEA", 40), ("APAC", 15))
SIZE_BANDS = ((5, 49, 35), (50, 199, 33), (200, 999, 22), (1000, 20000, 10))
LEAD_TYPES = (
    ("demo", 24),
    ("contact", 20),
    ("content", 26),
    ("trial", 16),
    ("quote", 10),
    ("partner", 4),
)
SOURCES = {
    "demo": ("web", "paid_search", "organic"),
    "contact": ("web", "organic", "event"),
    "content": ("organic", "paid_search", "web"),
    "trial": ("web", "paid_search"),
    "quote": ("web", "outbound"),
    "partner": ("partner",),
}

FIRST = (
    "Alex",
    "Morgan",
    "Taylor",
    "Jamie",
    "Chris",
    "Pat",
    "Sasha",
    "Robin",
    "Kai",
    "Noor",
    "Elena",
    "Tomás",
    "Ines",
    "Yuki",
    "Arjun",
    "Zoe",
    "Leo",
    "Mia",
    "Omar",
    "Freya",
    "Hugo",
    "Lars",
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Emil",
    "Fatima",
    "Gabe",
    "Ivy",
)
LAST = (
    "Smith",
    "Garcia",
    "Müller",
    "Dubois",
    "Rossi",
    "Nguyen",
    "Patel",
    "Jensen",
    "Kowalski",
    "Silva",
    "Brown",
    "Schmidt",
    "Moreau",
    "Sato",
    "Iyer",
    "Walsh",
    "Berg",
    "Costa",
    "Novak",
    "Clarke",
    "Fischer",
    "Bianchi",
    "Lopez",
    "Ahmed",
    "Kim",
    "Larsen",
)
WORDS = (
    "Blue",
    "North",
    "Bright",
    "Iron",
    "Cedar",
    "Summit",
    "Harbor",
    "Vector",
    "Pine",
    "Atlas",
    "Nova",
    "Quartz",
    "River",
    "Falcon",
    "Granite",
    "Orbit",
    "Maple",
    "Silver",
    "Crescent",
    "Beacon",
    "Lumen",
    "Apex",
    "Meridian",
    "Willow",
    "Cobalt",
    "Ember",
)
TRADES = (
    "Logistics",
    "Foods",
    "Health",
    "Robotics",
    "Retail",
    "Energy",
    "Labs",
    "Finance",
    "Media",
    "Systems",
    "Outdoor",
    "Pharma",
    "Mobility",
    "Textiles",
    "Analytics",
    "Games",
)
# The industry a company's trade word says it is in (no random draw: the name decides).
INDUSTRIES = {
    "Logistics": "logistics",
    "Foods": "food",
    "Health": "healthcare",
    "Robotics": "manufacturing",
    "Retail": "retail",
    "Energy": "energy",
    "Labs": "research",
    "Finance": "fintech",
    "Media": "media",
    "Systems": "software",
    "Outdoor": "retail",
    "Pharma": "healthcare",
    "Mobility": "transport",
    "Textiles": "manufacturing",
    "Analytics": "software",
    "Games": "media",
}


def industry_of(company: str) -> str:
    """The industry of a generated company name (``Blue Finance Inc.`` -> ``fintech``), or ``""``."""
    words = "".join(ch if ch.isalnum() else " " for ch in company.title()).split()
    return next((INDUSTRIES[w] for w in words if w in INDUSTRIES), "")


TLDS = {
    "US": "com",
    "CA": "ca",
    "GB": "co.uk",
    "DE": "de",
    "FR": "fr",
    "NL": "nl",
    "IE": "ie",
    "AT": "at",
    "CH": "ch",
    "ES": "es",
    "IT": "it",
    "SE": "se",
    "PL": "pl",
    "AU": "com.au",
    "SG": "sg",
    "IN": "in",
    "JP": "jp",
}
REGION_OWNERS = {
    "NA": ("rep-001", "rep-002", "rep-006", "rep-007", "rep-009"),
    "EMEA": ("rep-010", "rep-011", "rep-014", "rep-016", "rep-017"),
    "APAC": ("rep-019", "rep-020"),
}

# Lead ids of the deliberate edge cases, and what the demo policy does with each.
EDGE_CASES: dict[str, tuple[str, ...]] = {
    "free_email_demo": ("L-0011", "L-0012"),  # gmail/yahoo on a demo form: routed by rules
    "existing_customer": ("L-0021", "L-0022"),  # customer account, active owner: owner
    "inactive_account_owner": ("L-0031",),  # owner inactive: the owner's backup
    "unknown_country": ("L-0041", "L-0042"),  # no region: fallback queue
    "german_speaker": ("L-0051", "L-0052"),  # DE, German: a German-speaking rep
    "missing_email": ("L-0061",),  # no email: rejected by validation
    "bad_employees": ("L-0071",),  # employees "lots": bad row
    "unknown_owner": ("L-0081",),  # owner rep-999: bad row
    "partner": ("L-0091", "L-0092"),  # partner form: partners pool
    "already_owned": ("L-0101", "L-0102", "L-0103"),  # owned by an active rep: kept
    "owned_by_inactive": ("L-0111",),  # owned by an inactive rep: rerouted
    # Intake quality (placed by _place_intake_cases, events by _events):
    "uk_phone": ("L-0121",),  # "+44 (0)20 ..." phone: normalized, no problem
    "uk_spellings": ("L-0131", "L-0132", "L-0133"),  # UK / United Kingdom / GB: EMEA as GB
    "crosses_mql": ("L-0141",),  # content lead whose events make it an MQL: sales pool
    "content_nurture": ("L-0142",),  # content lead below MQL: nurture queue
    "unknown_source": ("L-0151",),  # source "referral" is not a known source: flagged
    "bad_phone": ("L-0161",),  # phone "12345": flagged INVALID_PHONE, routed
    "invalid_email": ("L-0171",),  # "jane@@..." : rejected INVALID_EMAIL
    # Outcome reporting (activity.csv is written after routing, by leadroute.demo.activity):
    "declined_by_owner": ("L-0181",),  # the owner rejects it and still holds it
}

# --- Intake quality: duplicates and lead-to-account matching (placed by
# _place_matching_cases; the demo policy's `duplicates` section decides the actions).
EDGE_CASES |= {
    # L-0181 again as L-0182 (upper case, +tag: contact -> notify_owner) and L-0183
    # (content -> append): one owner for all three.
    "duplicate_email": ("L-0181", "L-0182", "L-0183"),
    # One UK number written "+44 (0)20 ..." and "020 ...": the demo request reassigns and
    # the earlier record follows.
    "duplicate_phone": ("L-0191", "L-0192"),
    "subdomain_account": ("L-0201",),  # jo@eu.<customer domain>: the account owner
    "name_only_account": ("L-0211",),  # "<NAME>, Incorporated" on another domain: by name
    "gmail_customer": ("L-0221",),  # gmail + a customer's company name: never by domain
}


@attrs.frozen(kw_only=True)
class DemoFiles:
    """Where ``write_demo`` put the sample.

    Attributes:
        policy: The demo ``leadroute.yaml``.
        leads: ``leads.csv``.
        reps: ``reps.csv``.
        accounts: ``accounts.csv``.
        events: ``events.csv`` (behaviour events for scoring).
    """

    policy: Path
    leads: Path
    reps: Path
    accounts: Path
    events: Path


def _pick(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


# Accounts and new leads draw company names from disjoint words, so a new lead matches an
# account only where the generator means it to (the leads built from an account).
ACCOUNT_WORDS, LEAD_WORDS = WORDS[::2], WORDS[1::2]


def _company(rng: random.Random, words: Sequence[str]) -> str:
    return f"{rng.choice(words)} {rng.choice(TRADES)}"


def _slug(company: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in company.lower()).strip("-")


def _size(rng: random.Random) -> int:
    low, high, _ = rng.choices(SIZE_BANDS, weights=[w for *_, w in SIZE_BANDS])[0]
    return rng.randint(low, high)


def _rep_rows() -> list[tuple[str, ...]]:
    rows = []
    for rep in REPS:
        rep_id, name = rep[0], rep[1]
        first = name.split(" ")[0].lower().replace("é", "e")
        email = f"{first}.{rep_id[-3:]}@northwind-analytics.com"
        rows.append((rep_id, name, email, *rep[2:]))
    return rows


def _accounts(rng: random.Random) -> list[tuple[str, str, str, str, str, str]]:
    """(id, name, domain, owner, status, region) for about 40 accounts."""
    names: set[str] = set()
    accounts = []
    for i in range(1, 41):
        region = _pick(rng, REGION_WEIGHTS)
        country = _pick(rng, [(c, w) for c, w, *_ in COUNTRIES[region]])
        name = _company(rng, ACCOUNT_WORDS)
        while name in names:
            name = _company(rng, ACCOUNT_WORDS)
        names.add(name)
        domain = f"{_slug(name)}.{TLDS[country]}"
        owner = rng.choice(REGION_OWNERS[region])
        status = "customer" if rng.random() < 0.6 else "prospect"
        accounts.append((f"ACC-{i:03d}", name, domain, owner, status, country))
    # Two accounts belong to reps who have left: their leads test the backup path.
    accounts[3] = (*accounts[3][:3], "rep-023", "customer", accounts[3][5])
    accounts[7] = (*accounts[7][:3], "rep-024", "customer", accounts[7][5])
    return accounts


def _region_of(country: str) -> str:
    return next(r for r, rows in COUNTRIES.items() if any(c == country for c, *_ in rows))


def _lead(
    rng: random.Random, index: int, now: datetime, accounts: Sequence[tuple[str, ...]]
) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = f"{first}.{last}".lower().replace("ü", "ue").replace("á", "a")
    lead_type = _pick(rng, LEAD_TYPES)
    from_account = rng.random() < 0.1
    if from_account:
        account = rng.choice(accounts)
        country = account[5]
        company = rng.choice(
            (account[1], account[1].upper(), f"{account[1]} Inc.", f"{account[1]}, Ltd")
        )
        domain = account[2]
    else:
        region = _pick(rng, REGION_WEIGHTS)
        country = _pick(rng, [(c, w) for c, w, *_ in COUNTRIES[region]])
        company = _company(rng, LEAD_WORDS)
        domain = f"{_slug(company)}-{index}.{TLDS[country]}"
    _, _, states, languages = next(
        row for row in COUNTRIES[_region_of(country)] if row[0] == country
    )
    created = now - timedelta(minutes=rng.randint(5, 3 * 24 * 60))
    return {
        "id": f"L-{index:04d}",
        "email": f"{local}@{domain}",
        "name": f"{first} {last}",
        "company": company,
        "website": f"https://www.{domain}" if rng.random() < 0.6 else "",
        "country": country,
        "state": rng.choice(states) if states else "",
        "employees": str(_size(rng)),
        "language": _pick(rng, languages),
        "product": "data-platform" if rng.random() < 0.35 else "analytics",
        "lead_type": lead_type,
        "source": rng.choice(SOURCES[lead_type]),
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "owner": "",
    }


def _place_edge_cases(
    leads: dict[str, dict[str, str]], accounts: Sequence[tuple[str, ...]]
) -> None:
    """Overwrite the edge-case leads so each shows exactly the situation it is named for."""
    new_company = {"company": "Lone Pine Consulting", "website": ""}
    leads["L-0011"] |= {"email": "sam.rivera@gmail.com", "lead_type": "demo", **new_company}
    leads["L-0012"] |= {
        "email": "kim.osei@yahoo.com",
        "lead_type": "demo",
        "company": "Osei Family Dental",
        "website": "",
    }
    customers = [a for a in accounts if a[4] == "customer" and a[3] not in ("rep-023", "rep-024")]
    for lead_id, account in zip(EDGE_CASES["existing_customer"], customers, strict=False):
        leads[lead_id] |= {
            "email": f"buyer@{account[2]}",
            "company": account[1],
            "country": account[5],
            "lead_type": "quote",
            "owner": "",
        }
    gone = accounts[3]
    leads["L-0031"] |= {
        "email": f"ops@{gone[2]}",
        "company": gone[1],
        "country": gone[5],
        "lead_type": "contact",
    }
    leads["L-0041"] |= {
        "country": "XX",
        "state": "",
        "lead_type": "contact",
        **new_company,
        "email": "info@lonepine.example",
    }
    leads["L-0042"] |= {
        "country": "",
        "state": "",
        "lead_type": "contact",  # a content lead would go to nurture before the rules
        **new_company,
        "email": "hello@lonepine.example",
    }
    for lead_id in EDGE_CASES["german_speaker"]:
        leads[lead_id] |= {
            "country": "DE",
            "state": "",
            "language": "de",
            "employees": "60",
            "product": "analytics",
            "lead_type": "demo",
            "owner": "",
            "company": "Weiss Maschinenbau",
            "website": "",
            "email": f"{lead_id.lower()}@weiss-maschinenbau.de",
        }
    leads["L-0061"] |= {"email": ""}
    leads["L-0071"] |= {"employees": "lots"}
    leads["L-0081"] |= {"owner": "rep-999"}
    for lead_id in EDGE_CASES["partner"]:
        leads[lead_id] |= {"lead_type": "partner", "source": "partner", "language": "en"}
    for lead_id, owner in zip(
        EDGE_CASES["already_owned"], ("rep-002", "rep-011", "rep-020"), strict=True
    ):
        leads[lead_id] |= {"owner": owner}
    leads["L-0111"] |= {
        "owner": "rep-024",
        "country": "GB",
        "language": "en",
        "employees": "40",
        "lead_type": "trial",
    }


# --------------------------------------------------------------------------- intake quality
# Phones and events come from their own random stream, so adding them left every other
# generated value as it was.

EVENT_KINDS = (("page_visit", 50), ("content_download", 25), ("pricing_page", 15), ("webinar", 10))
PHONE_FORMATS = {
    "US": "+1 (415) 555-01{:02d}",
    "CA": "+1 416-555-01{:02d}",
    "GB": "+44 (0)20 7946 09{:02d}",
    "DE": "+49 30 901820{:02d}",
    "FR": "+33 1 42 68 53 {:02d}",
}


def _phones(rng: random.Random, leads: dict[str, dict[str, str]]) -> None:
    for lead in leads.values():
        pattern = PHONE_FORMATS.get(lead["country"])
        lead["phone"] = pattern.format(rng.randint(0, 99)) if pattern and rng.random() < 0.5 else ""


def _events(
    rng: random.Random, leads: dict[str, dict[str, str]], now: datetime
) -> list[tuple[str, str, str, str]]:
    """Behaviour events for about half of the ordinary leads (never for the edge cases)."""
    special = {lead_id for ids in EDGE_CASES.values() for lead_id in ids}
    rows = []
    for lead_id in leads:
        if lead_id in special or rng.random() < 0.5:
            continue
        for _ in range(rng.randint(1, 4)):
            kind = _pick(rng, EVENT_KINDS)
            at = now - timedelta(hours=rng.randint(1, 40 * 24))
            count = rng.randint(1, 6) if kind == "page_visit" else 1
            rows.append((lead_id, kind, _iso(at), str(count)))
    # The lead that crosses the MQL threshold in this very request: a pricing-page visit
    # last week and a demo request a minute before the run.
    rows += [
        ("L-0141", "pricing_page", _iso(now - timedelta(days=7)), "2"),
        ("L-0141", "demo_request", _iso(now - timedelta(minutes=1)), "1"),
        # A row the exception report must show (line-numbered), not drop.
        ("L-0142", "page_visit", "last tuesday", "1"),
    ]
    return rows


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _place_intake_cases(leads: dict[str, dict[str, str]]) -> None:
    """Overwrite the intake-quality leads; each is a new company so no account claims it."""

    def new(lead_id: str, company: str, **fields: str) -> None:
        slug = _slug(company)
        leads[lead_id] |= {
            "company": company,
            "website": "",
            "email": f"{lead_id.lower()}@{slug}.co.uk",
            "country": "GB",
            "state": "",
            "language": "en",
            "employees": "40",
            "product": "analytics",
            "lead_type": "contact",
            "source": "web",
            "owner": "",
            "phone": "",
            **fields,
        }

    new("L-0121", "Thames Ledger", phone="+44 (0)20 7946 0958")
    for lead_id, written in zip(
        EDGE_CASES["uk_spellings"], ("UK", "United Kingdom", "GB"), strict=True
    ):
        new(lead_id, f"Albion Works {lead_id[-1]}", country=written)
    new("L-0141", "Quarry Lane Data", lead_type="content", source="organic")
    new("L-0142", "Quarry Lane Books", lead_type="content", source="organic")
    new("L-0151", "Referral Partners Ltd", source="referral")
    new("L-0161", "Short Number Co", phone="12345")
    new("L-0171", "Double At Ltd", email="jane@@double-at.co.uk")


def _place_matching_cases(
    leads: dict[str, dict[str, str]], accounts: Sequence[tuple[str, ...]], now: datetime
) -> None:
    """Overwrite the duplicate and account-matching leads (no random draws: other cases keep
    their data)."""
    # Random phones come from a small fictional range, so two ordinary leads may draw the
    # same number; one number is one person to duplicate detection, so only the first
    # ordinary lead with a number keeps it.
    special = {lead_id for ids in EDGE_CASES.values() for lead_id in ids}
    taken: set[str] = set()
    for lead_id, lead in leads.items():
        number = "".join(ch for ch in lead.get("phone", "") if ch.isdigit())
        if lead_id not in special and number and number in taken:
            lead["phone"] = ""
        taken.add(number)
    person = {
        "name": "Ana Lopez",
        "company": "Tidewater Freight",
        "website": "",
        "country": "US",
        "state": "WA",
        "employees": "80",
        "language": "en",
        "product": "analytics",
        "source": "web",
        "owner": "",
    }
    emails = (
        "ana.lopez@tidewater-freight.com",
        "Ana.Lopez+pricing@Tidewater-Freight.com",
        "ANA.LOPEZ+ebook@tidewater-freight.com",
    )
    # Created an hour apart, in id order: the demo routes leads as they arrive.
    for hours, (lead_id, email, lead_type) in enumerate(
        zip(EDGE_CASES["duplicate_email"], emails, ("demo", "contact", "content"), strict=True)
    ):
        created = _iso(now - timedelta(hours=8 - hours))
        leads[lead_id] |= {**person, "email": email, "lead_type": lead_type, "created_at": created}
    caller = {
        "company": "Harrow & Finch",
        "website": "",
        "country": "GB",
        "state": "",
        "employees": "45",
        "language": "en",
        "product": "analytics",
        "source": "web",
        "owner": "",
    }
    leads["L-0191"] |= {
        **caller,
        "name": "Tom Harrow",
        "email": "tom@harrowfinch.co.uk",
        "phone": "+44 (0)20 7946 0321",
        "lead_type": "contact",
        "created_at": _iso(now - timedelta(hours=4)),
    }
    leads["L-0192"] |= {
        **caller,
        "name": "T. Harrow",
        "email": "t.harrow.office@outlook.com",
        "phone": "020 7946 0321",
        "lead_type": "demo",
        "created_at": _iso(now - timedelta(hours=3)),
    }
    customers = [a for a in accounts if a[4] == "customer" and a[3] not in ("rep-023", "rep-024")]
    sub, by_name, gmail = customers[2], customers[3], customers[4]
    leads["L-0201"] |= {
        "email": f"jo.finance@eu.{sub[2]}",
        "company": sub[1],
        "country": sub[5],
        "lead_type": "quote",
        "owner": "",
    }
    leads["L-0211"] |= {
        "email": "buyer@procurement-partners.net",
        "company": f"{by_name[1].upper()}, Incorporated",
        "website": "",
        "country": by_name[5],
        "lead_type": "quote",
        "owner": "",
    }
    leads["L-0221"] |= {
        "email": "casey.morgan@gmail.com",
        "company": gmail[1],
        "website": "",
        "country": gmail[5],
        "lead_type": "demo",
        "owner": "",
    }


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def write_demo(directory: Path, *, seed: int = 7, now: datetime | None = None) -> DemoFiles:
    """Write the demo policy and CSVs into ``directory`` (created if needed)."""
    now = now or DEFAULT_NOW
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(
        policy=directory / "leadroute.yaml",
        leads=directory / "leads.csv",
        reps=directory / "reps.csv",
        accounts=directory / "accounts.csv",
        events=directory / "events.csv",
    )
    write_bytes_atomic(
        files.policy, resources.files(__package__).joinpath("leadroute.yaml").read_bytes()
    )
    _write(files.reps, REP_HEADER, _rep_rows())
    accounts = _accounts(rng)
    _write(files.accounts, ACCOUNT_HEADER, [a[:5] for a in accounts])
    leads = {f"L-{i:04d}": _lead(rng, i, now, accounts) for i in range(1, 301)}
    _place_edge_cases(leads, accounts)
    intake_rng = random.Random(seed * 7919 + 1)
    _phones(intake_rng, leads)
    _place_intake_cases(leads)
    _place_matching_cases(leads, accounts, now)
    for lead in leads.values():
        lead["industry"] = industry_of(lead["company"])
    _write(files.leads, LEAD_HEADER, [[lead[c] for c in LEAD_HEADER] for lead in leads.values()])
    _write(files.events, EVENT_HEADER, _events(intake_rng, leads, now))
    return files
