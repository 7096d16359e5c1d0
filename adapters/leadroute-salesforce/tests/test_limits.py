"""The status/error-code table, row by row, and the daily-allocation guard."""

from __future__ import annotations

import pytest

from leadroute_salesforce.limits import (
    ACTIONS,
    ANY,
    RECORD,
    Action,
    LimitInfo,
    UsageGuard,
    classify,
    parse_limit_info,
)

CASES = [
    (401, "INVALID_SESSION_ID", "Session expired or invalid", Action.REAUTH),
    (401, "", "", Action.FAIL_AUTH),
    (403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", Action.RETRY),
    (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", Action.STOP),
    (403, "INSUFFICIENT_ACCESS", "insufficient access rights", Action.FAIL),
    (400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access", Action.RETRY),
    (RECORD, "INACTIVE_OWNER_OR_USER", "owner is inactive", Action.REROUTE),
    (RECORD, "TRANSFER_REQUIRES_READ", "The new owner must have read permission", Action.REROUTE),
    (
        RECORD,
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        "insufficient access rights on cross-reference id",
        Action.REROUTE,
    ),
    (RECORD, "FIELD_INTEGRITY_EXCEPTION", "Owner ID: id value of incorrect type", Action.REROUTE),
    (RECORD, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", Action.REROUTE),
    (RECORD, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", Action.SKIP),
    (RECORD, "DUPLICATES_DETECTED", "Use one of these records?", Action.REJECT),
    (RECORD, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Industry is required", Action.REJECT),
    (400, "MALFORMED_QUERY", "unexpected token", Action.FAIL),
    (404, "NOT_FOUND", "", Action.FAIL),
    (406, "", "", Action.RETRY),
    (420, "", "", Action.RETRY),
    (429, "", "", Action.RETRY),
    (500, "UNKNOWN_EXCEPTION", "", Action.RETRY),
    (502, "", "", Action.RETRY),
    (503, "SERVER_UNAVAILABLE", "", Action.RETRY),
    (504, "", "", Action.RETRY),
    (418, "", "", Action.FAIL),
]


# Errors Salesforce pins on a field: the owner-refusal rows need OwnerId among them.
FIELDS = {"FIELD_INTEGRITY_EXCEPTION": ("OwnerId",), "INVALID_CROSS_REFERENCE_KEY": ("OwnerId",)}


@pytest.mark.parametrize(("status", "code", "message", "action"), CASES)
def test_each_answer_maps_to_its_action(status, code, message, action):
    """The first matching row decides; this list pins every row of the table."""
    assert classify(status, code, message, FIELDS.get(code, ())) is action


def test_every_row_is_reached_by_a_case():
    """No row of ACTIONS is dead: each is the first match for at least one pinned case."""
    reached = {
        next(i for i, row in enumerate(ACTIONS) if row.matches(s, c, m, FIELDS.get(c, ())))
        for s, c, m, _ in CASES
    }
    assert reached == set(range(len(ACTIONS)))


@pytest.mark.parametrize("code", ["FIELD_INTEGRITY_EXCEPTION", "INVALID_CROSS_REFERENCE_KEY"])
def test_integrity_errors_reroute_only_when_they_name_the_owner(code):
    """The same code on another field is the record's problem (rejected), not the owner's."""
    assert classify(RECORD, code, "bad value", ("OwnerId",)) is Action.REROUTE
    assert classify(RECORD, code, "bad value", ("Lead_Type__c",)) is Action.REJECT
    assert classify(RECORD, code, "bad value") is Action.REJECT


def test_the_table_ends_with_a_catch_all():
    """An unknown answer is a failure, never a silent success or an endless retry."""
    assert ACTIONS[-1].status == ANY and not ACTIONS[-1].code and ACTIONS[-1].action is Action.FAIL


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("api-usage=18/5000", LimitInfo(18, 5000)),
        ("api-usage=4900/5000; per-app-api-usage=17/250(appName=leadroute)", LimitInfo(4900, 5000)),
        ("per-app-api-usage=17/250(appName=x); api-usage=3/15000", LimitInfo(3, 15000)),
        ("per-app-api-usage=17/250(appName=x)", None),
        ("garbage", None),
        (None, None),
    ],
)
def test_limit_info_header_parsing(header, expected):
    """Only the org-wide api-usage counts; per-app usage and garbage are ignored."""
    assert parse_limit_info(header) == expected


def test_guard_paces_then_stops_at_the_reserve():
    """No pause below slow_down_at, growing pauses after it, and a stop at the reserve line."""
    slept: list[float] = []
    guard = UsageGuard(slow_down_at=0.8, reserve=0.05, max_pause=2.0, sleep=slept.append)
    guard.observe("api-usage=700/1000")
    guard.before_call()
    assert slept == [] and not guard.exhausted
    guard.observe("api-usage=875/1000")
    guard.before_call()
    assert slept == [pytest.approx(1.0)]
    guard.observe("api-usage=949/1000")
    assert not guard.exhausted
    guard.observe("api-usage=950/1000")
    assert guard.exhausted
