"""The moto(-ext 5.1.20.post22) definitions the ``kafka:local`` / ``mq:local`` providers patch or rely on, as
fingerprints (see ``cmp_localstack/ddb_moto/parity.py`` for how they are computed and checked). Pure data: checked by
``scripts/localstack/check-moto-parity.py`` before LocalStack starts and by ``patches.apply_moto_patches`` on load.
To accept a new moto after reviewing ``patches.py`` and the providers: ``check-moto-parity.py --print-fingerprints``.
"""

EXPECTED_SHAPES: dict[tuple[str, str], str] = {
    # patched (patches.py)
    ("kafka/models.py", "FakeKafkaCluster._generate_arn"): "5ad882b5bfa7e576",
    ("mq/models.py", "Broker.__init__"): "585f84b3c6f23e58",
    # relied on by the patches and the providers (attribute names, what create/describe/delete do)
    ("kafka/models.py", "FakeKafkaCluster.__init__"): "977a19114fca75a1",
    ("kafka/models.py", "KafkaBackend.create_cluster"): "9d885311b5caf2bb",
    ("kafka/models.py", "KafkaBackend.create_cluster_v2"): "1afdd23dadf280d6",
    ("kafka/models.py", "KafkaBackend.describe_cluster"): "82d469a455513b18",
    ("kafka/models.py", "KafkaBackend.describe_cluster_v2"): "e6e0ca90f485aef9",
    ("kafka/models.py", "KafkaBackend.delete_cluster"): "392e80e72a4b529a",
    ("mq/models.py", "MQBackend.create_broker"): "1db60b4d1eb6ffd9",
    ("mq/models.py", "MQBackend.delete_broker"): "655cad54294438ab",
}
