"""The ASGI application (Starlette): intake, webhooks, outcomes, health and metrics.

``create_app(service)`` is the factory; its lifespan starts the relay and SLA loops and,
on shutdown (uvicorn stops accepting and lets in-flight requests finish first), asks them
to finish their current pass and closes the store. Every endpoint does its blocking work
(store, CRM) in a worker thread. Errors are ``application/problem+json``; an unexpected
exception is logged by type and answered with a plain 500 problem, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from leadroute.engine import Verdict
from leadroute.errors import AuthError, LeadrouteError, UserInputError
from leadroute.logs import get_logger
from leadroute.models import Decision, Outcome, OutcomeKind
from leadroute.service.leads import Submission, lead_from_fields, parse_submission
from leadroute.service.metrics import Metrics
from leadroute.service.problems import FieldProblem, ProblemError, problem
from leadroute.service.requests import api_key_scope, check_api_key, read_body
from leadroute.service.runtime import Service
from leadroute.service.salesforce import (
    ACK,
    ORG_ENV,
    SECRET_ENV,
    parse_flow,
    parse_outbound,
    verify_secret,
)
from leadroute.store.database import MIGRATIONS
from leadroute.store.intake import idempotent_response, mark_events, save_response, unseen_events

__all__ = ["create_app"]

log = get_logger(__name__)

Handler = Callable[[Request], Awaitable[Response]]
OUTCOME_KINDS = {
    OutcomeKind.ACCEPTED,
    OutcomeKind.REJECTED,
    OutcomeKind.FIRST_TOUCH,
    OutcomeKind.MEETING_BOOKED,
    OutcomeKind.CONVERTED,
}
MAX_OUTCOMES = 100


def decision_body(decision: Decision, *, replayed: bool) -> dict[str, Any]:
    """What a caller learns about a decision (ids, owner or queue, step, deadlines)."""
    return {
        "lead_id": decision.lead_id,
        "decision_id": decision.id,
        "epoch": decision.epoch,
        "status": str(decision.status),
        "owner_id": decision.owner_id,
        "queue": decision.queue,
        "step": str(decision.step),
        "rule": decision.rule,
        "pool": decision.pool,
        "reason": decision.reason,
        "lead_type": decision.lead_type,
        "sla_due_at": decision.sla_due_at.isoformat() if decision.sla_due_at else None,
        "escalate_at": decision.escalate_at.isoformat() if decision.escalate_at else None,
        "replayed": replayed,
    }


def _rejection(verdict: Verdict) -> ProblemError:
    problems = verdict.rejected.problems if verdict.rejected else ()
    errors = [{"field": p.field, "code": p.code, "detail": p.message} for p in problems]
    first = next((p for p in problems if p.action == "reject"), problems[0] if problems else None)
    return ProblemError(
        422,
        "lead-rejected",
        "Lead rejected",
        first.message if first else "the lead failed validation",
        field=first.field if first else "",
        errors=errors,
    )


def _timed(metrics: Metrics, route: str, handler: Handler) -> Handler:
    """Count and time each request; turn problems and unexpected errors into responses."""

    async def wrapped(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except ProblemError as exc:
            response = exc.response
        except FieldProblem as exc:
            response = problem(422, "invalid-field", "Invalid field", exc.detail, field=exc.field)
        except Exception as exc:
            # The type only: a message or traceback may carry lead data or a secret.
            log.error("request.failed", route=route, error=type(exc).__name__)
            response = problem(500, "internal", "Internal error", "the error was logged")
        metrics.request_seconds.labels(route=route).observe(time.perf_counter() - started)
        metrics.requests.labels(
            route=route, method=request.method, status=str(response.status_code)
        ).inc()
        return response

    return wrapped


class _Api:
    """The endpoints over one service."""

    def __init__(self, service: Service, *, run_relay: bool) -> None:
        self.service = service
        self.metrics = service.metrics
        self.limit = service.policy.service.max_body_bytes
        self.public_url = service.policy.service.public_url.rstrip("/")
        self.run_relay = run_relay

    async def post_lead(self, request: Request) -> Response:
        key = check_api_key(request, self.service.api_keys)
        body = await read_body(request, self.limit)
        submission = parse_submission(
            body,
            request.headers.get("content-type", ""),
            request.headers.get("idempotency-key", ""),
        )
        scope = api_key_scope(key)
        if submission.key:
            stored = await anyio.to_thread.run_sync(
                idempotent_response, self.service.store, scope, submission.key
            )
            if stored is not None:
                return _replay(stored.request_hash, stored.status_code, stored.body, submission)
        lead = lead_from_fields(submission, scope, self.service.clock())
        verdict = await anyio.to_thread.run_sync(self.service.decide, lead)
        if verdict.decision is None:
            raise _rejection(verdict)
        self.service.wake()
        body_json = json.dumps(decision_body(verdict.decision, replayed=not verdict.new))
        if submission.key:
            stored = await anyio.to_thread.run_sync(
                lambda: save_response(
                    self.service.store,
                    scope,
                    submission.key,
                    request_hash=submission.fingerprint(),
                    status_code=202,
                    body=body_json,
                    lead_id=lead.id,
                )
            )
            return _replay(
                stored.request_hash, stored.status_code, stored.body, submission, first=True
            )
        return Response(body_json, status_code=202, media_type="application/json")

    async def hubspot_webhook(self, request: Request) -> Response:
        from leadroute_hubspot.webhooks import (  # noqa: PLC0415 - only with the adapter
            parse_events,
            secret_from_env,
            verify_signature_v3,
        )

        body = await read_body(request, self.limit)
        uri = (
            (
                self.public_url
                + request.url.path
                + (f"?{request.url.query}" if request.url.query else "")
            )
            if self.public_url
            else str(request.url)
        )
        try:
            secret = secret_from_env(self.service.env)
            verify_signature_v3(
                secret=secret,
                method=request.method,
                uri=uri,
                body=body,
                headers=dict(request.headers),
                now=self.service.clock(),
            )
        except AuthError as exc:
            self.metrics.webhook_events.labels(source="hubspot", result="refused").inc()
            raise ProblemError(401, "unauthorized", "Signature not accepted", str(exc)) from None
        try:
            events = parse_events(body)
        except UserInputError as exc:
            raise ProblemError(400, "malformed", "Webhook body not accepted", str(exc)) from None
        # HubSpot's eventId is not unique by itself: de-duplicate on the event's full key.
        fresh_ids = await anyio.to_thread.run_sync(
            unseen_events, self.service.store, "hubspot", [e.key for e in events]
        )
        fresh = [e for e in events if e.key in set(fresh_ids)]
        self.metrics.webhook_events.labels(source="hubspot", result="duplicate").inc(
            len(events) - len(fresh)
        )
        contacts = list(dict.fromkeys(e.contact_id for e in fresh))
        routed = 0
        if contacts:
            try:
                leads = await anyio.to_thread.run_sync(self.service.read_leads, contacts)
            except LeadrouteError as exc:
                # HubSpot retries a failed delivery; the events stay unhandled until then.
                raise ProblemError(
                    503,
                    "crm-unavailable",
                    "Could not read the contacts",
                    str(exc)[:200],
                    headers={"Retry-After": "60"},
                ) from None
            for lead in leads:
                verdict = await anyio.to_thread.run_sync(self.service.decide, lead)
                routed += verdict.decision is not None and verdict.new
        await anyio.to_thread.run_sync(mark_events, self.service.store, "hubspot", fresh_ids)
        self.metrics.webhook_events.labels(source="hubspot", result="routed").inc(routed)
        self.service.wake()
        return JSONResponse({"events": len(events), "new": len(fresh), "routed": routed})

    async def salesforce_webhook(self, request: Request) -> Response:
        secret = self.service.env.get(SECRET_ENV, "")
        if not secret:
            raise ProblemError(
                503, "not-configured", f"Set {SECRET_ENV} to receive Salesforce calls"
            )
        xml = "xml" in request.headers.get("content-type", "")
        given = (
            request.query_params.get("secret", "")
            if xml
            else request.headers.get("x-leadroute-secret", "")
        )
        try:
            verify_secret(given, secret)
        except ProblemError:
            self.metrics.webhook_events.labels(source="salesforce", result="refused").inc()
            raise
        body = await read_body(request, self.limit)
        org = self.service.env.get(ORG_ENV, "")
        records = parse_outbound(body, org) if xml else parse_flow(body, org)
        fresh_ids = set(
            await anyio.to_thread.run_sync(
                unseen_events, self.service.store, "salesforce", [r.event_id for r in records]
            )
        )
        answers = []
        for record in records:
            if record.event_id not in fresh_ids:
                self.metrics.webhook_events.labels(source="salesforce", result="duplicate").inc()
                continue
            submission = Submission(fields=record.fields)
            lead = lead_from_fields(submission, "salesforce", self.service.clock())
            verdict = await anyio.to_thread.run_sync(self.service.decide, lead)
            if verdict.decision is None:
                self.metrics.webhook_events.labels(source="salesforce", result="rejected").inc()
                rejected = verdict.rejected.problems if verdict.rejected else ()
                answers.append({"lead_id": lead.id, "rejected": [p.code for p in rejected]})
            else:
                self.metrics.webhook_events.labels(source="salesforce", result="routed").inc()
                answers.append(decision_body(verdict.decision, replayed=not verdict.new))
        await anyio.to_thread.run_sync(
            mark_events, self.service.store, "salesforce", sorted(fresh_ids)
        )
        self.service.wake()
        if xml:
            return Response(ACK, media_type="text/xml")
        return JSONResponse({"decisions": answers}, status_code=202)

    async def post_outcomes(self, request: Request) -> Response:
        check_api_key(request, self.service.api_keys)
        body = await read_body(request, self.limit)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ProblemError(400, "malformed", "Body is not JSON") from None
        items = data if isinstance(data, list) else [data]
        if len(items) > MAX_OUTCOMES:
            raise ProblemError(
                422, "too-many", "Too many outcomes", f"at most {MAX_OUTCOMES} a request"
            )
        outcomes = [_outcome(item, index, self.service.clock()) for index, item in enumerate(items)]
        recorded, stopped = await anyio.to_thread.run_sync(self.service.record_outcomes, outcomes)
        return JSONResponse(
            {"received": len(outcomes), "new": recorded, "timers_stopped": stopped}, status_code=202
        )

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        checks = await anyio.to_thread.run_sync(_readiness, self.service, self.run_relay)
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            return problem(503, "not-ready", "Not ready", "failing: " + ", ".join(failed))
        return JSONResponse({"status": "ready", "checks": checks})

    async def metrics_endpoint(self, request: Request) -> Response:
        data = await anyio.to_thread.run_sync(generate_latest, self.metrics.registry)
        return Response(data, media_type=CONTENT_TYPE_LATEST)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        titles = {404: "Not found", 405: "Method not allowed"}
        return problem(status, "http-" + str(status), titles.get(status, "HTTP error"))

    async def crashed(self, request: Request, exc: Exception) -> Response:
        log.error("request.failed", path=request.url.path, error=type(exc).__name__)
        return problem(
            500, "internal", "Internal error", "the error was logged; nothing was decided twice"
        )


def create_app(service: Service, *, run_relay: bool = True, run_timers: bool = True) -> Starlette:
    """The application over a built ``Service``; the loops run in its lifespan."""
    api = _Api(service, run_relay=run_relay)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        loops = asyncio.create_task(service.run_loops(stop, relay=run_relay, timers=run_timers))
        log.info("service.started")
        try:
            yield
        finally:
            stop.set()
            await loops
            await anyio.to_thread.run_sync(service.close)
            log.info("service.stopped")

    def timed(route: str, handler: Handler) -> Handler:
        return _timed(service.metrics, route, handler)

    routes = [
        Route("/v1/leads", timed("/v1/leads", api.post_lead), methods=["POST"]),
        Route(
            "/v1/webhooks/hubspot",
            timed("/v1/webhooks/hubspot", api.hubspot_webhook),
            methods=["POST"],
        ),
        Route(
            "/v1/webhooks/salesforce",
            timed("/v1/webhooks/salesforce", api.salesforce_webhook),
            methods=["POST"],
        ),
        Route("/v1/outcomes", timed("/v1/outcomes", api.post_outcomes), methods=["POST"]),
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/readyz", api.readyz, methods=["GET"]),
        Route("/metrics", api.metrics_endpoint, methods=["GET"]),
    ]
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(service.policy.service.cors_origins),
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            max_age=600,
        )
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: api.not_found, Exception: api.crashed},
    )


def _replay(
    request_hash: str, status: int, body: str, submission: Submission, *, first: bool = False
) -> Response:
    if request_hash != submission.fingerprint():
        raise ProblemError(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused with a different body",
            "a key names one submission; send a new key for a new lead",
            field="Idempotency-Key",
        )
    headers = {} if first else {"Idempotent-Replayed": "true"}
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _outcome(item: Any, index: int, now: datetime) -> Outcome:
    where = f"[{index}]"
    if not isinstance(item, dict):
        raise FieldProblem(where, "each outcome is a JSON object")
    lead_id = item.get("lead_id")
    if not isinstance(lead_id, str) or not lead_id.strip() or len(lead_id) > 255:
        raise FieldProblem(f"{where}.lead_id", "required: the lead's id")
    kind = item.get("kind")
    allowed = sorted(str(k) for k in OUTCOME_KINDS)
    if kind not in allowed:
        raise FieldProblem(f"{where}.kind", f"expected one of: {', '.join(allowed)}")
    at_text = item.get("at")
    at = now
    if at_text is not None:
        try:
            parsed = datetime.fromisoformat(str(at_text).replace("Z", "+00:00"))
        except ValueError:
            raise FieldProblem(f"{where}.at", "expected an ISO-8601 date-time") from None
        at = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    texts = {}
    for name in ("rep_id", "source", "detail"):
        value = item.get(name, "")
        if not isinstance(value, str) or len(value) > 1000:
            raise FieldProblem(f"{where}.{name}", "expected text up to 1000 characters")
        texts[name] = value
    return Outcome(
        kind=OutcomeKind(kind),
        lead_id=lead_id.strip(),
        at=at,
        rep_id=texts["rep_id"],
        source=texts["source"] or "api",
        detail=texts["detail"],
        origin=f"POST /v1/outcomes{where}",
    )


def _readiness(service: Service, relay_here: bool) -> dict[str, bool]:
    checks: dict[str, bool] = {}
    try:
        with service.store.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            current = MigrationContext.configure(conn).get_current_revision()
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        checks["store"] = True
        checks["migrations"] = current == ScriptDirectory.from_config(config).get_current_head()
    except sa.exc.SQLAlchemyError:
        checks["store"] = checks["migrations"] = False
    if relay_here:
        every = service.policy.service.relay_every.total_seconds()
        checks["relay"] = time.time() - service.last_relay < max(30.0, 10 * every)
    return checks
