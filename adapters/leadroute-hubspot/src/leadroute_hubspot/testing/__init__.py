"""A fake HubSpot portal for tests (install ``leadroute-hubspot[testing]``).

``FakeHubSpot.portal(...)`` builds a realistic portal behind a respx router;
``fake.installed()`` makes adapters built in the block (the CLI's too) talk to it on its
clock, without sleeping and without the network. Each behaviour follows a HubSpot
document, cited where it is implemented (``portal.py``, ``shapes.py``) and listed in
``docs/adapters/hubspot.md``.
"""

from __future__ import annotations

from leadroute_hubspot.testing.clock import FakeClock, Fault
from leadroute_hubspot.testing.portal import TOKEN, FakeHubSpot
from leadroute_hubspot.testing.shapes import rate_limit_body

__all__ = ["TOKEN", "FakeClock", "FakeHubSpot", "Fault", "rate_limit_body"]
