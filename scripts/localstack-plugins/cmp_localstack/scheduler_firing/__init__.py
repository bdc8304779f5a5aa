"""EventBridge Scheduler for LocalStack 4.13.1 that also runs its schedules.

Select:   PROVIDER_OVERRIDE_SCHEDULER=firing
The API is LocalStack's default Scheduler provider (moto's backend plus its expression check), unchanged; a
background loop (``firing``) invokes due schedules: one-time ``at()`` (in ScheduleExpressionTimezone), ``rate()``
and ``cron()`` (``timing``), for SQS, Lambda, SNS, EventBridge, Step Functions, Kinesis and universal
(aws-sdk) targets (``delivery``), with RetryPolicy, DeadLetterConfig and ActionAfterCompletion.

Settings (LocalStack's environment): CMP_SCHEDULER_TICK_SECONDS (default 1: just after every whole second),
CMP_SCHEDULER_RETRY_BASE_SECONDS (default 1) and CMP_SCHEDULER_RETRY_MAX_SECONDS (default 60): the backoff
between retries; CMP_SCHEDULER_ASSUME_ROLE (default 1: call targets with the target's RoleArn assumed; 0: plain
clients in the schedule's account).

Modules: ``providers`` (the plux PluginSpec, the entry point; import-light), ``provider`` (the provider: the
default one plus the loop's lifecycle and the API lock), ``firing``, ``timing``, ``delivery``.
"""
