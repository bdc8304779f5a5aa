"""Step Functions for LocalStack 4.13.1: ``TaskTimedOut`` for tokens of closed tasks, and ``RedriveExecution``
(which LocalStack answers with "not implemented").

Always on (an ``on_infra_start`` hook, ``plugin.py``); what is patched and why: ``patches.py``.
"""
