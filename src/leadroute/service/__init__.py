"""``leadroute serve``: the live service (Starlette on uvicorn).

``Service`` holds the routing state, the notifier, the relay and the SLA scheduler;
``create_app(service)`` is the ASGI application over it.
"""

from __future__ import annotations

from leadroute.service.app import create_app, decision_body
from leadroute.service.runtime import Service

__all__ = ["Service", "create_app", "decision_body"]
