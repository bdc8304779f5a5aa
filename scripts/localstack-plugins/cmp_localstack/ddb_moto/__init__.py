"""DynamoDB and DynamoDB Streams for LocalStack 4.13.1, served in-process by moto (moto-ext 5.1.20.post22).

Select (always both):   PROVIDER_OVERRIDE_DYNAMODB=moto PROVIDER_OVERRIDE_DYNAMODBSTREAMS=moto
Optional:               DYNAMODB_REMOVE_EXPIRED_ITEMS=1 (periodic TTL sweeper; period CMP_DDB_TTL_SWEEP_SECONDS,
                        default 3600); DELETE /_aws/dynamodb/expired sweeps on demand (same contract as
                        LocalStack's); CMP_DDB_MAX_SHARD_ITERATORS (default 10000 live iterators per account/region).
Test only:              CMP_DDB_MOTO_UNSAFE_NO_LOCK=1 disables the lock (shows the race; never use otherwise).

Enforce (a missing/broken plugin does not stop LocalStack from starting):
  before start:  <venv>/bin/python scripts/localstack/check-moto-parity.py   (exit 1 -> do not start)
  after start:   GET /_localstack/health -> services.dynamodb and services.dynamodbstreams present and
                 "available"/"running" (absent: the configured provider does not exist, calls answer 501;
                 "error": the provider failed to load, calls answer 500).

Modules: ``providers`` (plux PluginSpecs, the entry points), ``common`` (the lock, locked moto calls),
``patches`` (moto fixes), ``parity`` (fingerprints of the moto code the patches rely on), ``dynamodb`` and
``streams`` (the providers).
"""
