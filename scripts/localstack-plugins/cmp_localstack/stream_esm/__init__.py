"""Kinesis and DynamoDB Streams event source mappings as AWS runs them (LocalStack 4.13.1, ESM v2).

Always on (an ``on_infra_start`` hook, ``plugin.py``); what is patched and why: ``patches.py``.
"""
