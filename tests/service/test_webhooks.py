"""CRM webhooks: HubSpot signature v3 checked before anything, Salesforce Flow and Outbound
Messages with a shared secret; each delivery handled once."""

from __future__ import annotations

import json

import pytest
from tests.service.conftest import AT, build_service

from leadroute.models import Lead
from leadroute_hubspot.webhooks import signature_v3

pytestmark = pytest.mark.anyio

HS_SECRET = "hs-client-secret"
SF_SECRET = "sf-shared-secret"
ORG = "00D5g000004ABCDEAS"
URL = "http://leadroute.test/v1/webhooks/hubspot"
TS = str(int(AT.timestamp() * 1000))


@pytest.fixture
def harness(tmp_path):
    h = build_service(
        tmp_path,
        env={
            "HUBSPOT_CLIENT_SECRET": HS_SECRET,
            "LEADROUTE_SALESFORCE_SECRET": SF_SECRET,
            "LEADROUTE_SALESFORCE_ORG_ID": ORG,
        },
    )
    h.crm.records = {
        "101": Lead(id="101", email="a@acme.com", company="Acme", country="US"),
        "102": Lead(id="102", email="b@globex.de", company="Globex", country="DE"),
    }
    return h


def events(*specs: tuple[int, str, str]) -> bytes:
    """A HubSpot batch: legacy ``contact.*`` and generic ``object.*`` forms."""
    out = []
    for event_id, kind, object_id in specs:
        event = {
            "eventId": event_id,
            "subscriptionId": 7,
            "portalId": 62515,
            "occurredAt": int(AT.timestamp() * 1000),
            "subscriptionType": kind,
            "attemptNumber": 0,
            "objectId": int(object_id),
        }
        if kind.startswith("object."):
            event["objectTypeId"] = "0-1"
        if kind.endswith("propertyChange"):
            event |= {"propertyName": "lifecyclestage", "propertyValue": "lead"}
        out.append(event)
    return json.dumps(out).encode()


def signed(body: bytes, *, ts: str = TS, secret: str = HS_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature_v3(secret, "POST", URL, body, ts),
        "X-HubSpot-Request-Timestamp": ts,
    }


async def test_hubspot_events_are_read_routed_and_acknowledged(client, harness):
    """A signed batch: the changed contacts are read from the CRM, routed, and written back later."""
    body = events((1, "contact.creation", "101"), (2, "contact.propertyChange", "102"))
    response = await client.post("/v1/webhooks/hubspot", content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.json() == {"events": 2, "new": 2, "routed": 2}
    assert harness.service.store.current_decision("101").pool == "na"  # type: ignore[union-attr]
    assert harness.service.store.current_decision("102").pool == "emea"  # type: ignore[union-attr]


async def test_hubspot_object_events_are_understood(client, harness):
    """The generic ``object.creation`` form (objectTypeId 0-1) routes the contact too."""
    body = events((5, "object.creation", "101"))
    response = await client.post("/v1/webhooks/hubspot", content=body, headers=signed(body))
    assert response.json()["routed"] == 1


async def test_a_redelivered_event_is_handled_once(client, harness):
    """HubSpot delivers at least once: the same event id twice makes one decision."""
    body = events((9, "contact.creation", "101"))
    await client.post("/v1/webhooks/hubspot", content=body, headers=signed(body))
    again = await client.post("/v1/webhooks/hubspot", content=body, headers=signed(body))
    assert again.json() == {"events": 1, "new": 0, "routed": 0}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-HubSpot-Request-Timestamp": TS},
        {"X-HubSpot-Signature-v3": "AAAA", "X-HubSpot-Request-Timestamp": TS},
        "wrong-secret",
        "stale",
        "future",
        "tampered",
    ],
)
async def test_bad_signatures_are_401_and_change_nothing(client, harness, headers):
    """Missing, wrong, stale, future and tampered requests: 401, nothing read or decided."""
    body = events((11, "contact.creation", "101"))
    sent = body
    if headers == "wrong-secret":
        headers = signed(body, secret="other")
    elif headers == "stale":
        old = str(int(TS) - 301_000)
        headers = signed(body, ts=old)
    elif headers == "future":
        ahead = str(int(TS) + 301_000)
        headers = signed(body, ts=ahead)
    elif headers == "tampered":
        headers = signed(body)
        sent = events((11, "contact.creation", "102"))
    response = await client.post("/v1/webhooks/hubspot", content=sent, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert harness.service.store.current_decisions() == {}


async def test_hubspot_signature_is_checked_before_the_body_is_parsed(client, harness):
    """An unsigned malformed body is a 401, not a 400: nothing is parsed before the signature."""
    response = await client.post("/v1/webhooks/hubspot", content=b"not json")
    assert response.status_code == 401


async def test_hubspot_signature_uses_the_public_url_behind_a_proxy(tmp_path):
    """With ``service.public_url``, the URI HubSpot signed (the public one) is checked."""
    from tests.service.conftest import POLICY

    h = build_service(
        tmp_path,
        policy_text=POLICY.replace(
            "service:\n", "service:\n  public_url: https://leads.example.com\n"
        ),
        env={"HUBSPOT_CLIENT_SECRET": HS_SECRET},
    )
    h.crm.records = {"101": Lead(id="101", email="a@acme.com", country="US")}
    import httpx

    from leadroute.service import create_app

    app = create_app(h.service, run_relay=False, run_timers=False)
    body = events((3, "contact.creation", "101"))
    public = "https://leads.example.com/v1/webhooks/hubspot"
    headers = {
        "X-HubSpot-Signature-v3": signature_v3(HS_SECRET, "POST", public, body, TS),
        "X-HubSpot-Request-Timestamp": TS,
    }
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.5:8080"
        ) as http,
    ):
        response = await http.post("/v1/webhooks/hubspot", content=body, headers=headers)
    assert response.status_code == 200


async def test_a_crm_read_failure_is_503_and_the_event_stays_unhandled(client, harness):
    """If the contacts cannot be read, HubSpot gets a 503 to retry; the retry is not a duplicate."""
    harness.crm.read_fails = True
    body = events((21, "contact.creation", "101"))
    failed = await client.post("/v1/webhooks/hubspot", content=body, headers=signed(body))
    assert failed.status_code == 503
    harness.crm.read_fails = False
    retried = await client.post("/v1/webhooks/hubspot", content=body, headers=signed(body))
    assert retried.json()["routed"] == 1


FLOW = {
    "organization_id": ORG,
    "event_id": "flow-interview-1",
    "lead": {
        "id": "00Q5g00000ABCDE",
        "email": "c@initech.com",
        "company": "Initech",
        "country": "US",
        "lead_type": "demo",
    },
}


async def test_salesforce_flow_callout_routes_the_lead(client, harness):
    """A Flow callout with the shared secret routes the record by its Salesforce id."""
    response = await client.post(
        "/v1/webhooks/salesforce", json=FLOW, headers={"X-Leadroute-Secret": SF_SECRET}
    )
    assert response.status_code == 202
    [answer] = response.json()["decisions"]
    assert answer["lead_id"] == "00Q5g00000ABCDE" and answer["pool"] == "na"


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, FLOW),
        ({"X-Leadroute-Secret": "guess"}, FLOW),
        ({"X-Leadroute-Secret": SF_SECRET}, {**FLOW, "organization_id": "00D000000000001"}),
    ],
)
async def test_salesforce_without_the_secret_or_from_another_org_is_refused(
    client, harness, headers, body
):
    """No secret, a wrong secret or another org: 401, nothing decided."""
    response = await client.post("/v1/webhooks/salesforce", json=body, headers=headers)
    assert response.status_code == 401
    assert harness.service.store.current_decisions() == {}


OUTBOUND = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{ORG}</OrganizationId>
   <ActionId>04k5g000000001AAA</ActionId>
   <SessionId xsi:nil="true"/>
   <Notification>
    <Id>04l5g00000AAAAA1</Id>
    <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>00Q5g00000OUT01</sf:Id>
     <sf:Email>d@umbrella.co.uk</sf:Email>
     <sf:Company>Umbrella</sf:Company>
     <sf:Country>GB</sf:Country>
     <sf:Industry>Pharma</sf:Industry>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""


async def test_salesforce_outbound_message_is_acknowledged(client, harness):
    """An Outbound Message routes each notification and answers the SOAP Ack Salesforce waits for."""
    response = await client.post(
        f"/v1/webhooks/salesforce?secret={SF_SECRET}",
        content=OUTBOUND.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    assert response.status_code == 200
    assert "<Ack>true</Ack>" in response.text
    decision = harness.service.store.current_decision("00Q5g00000OUT01")
    assert decision is not None and decision.pool == "emea"
    again = await client.post(
        f"/v1/webhooks/salesforce?secret={SF_SECRET}",
        content=OUTBOUND.encode(),
        headers={"Content-Type": "text/xml"},
    )
    assert "<Ack>true</Ack>" in again.text  # a redelivery is acknowledged, not decided again
    assert len(harness.service.store.current_decisions()) == 1


async def test_salesforce_xml_bombs_are_refused(client, harness):
    """An entity-expansion document is refused by defusedxml, not expanded."""
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;">]><notifications>&lol2;</notifications>'
    )
    response = await client.post(
        f"/v1/webhooks/salesforce?secret={SF_SECRET}",
        content=bomb,
        headers={"Content-Type": "text/xml"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_salesforce_is_refused_when_no_secret_is_configured(tmp_path):
    """Without LEADROUTE_SALESFORCE_SECRET the endpoint refuses every call (503)."""
    import httpx

    from leadroute.service import create_app

    h = build_service(tmp_path, env={})
    app = create_app(h.service, run_relay=False, run_timers=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.post(
            "/v1/webhooks/salesforce", json=FLOW, headers={"X-Leadroute-Secret": ""}
        )
    assert response.status_code == 503
