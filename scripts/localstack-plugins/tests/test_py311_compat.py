"""LocalStack 4.13.1 on Python < 3.13 (scripts/localstack/py311_compat.py): the services the kit
relies on that broke on 3.11 work. Runs against the live LocalStack like the other plugin tests."""
import json
import uuid

import pytest


def test_kms_customer_managed_key_encrypts_and_decrypts(aws_client):
    kms = aws_client("kms")
    key = kms.create_key(Description="compat check")["KeyMetadata"]
    assert key["KeyState"] == "Enabled"
    kms.enable_key_rotation(KeyId=key["KeyId"])
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"


def test_sqs_queue_encrypted_with_a_customer_managed_key(aws_client, unique_name):
    kms, sqs = aws_client("kms"), aws_client("sqs")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    url = sqs.create_queue(QueueName=unique_name, Attributes={"KmsMasterKeyId": key_id})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 1}))
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [{"n": 1}]


@pytest.mark.parametrize("name", ["abc", b"abc"])
def test_uuid5_accepts_str_and_bytes_names_like_python_312(name):
    # the values Python 3.12+ returns
    assert str(uuid.uuid5(uuid.NAMESPACE_URL, name)) == "68661508-f3c4-55b4-945d-ae2b4dfe5db4"
