"""The SLA clock: timers written with each decision, and the scheduler that fires them.

``clock.timers_for`` says which timers a decision gets (a reminder at a share of the SLA,
the breach at the deadline, the fallback queue's escalation), all in working time;
``scheduler.Scheduler`` claims due timers from the store and acts as the lead type's
``escalation`` says. A first touch (CRM activity, ``activity.csv`` or ``POST
/v1/outcomes``) stops a lead's clock.
"""

from __future__ import annotations

from leadroute.sla.clock import timers_for
from leadroute.sla.scheduler import Scheduler, TickReport

__all__ = ["Scheduler", "TickReport", "timers_for"]
