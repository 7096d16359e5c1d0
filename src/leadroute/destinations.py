"""Where credentials may be sent: the vendors' own hosts over HTTPS, and nothing else by default.

A policy file is edited by more people than hold the secrets, so the policy cannot decide
where a token or a client secret goes. An adapter checks each credential destination (an
API base URL, a login URL) with ``check_destination``: it passes when it is ``https`` on
one of the vendor's hosts, or when its origin is listed in an environment variable that
sits next to the secret (``HUBSPOT_TRUSTED_ORIGINS``, ``LEADROUTE_SALESFORCE_TRUSTED_ORIGINS``).
Whoever can set the secret can set that variable; whoever can only edit the policy cannot.

The check is strict on purpose: a URL with user info (``https://api.hubapi.com@evil``),
a backslash, a query, a fragment or a port other than 443 on a vendor host is refused
rather than interpreted, because HTTP clients and URL parsers disagree on such URLs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import attrs

from leadroute.errors import PolicyError

__all__ = ["Destination", "TrustedOrigins", "check_destination", "parse_url"]

# scheme :// host [:port] [/path]; nothing else (no user info, query, fragment, backslash).
_URL = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)"
    r"(?::(?P<port>[0-9]{1,5}))?(?P<path>(?:/[A-Za-z0-9._~-]*)*)",
)
_DEFAULT_PORTS = {"https": 443, "http": 80}


@attrs.frozen(kw_only=True)
class Destination:
    """A URL split into the parts the check looks at.

    Attributes:
        scheme: ``https`` or ``http``.
        host: Lower-case host name.
        port: The port (443 or 80 when the URL names none).
        path: The path, without a trailing slash.
    """

    scheme: str
    host: str
    port: int
    path: str

    @property
    def origin(self) -> str:
        """``scheme://host`` with the port only when it is not the scheme's default."""
        port = "" if self.port == _DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"

    @property
    def url(self) -> str:
        """The normalised URL (origin and path)."""
        return self.origin + self.path


def parse_url(text: str) -> Destination | None:
    """The parts of a plain ``http(s)://host[:port][/path]`` URL; None for anything else."""
    match = _URL.fullmatch(text.strip().lower() if "://" in text else "")
    if match is None:
        return None
    scheme = match["scheme"]
    port = int(match["port"]) if match["port"] else _DEFAULT_PORTS[scheme]
    if not 0 < port < 65536 or ".." in match["host"]:
        return None
    # Paths are case-sensitive: take them from the original text, not the lowered copy.
    start = len(text.strip()) - len(match["path"])
    path = text.strip()[start:].rstrip("/")
    return Destination(scheme=scheme, host=match["host"], port=port, path=path)


@attrs.frozen
class TrustedOrigins:
    """Extra credential destinations an operator allowed in the environment.

    Attributes:
        variable: The environment variable they came from (named in errors).
        origins: Exact origins (``https://proxy.internal:8443``, ``http://127.0.0.1:4010``).
        domains: Domain suffixes (``.salesforce.mil``): any ``https`` host under them.
    """

    variable: str
    origins: frozenset[str] = frozenset()
    domains: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str], variable: str) -> TrustedOrigins:
        """Read a comma- or space-separated list; a malformed entry is one clear error."""
        origins: set[str] = set()
        domains: list[str] = []
        for entry in re.split(r"[,\s]+", env.get(variable, "").strip()):
            if not entry:
                continue
            if entry.startswith(".") and parse_url("https://x" + entry.lower()) is not None:
                domains.append(entry.lower())
                continue
            parsed = parse_url(entry)
            if parsed is None or parsed.path:
                raise PolicyError(
                    f"{variable}: {entry!r} is neither an origin (https://host[:port]) "
                    "nor a domain starting with a dot (.example.gov)"
                )
            origins.add(parsed.origin)
        return cls(variable, frozenset(origins), tuple(domains))

    def allows(self, destination: Destination) -> bool:
        """Whether the operator listed this destination's origin or an https domain over it."""
        if destination.origin in self.origins:
            return True
        return (
            destination.scheme == "https"
            and destination.port == 443
            and any(destination.host.endswith(domain) for domain in self.domains)
        )


def check_destination(
    url: str,
    *,
    vendor: Callable[[str], bool],
    vendor_hosts: str,
    trusted: TrustedOrigins,
    path: str,
    allow_path: bool = False,
) -> Destination:
    """``url`` checked as a place to send credentials; ``PolicyError`` naming ``path`` if not.

    It passes when it is ``https`` on the default port of a host ``vendor`` accepts, with
    no path unless ``allow_path``, or when ``trusted`` lists its origin. ``vendor_hosts``
    describes the vendor's hosts for the error message. The refused URL is not echoed
    (a policy may put anything there); the message says what is allowed and how to allow
    more.
    """
    parsed = parse_url(url)
    if parsed is not None and trusted.allows(parsed):
        return parsed
    if (
        parsed is not None
        and parsed.scheme == "https"
        and parsed.port == 443
        and vendor(parsed.host)
        and (allow_path or not parsed.path)
    ):
        return parsed
    raise PolicyError(
        f"credentials are only sent over https to {vendor_hosts}; to send them anywhere "
        f"else, list that origin in the environment variable {trusted.variable} "
        "(next to the secret, never in the policy)",
        path=path,
    )
