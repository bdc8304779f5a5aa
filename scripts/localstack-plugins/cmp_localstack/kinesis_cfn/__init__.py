"""CloudFormation ``AWS::Kinesis::Stream`` as AWS creates it (LocalStack 4.13.1): see ``patches.py``.

Always on (an ``on_infra_start`` hook, ``plugin.py``).
"""
