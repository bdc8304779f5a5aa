"""The ``events:parity`` provider: LocalStack's EventBridge provider (v2) with rule processing and replays as AWS has them.

Overrides (each of the LocalStack methods it replaces or relies on is fingerprinted in ``localstack_shapes``):

* ``_process_rules`` (one matched rule, one event; called on LocalStack's per-event thread for PutEvents and by
  replays): a DISABLED rule matches nothing (LocalStack delivered to it), and each target is delivered through
  ``delivery.Deliverer`` (RetryPolicy, DeadLetterConfig) instead of once with the error logged;
* ``start_replay`` and ``cancel_replay``: see ``replay``;
* ``update_archive``: a new ``EventPattern`` also changes what the archive's rule archives (LocalStack only stored it);
* the Step Functions target sender (``TargetSenderFactory.register_target_sender``, LocalStack's extension point):
  executions get a generated name, as on AWS. LocalStack named them after ``event["id"]``, which fails for an
  InputTransformer whose output has no ``id`` (KeyError, or TypeError for a string) and, for STANDARD machines,
  for any second delivery of the same event (a retry, a replay) with ExecutionAlreadyExists;
* ``EventRuleEngine._evaluate_wildcard`` (the pattern engine of rules and archives, and of Lambda ESM filters once
  this provider is loaded): ``*`` matches zero or more characters, as in AWS's patterns (``"*/lib/*"`` matches
  ``/lib/a``); LocalStack required one or more.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from localstack.aws.api import RequestContext, handler
from localstack.aws.api.events import (
    Arn,
    ArchiveDescription,
    ArchiveName,
    CancelReplayResponse,
    EventPattern,
    IllegalStatusException,
    KmsKeyIdentifier,
    ReplayDescription,
    ReplayDestination,
    ReplayName,
    ReplayState,
    ResourceAlreadyExistsException,
    RetentionDays,
    RuleState,
    StartReplayResponse,
    Timestamp,
    UpdateArchiveResponse,
)
from localstack.services.events.event_rule_engine import EventRuleEngine
from localstack.services.events.models import Rule, ValidationException
from localstack.services.events.provider import EventsProvider
from localstack.services.events.target import StatesTargetSender, TargetSenderFactory
from localstack.services.events.utils import extract_event_bus_name, is_archive_arn, to_json_str
from localstack.utils.event_matcher import matches_event
from localstack.utils.xray.trace_header import TraceHeader

from . import replay as replays
from .delivery import Deliverer

LOG = logging.getLogger(__name__)


def _evaluate_wildcard(condition: str, value) -> bool:
    return isinstance(value, str) and re.fullmatch(re.escape(condition).replace(r"\*", ".*"), value, re.S) is not None


class GeneratedNameStatesTargetSender(StatesTargetSender):
    def send_event(self, event, trace_header):
        self.service = "stepfunctions"  # the client's service, as in LocalStack's sender
        self.client.start_execution(stateMachineArn=self.target["Arn"], input=to_json_str(event))


class EventsParityProvider(EventsProvider):
    def __init__(self):
        super().__init__()
        self.deliverer = Deliverer()
        TargetSenderFactory.register_target_sender("states", GeneratedNameStatesTargetSender)
        EventRuleEngine._evaluate_wildcard = staticmethod(_evaluate_wildcard)

    def on_before_stop(self):
        super().on_before_stop()
        self.deliverer.stop()

    def on_before_state_reset(self):
        super().on_before_state_reset()
        self.deliverer.clear()

    # --- rules -> targets ------------------------------------------------------------------------------------
    def _process_rules(self, rule: Rule, region: str, account_id: str, event_formatted: dict, trace_header) -> None:
        if rule.state == RuleState.DISABLED or not matches_event(rule.event_pattern, event_formatted):
            return
        for target in list(rule.targets.values()):
            if is_archive_arn(target["Arn"]):
                self._put_to_archive(region, account_id, archive_target_id=target["Id"], event=event_formatted)
                continue
            sender = self._target_sender_store.get(f"{rule.arn}-{target['Id']}")
            if sender is not None:  # None: the target was removed since the rule matched
                self.deliverer.deliver(sender, event_formatted, trace_header)

    # --- archives and replays --------------------------------------------------------------------------------
    @handler("UpdateArchive")
    def update_archive(
        self,
        context: RequestContext,
        archive_name: ArchiveName,
        description: ArchiveDescription = None,
        event_pattern: EventPattern = None,
        retention_days: RetentionDays = None,
        kms_key_identifier: KmsKeyIdentifier = None,
        **kwargs,
    ) -> UpdateArchiveResponse:
        response = super().update_archive(
            context, archive_name, description, event_pattern, retention_days, kms_key_identifier, **kwargs
        )
        if event_pattern is not None:
            self._archive_service_store[response["ArchiveArn"]]._create_archive_rule()  # PutRule: the new pattern
        return response

    @handler("StartReplay")
    def start_replay(
        self,
        context: RequestContext,
        replay_name: ReplayName,
        event_source_arn: Arn,
        event_start_time: Timestamp,
        event_end_time: Timestamp,
        destination: ReplayDestination,
        description: ReplayDescription = None,
        **kwargs,
    ) -> StartReplayResponse:
        # LocalStack's checks, in its order
        store = self.get_store(context.region, context.account_id)
        if replay_name in store.replays:
            raise ResourceAlreadyExistsException(f"Replay {replay_name} already exists.")
        self._validate_replay_time(event_start_time, event_end_time)
        if event_source_arn not in self._archive_service_store:
            raise ValidationException(
                f"Parameter EventSourceArn is not valid. Reason: Archive {event_source_arn.split('/')[-1]} does not exist."
            )
        self._validate_replay_destination(destination, event_source_arn)

        service = self.create_replay_service(
            replay_name,
            context.region,
            context.account_id,
            event_source_arn,
            destination,
            event_start_time,
            event_end_time,
            description,
        )  # STARTING
        replay = service.replay
        replay.replay_start_time = datetime.now(UTC)
        store.replays[replay_name] = replay

        archive = self._archive_service_store[event_source_arn].archive
        events = replays.events_in_window(list(archive.events.values()), replay.event_start_time, replay.event_end_time)
        bus = self.get_event_bus(extract_event_bus_name(destination["Arn"]), store)
        only = set(destination.get("FilterArns") or [])
        rules = [r for r in bus.rules.values() if not r.schedule_expression and (not only or r.arn in only)]
        trace_header = TraceHeader().ensure_root_exists()

        def process_rule(rule: Rule, event: dict) -> None:
            self._process_rules(rule, context.region, context.account_id, event, trace_header)

        replays.ReplayRun(replay, events, rules, process_rule, replays.step_seconds()).start()
        return StartReplayResponse(
            ReplayArn=replay.arn, State=ReplayState.STARTING, ReplayStartTime=replay.replay_start_time
        )

    @handler("CancelReplay")
    def cancel_replay(self, context: RequestContext, replay_name: ReplayName, **kwargs) -> CancelReplayResponse:
        replay = self.get_replay(replay_name, self.get_store(context.region, context.account_id))
        if replay.state not in (ReplayState.STARTING, ReplayState.RUNNING):
            raise IllegalStatusException(f"Replay {replay_name} can be cancelled only when it is STARTING or RUNNING.")
        return super().cancel_replay(context, replay_name, **kwargs)  # CANCELLING; the run then ends CANCELLED
