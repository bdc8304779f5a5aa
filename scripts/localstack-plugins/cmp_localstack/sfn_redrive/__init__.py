"""Step Functions ``RedriveExecution`` for LocalStack 4.13.1 (which answers it with "not implemented").

Always on (an ``on_infra_start`` hook, ``plugin.py``); what it does and what it leaves out: ``patches.py``.
"""
