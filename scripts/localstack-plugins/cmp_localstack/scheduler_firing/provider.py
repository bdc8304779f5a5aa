"""The ``scheduler:firing`` provider: LocalStack's default Scheduler provider plus the firing loop."""

from __future__ import annotations

import functools
import logging

# importing LocalStack's provider module also applies its patch of moto's create_schedule (the expression check)
from localstack.services.scheduler.provider import SchedulerProvider

from .firing import SCHEDULER_LOCK, FiringLoop

LOG = logging.getLogger(__name__)


def locked_dispatch_table(table: dict) -> dict:
    """Every operation (provider method or moto fallback) runs under SCHEDULER_LOCK, so the loop never sees a
    schedule half-created or a group dict change while it iterates."""

    def wrap(handler):
        @functools.wraps(handler)
        def call(context, request):
            with SCHEDULER_LOCK:
                return handler(context, request)

        return call

    return {op: wrap(handler) for op, handler in table.items()}


class FiringSchedulerProvider(SchedulerProvider):
    def __init__(self):
        super().__init__()
        self.firing = FiringLoop()

    def on_before_start(self):
        self.firing.start()

    def on_before_stop(self):
        self.firing.stop()

    def on_before_state_reset(self):
        self.firing.reset()

    def on_after_state_reset(self):
        self.firing.start()

    def on_after_state_load(self):
        self.firing.start()
