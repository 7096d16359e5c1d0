"""Derive routing fields every policy relies on: email domain, region and segment.

The segment is the first of the policy's ``segments`` whose bands (employees, ``revenue``,
``score``) hold the lead.

``domain`` is the email's registrable domain (``jane@eu.acme.co.uk`` -> ``acme.co.uk``),
so rules and account matching see the company, not the mail server's subdomain.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from leadroute.host import hookimpl
from leadroute.models import Lead
from leadroute.normalize import registrable_domain
from leadroute.policy import Policy


def email_domain(email: str) -> str:
    """The lower-case domain of an email address, ``""`` when there is none."""
    _, at, domain = email.strip().rpartition("@")
    return domain.strip().lower().rstrip(".") if at and domain else ""


def website_domain(website: str) -> str:
    """The lower-case host of a website without ``www.`` (``https://www.Acme.com/x`` -> ``acme.com``)."""
    text = website.strip().lower()
    if not text:
        return ""
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return host.removeprefix("www.")


@hookimpl
def leadroute_enrich_lead(lead: Lead, policy: Policy) -> Mapping[str, str]:
    """Add ``domain``, ``website_domain``, ``region`` and ``segment`` when they can be derived.

    Both domains are registrable domains where the public suffix list knows one, else
    the plain host.
    """
    return {
        "domain": registrable_domain(lead.email) or email_domain(lead.email),
        "website_domain": registrable_domain(lead.website) or website_domain(lead.website),
        "region": policy.region_of(lead.country),
        "segment": policy.segment_for(lead),
    }
