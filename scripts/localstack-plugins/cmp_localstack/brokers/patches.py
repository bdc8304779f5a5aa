"""Fixes applied to moto(-ext 5.1.20.post22) ``kafka`` and ``mq`` models when the providers load. moto has no
extension point for identifiers and endpoints; every function touched or relied on is fingerprinted in ``parity.py``
and a mismatch stops the provider from loading (and ``localstack.sh start`` before that).

1. ``FakeKafkaCluster._generate_arn``: AWS's cluster ARN is ``cluster/<name>/<uuid>-<n>`` for provisioned and
   serverless clusters (moto: ``cluster/<uuid>`` and ``serverless-cluster/<uuid>``).
2. ``Broker.__init__``: AWS's broker id is ``b-<uuid>`` and its ARN ``broker:<name>:<id>`` (moto: 6 hex digits,
   ``broker:<id>``); the endpoints are the local RabbitMQ / ActiveMQ (``config``) instead of ``mockmq``, a
   RabbitMQ broker's console URL the local management API.
"""

import logging
import threading
import uuid

from cmp_localstack.ddb_moto.parity import check_moto_shapes

from . import config
from .parity import EXPECTED_SHAPES

LOG = logging.getLogger(__name__)

_patch_lock = threading.Lock()
_patched = False


def apply_moto_patches() -> None:
    global _patched
    with _patch_lock:
        if _patched:
            return
        problems = check_moto_shapes(shapes=EXPECTED_SHAPES)
        if problems:
            raise RuntimeError(f"moto does not match what cmp_localstack.brokers expects: {problems}")
        from moto.kafka.models import FakeKafkaCluster
        from moto.mq.models import Broker
        from moto.utilities.utils import get_partition

        # ---- 1. MSK cluster ARNs ----------------------------------------------------------------------------
        def generate_arn(self) -> str:
            suffix = "s1" if self.cluster_type == "SERVERLESS" else "1"
            return (
                f"arn:{get_partition(self.region_name)}:kafka:{self.region_name}:{self.account_id}:"
                f"cluster/{self.cluster_name}/{self.cluster_id}-{suffix}"
            )

        generate_arn.__wrapped__ = FakeKafkaCluster._generate_arn
        FakeKafkaCluster._generate_arn = generate_arn

        # ---- 2. Amazon MQ broker ids, ARNs and endpoints ------------------------------------------------------
        orig_broker_init = Broker.__init__

        def broker_init(self, name, account_id, region, *args, **kwargs):
            orig_broker_init(self, name, account_id, region, *args, **kwargs)
            self.id = f"b-{uuid.uuid4()}"
            self.arn = f"arn:{get_partition(region)}:mq:{region}:{account_id}:broker:{name}:{self.id}"
            endpoints = [config.rabbitmq_amqp()] if self.engine_type.upper() == "RABBITMQ" else config.activemq_endpoints()
            for instance in self.instances:
                instance["endpoints"] = list(endpoints)
                instance["ipAddress"] = "127.0.0.1"
                if self.engine_type.upper() == "RABBITMQ":
                    instance["consoleURL"] = config.rabbitmq_management()

        broker_init.__wrapped__ = orig_broker_init
        Broker.__init__ = broker_init

        _patched = True
        LOG.debug("moto kafka/mq patches applied")
