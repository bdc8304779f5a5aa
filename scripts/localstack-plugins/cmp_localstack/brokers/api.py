"""``kafka:local`` and ``mq:local``: Amazon MSK and Amazon MQ control planes served by moto in-process, with what moto
lacks for an event source mapping to work: clusters go ACTIVE, ``GetBootstrapBrokers`` names the local Kafka, MQ
brokers list the local RabbitMQ / ActiveMQ as endpoints (``patches``), unknown resources answer AWS's
``NotFoundException`` instead of a 500. Every operation not handled here goes to moto unchanged.

community 4.13.1 has no generated ``KafkaApi``/``MqApi`` class, so the dispatch table is a plain dict over the
operations of the botocore service model (``Skeleton`` accepts one).
"""

import json
import logging

from localstack.aws.api import CommonServiceException, RequestContext
from localstack.aws.spec import load_service
from localstack.services.moto import call_moto

from . import config, users

LOG = logging.getLogger(__name__)


def _not_found(message: str) -> CommonServiceException:
    return CommonServiceException("NotFoundException", message, status_code=404)


def _wire_body(context: RequestContext) -> dict:
    """The request's JSON body as sent (camelCase keys, as moto stores and returns them)."""
    try:
        return json.loads(context.request.data or b"{}")
    except ValueError:
        return {}


def dispatch_table(service: str, handlers: dict) -> dict:
    """``handlers`` for their operations, moto for every other operation of ``service``."""

    def moto(context: RequestContext, _request):
        return call_moto(context)

    return {op: handlers.get(op, moto) for op in load_service(service).operation_names}


# ---------------------------------------------------------------------------------------------------------------
# Amazon MSK


def _kafka_backend(context: RequestContext):
    from moto.kafka.models import kafka_backends

    return kafka_backends[context.account_id][context.region]


def _cluster(context: RequestContext, arn: str):
    cluster = _kafka_backend(context).clusters.get(arn)
    if cluster is None:
        raise _not_found(f"The resource {arn} doesn't exist.")  # AWS: 404 NotFoundException
    return cluster


def bootstrap_brokers(cluster) -> dict:
    """The ``GetBootstrapBrokers`` fields AWS returns for the cluster's client authentication and encryption in
    transit, all pointing at the local Kafka: SASL/SCRAM at the SASL_PLAINTEXT listener, everything else at the
    PLAINTEXT listener (no TLS and no IAM locally: TLS clients must connect without TLS, IAM clients without auth)."""
    plain, scram = config.kafka_bootstrap(), config.kafka_sasl_scram_bootstrap()
    if cluster.cluster_type == "SERVERLESS":  # serverless clusters support IAM only
        return {"BootstrapBrokerStringSaslIam": plain}
    auth = cluster.client_authentication or {}
    in_transit = (cluster.encryption_info or {}).get("encryptionInTransit") or {}
    client_broker = in_transit.get("clientBroker", "TLS")
    sasl = auth.get("sasl") or {}
    scram_on = (sasl.get("scram") or {}).get("enabled", False)
    iam_on = (sasl.get("iam") or {}).get("enabled", False)
    tls_auth_on = (auth.get("tls") or {}).get("enabled", False)
    unauthenticated = (auth.get("unauthenticated") or {}).get("enabled", not (scram_on or iam_on or tls_auth_on))
    out = {}
    if unauthenticated and client_broker in ("PLAINTEXT", "TLS_PLAINTEXT"):
        out["BootstrapBrokerString"] = plain
    if (unauthenticated or tls_auth_on) and client_broker in ("TLS", "TLS_PLAINTEXT"):
        out["BootstrapBrokerStringTls"] = plain
    if scram_on:
        out["BootstrapBrokerStringSaslScram"] = scram
    if iam_on:
        out["BootstrapBrokerStringSaslIam"] = plain
    return out


def _create_cluster(context: RequestContext, _request):
    response = call_moto(context)
    _cluster(context, response["ClusterArn"]).state = "ACTIVE"  # the answer keeps CREATING, as on AWS
    return response


def _create_cluster_v2(context: RequestContext, _request):
    response = call_moto(context)
    cluster = _cluster(context, response["ClusterArn"])
    # moto keeps only brokerNodeGroupInfo, kafkaVersion, numberOfBrokerNodes and storageMode of "provisioned"
    provisioned = _wire_body(context).get("provisioned") or {}
    cluster.client_authentication = provisioned.get("clientAuthentication")
    cluster.encryption_info = provisioned.get("encryptionInfo")
    cluster.configuration_info = provisioned.get("configurationInfo")
    cluster.logging_info = provisioned.get("loggingInfo")
    cluster.open_monitoring = provisioned.get("openMonitoring")
    cluster.enhanced_monitoring = provisioned.get("enhancedMonitoring", "DEFAULT")
    cluster.state = "ACTIVE"
    return response


def _existing_cluster_then_moto(context: RequestContext, request):
    _cluster(context, request["ClusterArn"])
    return call_moto(context)


def _delete_cluster(context: RequestContext, request):
    _cluster(context, request["ClusterArn"])
    response = call_moto(context)
    response["State"] = "DELETING"
    return response


def _get_bootstrap_brokers(context: RequestContext, request):
    return bootstrap_brokers(_cluster(context, request["ClusterArn"]))


KAFKA_HANDLERS = {
    "CreateCluster": _create_cluster,
    "CreateClusterV2": _create_cluster_v2,
    "DescribeCluster": _existing_cluster_then_moto,
    "DescribeClusterV2": _existing_cluster_then_moto,
    "DeleteCluster": _delete_cluster,
    "GetBootstrapBrokers": _get_bootstrap_brokers,
}

# ---------------------------------------------------------------------------------------------------------------
# Amazon MQ: moto answers NotFoundException for unknown brokers (but a 500 for DeleteBroker) and is RUNNING at once;
# the patches set ids, ARNs and endpoints; the brokers' users become users of the local broker (``users``).


def _broker(context: RequestContext, broker_id: str):
    from moto.mq.models import mq_backends

    broker = mq_backends[context.account_id][context.region].brokers.get(broker_id)
    if broker is None:
        raise _not_found(f"Can't find requested broker [{broker_id}]. Make sure your broker exists.")
    return broker


def _create_broker(context: RequestContext, _request):
    response = call_moto(context)
    body = _wire_body(context)
    users.provision(body.get("engineType", ""), body.get("users") or [])
    return response


def _create_or_update_user(context: RequestContext, request):
    broker = _broker(context, request["BrokerId"])
    response = call_moto(context)
    users.provision(broker.engine_type, [{**_wire_body(context), "username": request["Username"]}])
    return response


def _delete_broker(context: RequestContext, request):
    _broker(context, request["BrokerId"])
    return call_moto(context)


MQ_HANDLERS = {
    "CreateBroker": _create_broker,
    "CreateUser": _create_or_update_user,
    "UpdateUser": _create_or_update_user,
    "DeleteBroker": _delete_broker,
}
