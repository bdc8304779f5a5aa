"""EventBridge for LocalStack 4.13.1 with the parts the kit's EventRouter needs as AWS has them.

Select:   PROVIDER_OVERRIDE_EVENTS=parity
LocalStack's EventBridge provider (v2), unchanged apart from:

* archive replays that work (``replay``): ``StartReplay`` on an archive holding events, the window
  ``[EventStartTime, EventEndTime)``, ``Destination.FilterArns``, ``replay-name`` on the replayed events,
  ``STARTING`` -> ``RUNNING`` -> ``COMPLETED`` with ``EventLastReplayedTime``; ``UpdateArchive`` of the pattern;
* target ``RetryPolicy`` and ``DeadLetterConfig`` (``delivery``);
* DISABLED rules deliver nothing (``provider``).

Settings (LocalStack's environment): CMP_EVENTS_TARGET_RETRY_BASE_SECONDS (default 0.2) and
CMP_EVENTS_TARGET_RETRY_MAX_SECONDS (default 3): the backoff between retries; CMP_EVENTS_REPLAY_STEP_SECONDS
(default 0.2): the pause before each minute of replayed events.

Modules: ``providers`` (the plux PluginSpec, the entry point; import-light), ``provider``, ``replay``, ``delivery``.
"""
