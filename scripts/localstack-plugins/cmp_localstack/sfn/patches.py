"""Step Functions patches, applied to LocalStack 4.13.1's provider at start (before its dispatch table is built, on
its first request).

1. Task tokens of closed tasks. ``SendTaskSuccess``/``SendTaskFailure``/``SendTaskHeartbeat`` with the token of a
   task that is no longer waiting answer ``TaskTimedOut`` on AWS ("The task token has either expired or the task
   associated with the token has already been closed"); LocalStack answered ``InvalidToken`` once the execution
   had closed (it searched running executions only). ``InvalidToken`` stays for tokens it never issued.

2. ``RedriveExecution`` and the redrive fields of ``DescribeExecution`` (LocalStack: "not implemented"). As AWS
   (Step Functions API reference, RedriveExecution; developer guide "Redriving executions"):
   - only a STANDARD execution whose status is FAILED, TIMED_OUT or ABORTED can be redriven; anything else (and
     an Express execution) is ``ExecutionNotRedrivable``; an unknown ARN is ``ExecutionDoesNotExist``;
   - the execution keeps its ARN, name, start date and original input (``$$.Execution.Input``); it restarts at
     the top-level state that did not complete, with the input that state had, so the states that succeeded
     are not run again; ``$$.Execution.RedriveCount`` counts the redrives;
   - the history goes on: the earlier events, ``ExecutionRedriven`` (``redriveCount``), then the new ones;
   - ``RedriveExecution`` answers ``redriveDate``; ``DescribeExecution`` reports ``redriveCount``,
     ``redriveDate`` (after a redrive), ``redriveStatus`` (``REDRIVABLE`` / ``NOT_REDRIVABLE``) and
     ``redriveStatusReason``.
   Not emulated: the 14-day redrive window, the 1000-redrive limit, ``clientToken`` idempotency, and Map /
   Parallel states are re-run whole (AWS re-runs only their unsuccessful iterations / branches).
"""

from __future__ import annotations

import datetime
import json
import logging
import threading

from cmp_localstack import ls_shapes

LOG = logging.getLogger(__name__)

_SFN = "localstack.services.stepfunctions"
EXPECTED_SHAPES = {
    f"{_SFN}.provider:StepFunctionsProvider.send_task_success": "8fba002db831991f",
    f"{_SFN}.provider:StepFunctionsProvider.send_task_failure": "4fbd2f29d34d7cd3",
    f"{_SFN}.provider:StepFunctionsProvider.send_task_heartbeat": "fae079c564442496",
    f"{_SFN}.asl.eval.callback.callback:CallbackPoolManager.get": "0afb8f26a8e49c42",
    f"{_SFN}.provider:StepFunctionsProvider._get_execution": "7e1004a2d92a5606",
    f"{_SFN}.backend.execution:Execution.__init__": "2e91c821d39f84eb",
    f"{_SFN}.backend.execution:Execution.to_describe_output": "de7bb85fc2a8acd9",
    f"{_SFN}.backend.execution:Execution._get_start_execution_worker": "9404bba3df67ae95",
    f"{_SFN}.backend.execution:BaseExecutionWorkerCommunication._reflect_execution_status": "fa29a5c65d18c7f6",
    f"{_SFN}.backend.execution_worker:ExecutionWorker._execution_logic": "8beb86b05bc43658",
    f"{_SFN}.backend.execution_worker:ExecutionWorker._get_evaluation_entrypoint": "7781ae87fe7a2257",
    f"{_SFN}.asl.eval.event.event_manager:EventManager.__init__": "ad30f36fc72e6e15",
    f"{_SFN}.asl.eval.event.event_manager:EventIdGenerator": "ceb1d5b05aa4f930",
}
REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")

_lock = threading.Lock()


def _closed_task_tokens(method):
    """Wrap a ``SendTask*`` handler: ``InvalidToken`` for a token some execution issued -> ``TaskTimedOut``."""
    from localstack.aws.api.stepfunctions import InvalidToken, TaskTimedOut

    def wrapper(self, context, task_token, *args, **kwargs):
        try:
            return method(self, context, task_token, *args, **kwargs)
        except InvalidToken:
            for execution in list(self.get_store(context).executions.values()):
                env = execution.exec_worker.env if execution.exec_worker else None
                if env is not None and env.callback_pool_manager.get(task_token) is not None:
                    raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'") from None
            raise

    return ls_shapes.mark(wrapper, method)


def _restart_point(execution) -> tuple[str, object]:
    """(name, input) of the last top-level state entered: the one that did not complete."""
    top_level = set(json.loads(execution.state_machine.definition)["States"])
    for event in reversed(execution.exec_worker.env.event_manager.get_event_history()):
        details = event.get("stateEnteredEventDetails")
        if details and details["name"] in top_level:
            return details["name"], json.loads(details.get("input") or "null")
    raise ValueError("no state was entered")


def _worker_class():
    from localstack.aws.api.stepfunctions import ExecutionRedrivenEventDetails, HistoryEventType
    from localstack.services.stepfunctions.asl.eval.event.event_detail import EventDetails
    from localstack.services.stepfunctions.asl.eval.event.event_manager import EventHistoryContext
    from localstack.services.stepfunctions.asl.parse.asl_parser import AmazonStateLanguageParser
    from localstack.services.stepfunctions.backend.execution_worker import ExecutionWorker

    class RedriveExecutionWorker(ExecutionWorker):
        """Runs the program from ``start_at`` with ``state_input``, the history continued from ``previous``."""

        def __init__(self, *, start_at: str, state_input, previous: list, redrive_count: int, **kwargs):
            super().__init__(**kwargs)
            self.start_at, self.state_input = start_at, state_input
            self.previous, self.redrive_count = previous, redrive_count

        def _get_evaluation_entrypoint(self):
            definition = json.loads(self._evaluation_details.state_machine_details.definition)
            definition["StartAt"] = self.start_at
            return AmazonStateLanguageParser.parse(json.dumps(definition))[0]

        def _execution_logic(self):
            program = self._get_evaluation_entrypoint()
            env = self.env = self._get_evaluation_environment()
            env.states.context_object.context_object_data["Execution"]["RedriveCount"] = self.redrive_count
            env.states.reset(self.state_input)
            manager = env.event_manager
            manager._history_event_list.extend(self.previous)
            manager._event_id_gen._next_id = len(self.previous) + 1
            env.event_history_context = EventHistoryContext(previous_event_id=len(self.previous))
            manager.add_event(
                context=env.event_history_context,
                event_type=HistoryEventType.ExecutionRedriven,
                event_details=EventDetails(
                    executionRedrivenEventDetails=ExecutionRedrivenEventDetails(redriveCount=self.redrive_count)
                ),
            )
            program.eval(env)
            self._execution_communication.terminated()

    return RedriveExecutionWorker


def redrive_execution(self, context, execution_arn, client_token=None, **kwargs):
    from localstack.aws.api.stepfunctions import ExecutionNotRedrivable, RedriveExecutionOutput
    from localstack.services.stepfunctions.asl.eval.evaluation_details import EvaluationDetails

    execution = self._get_execution(context=context, execution_arn=execution_arn)
    if execution.sm_type != "STANDARD" or execution.exec_status not in REDRIVABLE:
        raise ExecutionNotRedrivable(f"Execution is {execution.exec_status} and cannot be redriven")
    with _lock:
        start_at, state_input = _restart_point(execution)
        previous = execution.exec_worker.env.event_manager.get_event_history()
        execution.cmp_redrive_count = getattr(execution, "cmp_redrive_count", 0) + 1
        execution.cmp_redrive_date = datetime.datetime.now(tz=datetime.UTC)
        execution.exec_status, execution.stop_date = "RUNNING", None
        execution.output = execution.error = execution.cause = None
        execution.exec_worker = _worker_class()(
            start_at=start_at, state_input=state_input, previous=previous,
            redrive_count=execution.cmp_redrive_count,
            evaluation_details=EvaluationDetails(
                aws_execution_details=execution._get_start_aws_execution_details(),
                execution_details=execution.get_start_execution_details(),
                state_machine_details=execution.get_start_state_machine_details(),
            ),
            exec_comm=execution._get_start_execution_worker_comm(),
            cloud_watch_logging_session=execution._cloud_watch_logging_session,
            activity_store=execution._activity_store,
            local_mock_test_case=execution.local_mock_test_case,
        )
        execution.publish_execution_status_change_event()
        execution.exec_worker.start()
    LOG.info("redriving %s from state %r (redrive %d)", execution_arn, start_at, execution.cmp_redrive_count)
    return RedriveExecutionOutput(redriveDate=execution.cmp_redrive_date)


def apply() -> None:
    from localstack.services.stepfunctions.backend.execution import Execution
    from localstack.services.stepfunctions.provider import StepFunctionsProvider

    with _lock:
        if ls_shapes.is_patched(Execution.to_describe_output):
            return
        ls_shapes.require(EXPECTED_SHAPES, "cmp Step Functions patches")
        if "redrive_execution" in StepFunctionsProvider.__dict__:
            raise RuntimeError("cmp Step Functions patches: LocalStack implements RedriveExecution now")

        orig_describe = Execution.to_describe_output

        def to_describe_output(self):
            out = orig_describe(self)
            out["redriveCount"] = getattr(self, "cmp_redrive_count", 0)
            if hasattr(self, "cmp_redrive_date"):
                out["redriveDate"] = self.cmp_redrive_date
            if self.exec_status in REDRIVABLE:
                out["redriveStatus"] = "REDRIVABLE"
            else:
                out["redriveStatus"] = "NOT_REDRIVABLE"
                out["redriveStatusReason"] = f"Execution is {self.exec_status} and cannot be redriven"
            return out

        Execution.to_describe_output = ls_shapes.mark(to_describe_output, orig_describe)
        # a plain method: the @handler("RedriveExecution") of the generated StepfunctionsApi base names it
        StepFunctionsProvider.redrive_execution = redrive_execution
        for name in ("send_task_success", "send_task_failure", "send_task_heartbeat"):
            setattr(StepFunctionsProvider, name, _closed_task_tokens(getattr(StepFunctionsProvider, name)))
        LOG.info("cmp Step Functions patches applied (closed task tokens, RedriveExecution)")
