"""Webhook signatures (v3, HubSpot's published vector) and contact event batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from leadroute.errors import AuthError, UserInputError
from leadroute_hubspot.webhooks import (
    EventDeduplicator,
    parse_events,
    secret_from_env,
    signature_v3,
    verify_signature_v3,
)

# HubSpot's published v3 vector (hubspot-api-python tests/spec/utils/test_signature.py).
SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
BODY = b"{'example_field':'example_value'}"
TIMESTAMP = "1693657560000"
SIGNATURE = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
SENT = datetime.fromtimestamp(int(TIMESTAMP) / 1000, tz=UTC)


def headers(signature: str = SIGNATURE, timestamp: str = TIMESTAMP) -> dict[str, str]:
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp}


def verify(body: bytes = BODY, uri: str = URI, when: datetime = SENT, **kw: str) -> None:
    verify_signature_v3(
        secret=SECRET, method="POST", uri=uri, body=body, headers=headers(**kw), now=when
    )


def test_published_vector_matches():
    """The vendor's test vector signs to the published value and verifies."""
    assert signature_v3(SECRET, "POST", URI, BODY, TIMESTAMP) == SIGNATURE
    verify(when=SENT + timedelta(seconds=30))


def test_tampered_body_is_refused():
    """One changed byte in the body fails the signature."""
    with pytest.raises(AuthError, match="does not match"):
        verify(body=BODY.replace(b"value", b"valuE"))


def test_reserialized_json_is_refused():
    """Verifying a re-serialized body instead of the raw bytes fails, as it must."""
    with pytest.raises(AuthError, match="does not match"):
        verify(body=json.dumps({"example_field": "example_value"}).encode())


def test_other_uri_or_method_is_refused():
    """The signature covers the full URI (query included) and the method."""
    with pytest.raises(AuthError):
        verify(uri=URI + "?x=1")
    with pytest.raises(AuthError):
        verify_signature_v3(
            secret=SECRET, method="GET", uri=URI, body=BODY, headers=headers(), now=SENT
        )


def test_percent_encoded_uri_characters_are_decoded_before_signing():
    """HubSpot signs the URI with ':' '/' '?' '@' etc. decoded; an encoded URI verifies the same."""
    encoded = "https%3A%2F%2Fwww.example.com%2Fwebhook_uri"
    assert signature_v3(SECRET, "POST", encoded, BODY, TIMESTAMP) == SIGNATURE


@pytest.mark.parametrize(
    ("offset", "message"),
    [(timedelta(minutes=5, seconds=1), "old"), (timedelta(minutes=-5, seconds=-1), "future")],
)
def test_stale_and_future_timestamps_are_refused(offset, message):
    """A request more than five minutes old, or from more than five minutes ahead, is refused."""
    with pytest.raises(AuthError, match=message):
        verify(when=SENT + offset)


def test_just_inside_the_window_is_accepted():
    """Four minutes fifty-nine seconds old is still fresh (milliseconds, not seconds)."""
    verify(when=SENT + timedelta(minutes=4, seconds=59))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"signature": ""}, "missing"),
        ({"timestamp": ""}, "missing"),
        ({"timestamp": "1693657560000.0"}, "milliseconds"),
    ],
)
def test_missing_or_malformed_headers_are_refused(kw, message):
    """No signature, no timestamp, or a float timestamp is refused with a clear reason."""
    with pytest.raises(AuthError, match=message):
        verify(**kw)


def test_error_never_contains_the_secret():
    """A refused request's message names the problem and never the secret or the expected value."""
    with pytest.raises(AuthError) as caught:
        verify(body=b"x")
    assert SECRET not in str(caught.value) and SIGNATURE not in str(caught.value)


EVENTS = [
    {
        "eventId": 567890123,
        "subscriptionId": 234567,
        "portalId": 12345678,
        "appId": 987654,
        "occurredAt": 1708986598741,
        "subscriptionType": "contact.creation",
        "attemptNumber": 0,
        "objectId": 65059681032,
        "changeFlag": "CREATED",
        "changeSource": "CRM_UI",
        "sourceId": "userId:45678",
    },
    {
        "eventId": 567890124,
        "subscriptionId": 234568,
        "portalId": 12345678,
        "occurredAt": 1708986599000,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 1,
        "objectId": 65059681032,
        "propertyName": "hubspot_owner_id",
        "propertyValue": "83012345",
    },
    {"eventId": 9, "subscriptionType": "company.creation", "objectId": 1, "occurredAt": 1},
]


def test_contact_events_are_parsed_and_others_skipped():
    """contact.creation and contact.propertyChange are parsed; other subscriptions are skipped."""
    created, changed = parse_events(json.dumps(EVENTS).encode())
    assert (created.event_id, created.contact_id, created.subscription_type) == (
        "567890123",
        "65059681032",
        "contact.creation",
    )
    assert created.occurred_at == datetime(2024, 2, 26, 22, 29, 58, 741000, tzinfo=UTC)
    assert (changed.property_name, changed.property_value, changed.attempt) == (
        "hubspot_owner_id",
        "83012345",
        1,
    )


def test_redelivered_events_are_handled_once():
    """The same event id delivered again (a HubSpot retry) is dropped by the deduplicator."""
    dedup = EventDeduplicator(capacity=10)
    body = json.dumps(EVENTS[:2]).encode()
    assert len(dedup.fresh(parse_events(body))) == 2
    assert dedup.fresh(parse_events(body)) == []


def test_deduplicator_memory_is_bounded():
    """Past its capacity the deduplicator forgets the oldest ids instead of growing forever."""
    dedup = EventDeduplicator(capacity=2)
    make = lambda i: parse_events(  # noqa: E731
        json.dumps([{**EVENTS[0], "eventId": i}]).encode()
    )
    for i in range(3):
        dedup.fresh(make(i))
    assert dedup.fresh(make(0)) and not dedup.fresh(make(2))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"{}", "array"),
        (b"[1]", r"event \[0\] is not an object"),
        (b'[{"subscriptionType": "contact.creation"}]', r"event \[0\] is malformed"),
    ],
)
def test_malformed_bodies_are_one_clear_error(body, message):
    """A body that is not an array of well-formed events is refused, naming the event."""
    with pytest.raises(UserInputError, match=message):
        parse_events(body)


def test_signing_secret_comes_from_the_environment():
    """The webhook key is HUBSPOT_CLIENT_SECRET; without it, one error names the variable."""
    assert secret_from_env({"HUBSPOT_CLIENT_SECRET": SECRET}) == SECRET
    with pytest.raises(AuthError, match="HUBSPOT_CLIENT_SECRET"):
        secret_from_env({})


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "timestamp",
    ["²", "1693657560000²", "٣" * 13, "9" * 5000, "-1693657560000", "+1693657560000"],
)
def test_hostile_timestamps_are_refused_not_raised(timestamp):
    """Unicode digits, 5,000 digits or a sign in the timestamp header are a refusal, not a crash."""
    with pytest.raises(AuthError, match="milliseconds"):
        verify(timestamp=timestamp)


def _event_body(**changes: object) -> bytes:
    return json.dumps([{**EVENTS[0], **changes}]).encode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurredAt": 10**20}, "occurredAt"),
        ({"occurredAt": -1}, "occurredAt"),
        ({"occurredAt": "9" * 5000}, "occurredAt"),
        ({"occurredAt": "²"}, "occurredAt"),
        ({"occurredAt": 1e300}, "occurredAt"),
        ({"occurredAt": True}, "occurredAt"),
        ({"attemptNumber": 10**30}, "attemptNumber"),
        ({"attemptNumber": "9" * 5000}, "attemptNumber"),
        ({"eventId": [[1]]}, "eventId"),
        ({"objectId": {"a": 1}}, "objectId"),
        ({"objectId": "x" * 10_000}, "objectId"),
    ],
)
def test_hostile_event_fields_are_refused_not_raised(changes, field):
    """Out-of-range or nested event fields are one refusal naming the field, not an exception."""
    with pytest.raises(UserInputError, match=rf"event \[0\] is malformed \({field}"):
        parse_events(_event_body(**changes))


def test_infinite_occurred_at_is_refused():
    """Python's json reads Infinity and NaN; neither becomes a timestamp or an OverflowError."""
    for word in (b"Infinity", b"NaN"):
        body = _event_body(occurredAt=0).replace(b'"occurredAt": 0', b'"occurredAt": ' + word)
        with pytest.raises(UserInputError, match="occurredAt"):
            parse_events(body)


def test_refusal_never_echoes_the_hostile_value():
    """The refusal names the field, not the value a sender chose (it may be a token or a person)."""
    with pytest.raises(UserInputError) as caught:
        parse_events(_event_body(attemptNumber="canary@example.com"))
    assert "canary" not in str(caught.value)


def test_deeply_nested_body_is_refused_not_raised():
    """100,000 nested arrays are refused as a malformed body instead of a RecursionError."""
    with pytest.raises(UserInputError, match="nested too deeply"):
        parse_events(b"[" * 100_000 + b"]" * 100_000)


def test_nested_property_value_is_dropped():
    """A nested propertyValue (HubSpot sends text) is read as empty, not rendered as a repr."""
    body = json.dumps([{**EVENTS[1], "propertyValue": [[["x"]]]}]).encode()
    assert parse_events(body)[0].property_value == ""


def test_generic_object_events_for_contacts_are_contact_events():
    """``object.creation`` with objectTypeId 0-1 is a contact creation; other objects are skipped."""
    import json as _json

    from leadroute_hubspot.webhooks import parse_events as _parse

    body = _json.dumps(
        [
            {
                "eventId": 1,
                "subscriptionType": "object.creation",
                "objectTypeId": "0-1",
                "objectId": 5,
                "occurredAt": 1693657560000,
            },
            {
                "eventId": 2,
                "subscriptionType": "object.propertyChange",
                "objectTypeId": "0-2",
                "objectId": 6,
                "occurredAt": 1693657560000,
            },
        ]
    ).encode()
    [event] = _parse(body)
    assert (event.subscription_type, event.contact_id) == ("contact.creation", "5")


def test_the_same_event_id_for_another_object_or_subscription_is_another_event():
    """eventId is not unique: a different subscription, object, time or property is not a repeat."""
    dedup = EventDeduplicator(capacity=10)
    base = EVENTS[1]
    variants = [
        base,
        {**base, "subscriptionId": 999},
        {**base, "objectId": 123},
        {**base, "occurredAt": base["occurredAt"] + 1},
        {**base, "propertyName": "lifecyclestage"},
    ]
    events = parse_events(json.dumps(variants).encode())
    assert len({e.key for e in events}) == 5 and len(dedup.fresh(events)) == 5
    redelivered = parse_events(json.dumps([{**base, "attemptNumber": 3}]).encode())
    assert dedup.fresh(redelivered) == []  # the same event, delivered again


def test_object_events_for_contacts_keep_their_dedup_key():
    """An object.propertyChange for a contact is read as a contact event with the same key rules."""
    raw = {**EVENTS[1], "subscriptionType": "object.propertyChange", "objectTypeId": "0-1"}
    [event] = parse_events(json.dumps([raw]).encode())
    [classic] = parse_events(json.dumps([EVENTS[1]]).encode())
    assert event.subscription_type == "contact.propertyChange" and event.key == classic.key
