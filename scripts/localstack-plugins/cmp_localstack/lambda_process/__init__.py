"""LocalStack Lambda runtime executor that runs Node.js functions as local processes.

Selected with ``LAMBDA_RUNTIME_EXECUTOR=process``. ``plugin.py`` is what plux imports while indexing
entry points (keep it import-light); ``executor.py`` holds the executor; ``runner/runner.cjs`` is the
Node.js side that speaks LocalStack's init protocol and calls the handler.
"""
