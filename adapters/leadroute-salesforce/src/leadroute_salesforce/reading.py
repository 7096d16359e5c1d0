"""Read a routing snapshot from the org: users, queues, accounts, and leads for a purpose.

* Users (``005``) become reps, active or not, with their open-lead counts and full
  profiles: standard fields (time zone, phone, manager), mapped custom fields in the
  reps.csv grammar (skills, named accounts, working hours, leave, caps...), the
  ``reps_file`` overlay merged by id or email, and Out of Office periods as leave.
* Queues (``Group`` of type ``Queue``, ids ``00G``) are never reps: a lead a queue owns
  has no owner in leadroute's sense and waits for routing (its queue is kept as the
  ``queue_id`` attribute). So do leads owned by a user the policy lists in
  ``unowned_owners`` (a web-to-lead default owner, an integration user).
* ``route`` reads unconverted leads waiting for an owner, created since ``created_since``;
  ``rebalance`` reads unconverted leads owned by users, with ``LastActivityDate``.
* Every read also brings back what happened to routed leads since ``outcomes.since``
  (``leadroute_salesforce.outcomes``): touches, meetings, status changes, conversions.
* Every query is built by ``soql.Query`` (literals escaped) and paged by ``nextRecordsUrl``;
  one that matches more than ``bulk_threshold`` records runs as a Bulk API 2.0 job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import attrs

from leadroute.logs import get_logger
from leadroute.models import Account, InputProblem, Lead, LeaveWindow, Rep, Snapshot
from leadroute.profiles import ProfileError, read_overlay
from leadroute_salesforce.bulk import BulkQuery
from leadroute_salesforce.client import ApiError, SalesforceClient
from leadroute_salesforce.mapping import (
    BadValue,
    account_from,
    lead_from,
    parse_sf_datetime,
    rep_from,
)
from leadroute_salesforce.outcomes import read_outcomes
from leadroute_salesforce.settings import Settings
from leadroute_salesforce.soql import Query, Where, chunks

__all__ = ["SalesforceReader", "is_queue", "is_user"]

log = get_logger(__name__)

# User ids per open-lead count query: well under the 2,000 groups an aggregate may return,
# and short enough (about 27 URL bytes an id) to keep the GET under 16 KB.
COUNT_SLICE = 300


def is_user(record_id: str) -> bool:
    """A User id (key prefix ``005``)."""
    return record_id.startswith("005")


def is_queue(record_id: str) -> bool:
    """A Group/Queue id (key prefix ``00G``): an owner, never a rep."""
    return record_id.startswith("00G")


@attrs.define
class SalesforceReader:
    """Reads one snapshot; keeps the lead types it saw (task priorities need them).

    Attributes:
        client: The REST client.
        settings: The adapter's settings.
        lead_types: Lead id -> lead type, from the last read.
        queues: Queue id -> developer name, from the last read.
        problems: Records of the last read that could not be used.
        clock: The current time (the outcome window ends now).
        bulk: Runs a query as a Bulk API 2.0 job (reads over ``bulk_threshold`` records).
    """

    client: SalesforceClient
    settings: Settings
    lead_types: dict[str, str] = attrs.field(factory=dict)
    queues: dict[str, str] = attrs.field(factory=dict)
    problems: list[InputProblem] = attrs.field(factory=list)
    clock: Callable[[], datetime] = attrs.field(default=lambda: datetime.now(UTC))
    bulk: BulkQuery = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.bulk = BulkQuery(self.client)

    def _query(self, query: Query) -> Iterator[dict[str, Any]]:
        # Aggregates cannot run as Bulk API jobs; everything else may, when it is large.
        threshold = self.settings.bulk_threshold
        return self.client.query(
            query.render(),
            batch_size=self.settings.query_batch_size,
            bulk_over=threshold if threshold and not query.group_by else None,
            bulk=self.bulk,
        )

    def _problem(self, sobject: str, record_id: str, kind: str, exc: BadValue) -> None:
        self.problems.append(
            InputProblem(
                file=f"salesforce:{sobject}",
                line=None,
                record_id=record_id,
                kind=kind,
                field=exc.field,
                code=exc.code,
                message=str(exc),
            )
        )

    # ----------------------------------------------------------------- objects

    def read_queues(self) -> dict[str, str]:
        """Queue id -> developer name."""
        query = Query(
            sobject="Group",
            fields=["Id", "DeveloperName"],
            where=[Where("Type", "=", "Queue")],
            order_by=["Id"],
        )
        return {r["Id"]: str(r.get("DeveloperName") or "") for r in self._query(query)}

    def open_lead_counts(self, user_ids: Sequence[str]) -> dict[str, int]:
        """Unconverted leads each user owns (counts toward capacity).

        An aggregate query returns at most 2,000 groups and cannot be paged (SOQL and SOSL
        Reference, "Considerations for GROUP BY"), so the owners are counted in slices of
        ``COUNT_SLICE`` user ids: an org with any number of owners is counted exactly.
        """
        counts: dict[str, int] = {}
        for part in chunks(list(user_ids), COUNT_SLICE):
            query = Query(
                sobject="Lead",
                fields=["OwnerId", "COUNT(Id) n"],
                where=[
                    Where("IsConverted", "=", False),
                    *self._status_filter(),
                    Where("OwnerId", "IN", list(part)),
                ],
                group_by=["OwnerId"],
            )
            counts.update({str(r["OwnerId"]): int(r.get("n") or 0) for r in self._query(query)})
        return counts

    def read_reps(self) -> list[Rep]:
        """Standard users, active and inactive (inactive ones never get leads), with their
        profiles: mapped user fields, the ``reps_file`` overlay, then Out of Office."""
        mapping = self.settings.fields.of("users")
        query = Query(
            sobject="User",
            fields=self.settings.fields.select("users"),
            where=[Where("UserType", "=", "Standard")],
            order_by=["Id"],
        )
        reps = []
        for record in self._query(query):
            user_id = str(record.get("Id", ""))
            if not is_user(user_id):
                continue
            rep, errors = rep_from(
                record,
                mapping,
                separator=self.settings.list_separator,
                open_leads=0,
                origin=f"salesforce:User/{user_id}",
            )
            for error in errors:
                self._profile_problem(user_id, error)
            reps.append(rep)
        counts = self.open_lead_counts([r.id for r in reps])
        reps = [attrs.evolve(r, open_leads=counts.get(r.id, 0)) for r in reps]
        if self.settings.reps_file is not None:
            reps, problems = read_overlay(self.settings.reps_file).apply(reps)
            self.problems.extend(problems)
        if self.settings.out_of_office:
            reps = self._with_out_of_office(reps)
        return reps

    def _profile_problem(self, user_id: str, error: ProfileError) -> None:
        self.problems.append(
            InputProblem(
                file="salesforce:User",
                line=None,
                record_id=user_id,
                kind="rep",
                field=error.field,
                code=error.code,
                message=f"{error}; the rep takes no leads until it is fixed",
            )
        )

    def _with_out_of_office(self, reps: list[Rep]) -> list[Rep]:
        """Each rep's Out of Office periods (Lightning's ``OutOfOffice``) become leave.

        Orgs without the object (it needs Lightning and Chatter) answer ``INVALID_TYPE``;
        then no leave is read from it and the run goes on.
        """
        query = Query(
            sobject="OutOfOffice",
            fields=["Id", "UserId", "StartDate", "EndDate"],
            where=[Where("IsEnabled", "=", True), Where("EndDate", ">=", self.clock())],
            order_by=["Id"],
        )
        leave: dict[str, list[LeaveWindow]] = {}
        try:
            for record in self._query(query):
                start = parse_sf_datetime("StartDate", record.get("StartDate"))
                end = parse_sf_datetime("EndDate", record.get("EndDate"))
                if start is not None and end is not None and start < end:
                    leave.setdefault(str(record.get("UserId")), []).append(
                        LeaveWindow(start=start, end=end)
                    )
        except ApiError as exc:
            if exc.code != "INVALID_TYPE":
                raise
            log.info("salesforce.read.no_out_of_office", detail=str(exc))
            return reps
        return [
            attrs.evolve(
                rep,
                availability=attrs.evolve(
                    rep.availability,
                    leave=tuple(
                        sorted((*rep.availability.leave, *leave[rep.id]), key=lambda w: w.start)
                    ),
                ),
            )
            if rep.id in leave
            else rep
            for rep in reps
        ]

    def read_accounts(self) -> list[Account]:
        """Accounts with their owners and websites (for account matching)."""
        if not self.settings.accounts:
            return []
        query = Query(
            sobject="Account",
            fields=self.settings.fields.select("accounts"),
            order_by=["Id"],
        )
        return [
            account_from(
                r, self.settings.fields.of("accounts"), origin=f"salesforce:Account/{r['Id']}"
            )
            for r in self._query(query)
        ]

    def _status_filter(self) -> list[Where]:
        statuses = self.settings.exclude_statuses
        return [Where("Status", "NOT IN", list(statuses))] if statuses else []

    def _lead_query(self, purpose: Literal["route", "rebalance"]) -> Query:
        where = [Where("IsConverted", "=", False), *self._status_filter()]
        if purpose == "route":
            waiting = list(self.settings.route_queues or self.queues) + list(
                self.settings.unowned_owners
            )
            where.append(Where("OwnerId", "IN", waiting))
        else:
            # Leads owned by people: not by a queue, not by a placeholder owner.
            not_owners = list(self.queues) + list(self.settings.unowned_owners)
            if not_owners:
                where.append(Where("OwnerId", "NOT IN", not_owners))
        if self.settings.created_since is not None:
            where.append(Where("CreatedDate", ">=", self.settings.created_since))
        return Query(
            sobject="Lead",
            fields=self.settings.fields.select("leads"),
            where=where,
            order_by=["CreatedDate", "Id"],
        )

    def _contact_query(self) -> Query:
        where = [Where("OwnerId", "IN", list(self.settings.unowned_owners))]
        if self.settings.created_since is not None:
            where.append(Where("CreatedDate", ">=", self.settings.created_since))
        return Query(
            sobject="Contact",
            fields=self.settings.fields.select("contacts"),
            where=where,
            order_by=["CreatedDate", "Id"],
        )

    def _leads(self, sobject: str, kind: str, records: Iterable[dict[str, Any]]) -> list[Lead]:
        mapping = self.settings.fields.of(kind)
        unowned = set(self.settings.unowned_owners)
        leads = []
        for record in records:
            record_id = str(record.get("Id", ""))
            owner = str(record.get("OwnerId") or "")
            queue = owner if is_queue(owner) else ""
            owner_id = "" if queue or owner in unowned else owner
            try:
                lead = lead_from(
                    record,
                    mapping,
                    owner_id=owner_id,
                    origin=f"salesforce:{sobject}/{record_id}",
                    ranges=self.settings.number_ranges,
                )
            except BadValue as exc:
                self._problem(sobject, record_id, "lead", exc)
                continue
            if queue:
                lead = attrs.evolve(
                    lead,
                    attributes={
                        **lead.attributes,
                        "queue_id": queue,
                        "queue": self.queues.get(queue, ""),
                    },
                )
            self.lead_types[lead.id] = lead.lead_type
            leads.append(lead)
        return leads

    def read_leads(self, purpose: Literal["route", "rebalance"]) -> list[Lead]:
        """Leads (and contacts, when the policy routes them) for this purpose."""
        if purpose == "route" and not (
            self.settings.route_queues or self.queues or self.settings.unowned_owners
        ):
            log.warning(
                "salesforce.read.no_queues", detail="no queue or unowned owner to read from"
            )
            return []
        leads = self._leads("Lead", "leads", self._query(self._lead_query(purpose)))
        if self.settings.contacts and purpose == "route":
            leads += self._leads("Contact", "contacts", self._query(self._contact_query()))
        return leads

    def read(self, purpose: Literal["route", "rebalance"]) -> Snapshot:
        """The whole snapshot for a purpose."""
        self.problems = []
        self.queues = self.read_queues()
        reps = self.read_reps()
        accounts = self.read_accounts()
        leads = self.read_leads(purpose)
        outcomes = read_outcomes(
            self._query, self.settings.outcomes, self.clock(), contacts=self.settings.contacts
        )
        log.info(
            "salesforce.read",
            purpose=purpose,
            leads=len(leads),
            reps=len(reps),
            queues=len(self.queues),
            accounts=len(accounts),
            outcomes=len(outcomes),
            problems=len(self.problems),
            calls=self.client.calls,
        )
        return Snapshot(
            leads=tuple(leads),
            reps=tuple(reps),
            accounts=tuple(accounts),
            problems=tuple(self.problems),
            outcomes=tuple(outcomes),
        )
