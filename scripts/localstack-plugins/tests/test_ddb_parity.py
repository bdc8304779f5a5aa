"""T0: the install-time guard (scripts/localstack/check-moto-parity.py), and proof -- against the installed moto,
in-process, no LocalStack -- that each moto patch is still needed and works. Run with the LocalStack venv's python."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.path.dirname(HERE)
CHECK_SCRIPT = os.path.join(PLUGINS, "..", "localstack", "check-moto-parity.py")
PARITY_PY = os.path.join(PLUGINS, "cmp_localstack", "ddb_moto", "parity.py")

pytest.importorskip("moto", reason="run this suite with the LocalStack venv's python")


def load_parity():
    spec = importlib.util.spec_from_file_location("_parity_under_test", PARITY_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_t0_guard_passes_on_installed_moto():
    proc = subprocess.run(
        [sys.executable, CHECK_SCRIPT, "--no-plugins"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "check-moto-parity: OK (moto-ext==5.1.20.post22" in proc.stdout


def test_t0_guard_with_plugin_entry_points():
    """needs the plugin package installed in this venv (pip install --no-deps --no-build-isolation ...)"""
    proc = subprocess.run([sys.executable, CHECK_SCRIPT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "dynamodb:moto + dynamodbstreams:moto installed" in proc.stdout


@pytest.fixture
def moto_copy(tmp_path):
    parity = load_parity()
    src = parity.moto_package_dir()
    for rel in {rel for rel, _ in parity.EXPECTED_SHAPES}:
        dst = tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(src, rel), dst)
    return parity, tmp_path


def test_t0_guard_detects_changed_function(moto_copy):
    parity, root = moto_copy
    assert parity.check_moto_shapes(str(root)) == []
    path = root / "dynamodb/models/__init__.py"
    text = path.read_text()
    # formatting / comments do not count ...
    reworded = text.replace("# Create a backup in case any of the transactions fail", "# reworded comment")
    assert reworded != text, "the comment this test rewords is gone from moto: pick another"
    path.write_text(reworded)
    assert parity.check_moto_shapes(str(root)) == []
    # ... code does (e.g. upstream fixing the rollback differently)
    changed = text.replace("original_table_state[table_name] = copy.deepcopy(", "original_table_state[table_name] = (", 1)
    assert changed != text
    path.write_text(changed)
    problems = parity.check_moto_shapes(str(root))
    assert len(problems) == 1 and "DynamoDBBackend.transact_write_items changed" in problems[0], problems


def test_t0_guard_detects_missing_definition(moto_copy):
    parity, root = moto_copy
    path = root / "dynamodbstreams/models.py"
    path.write_text(path.read_text().replace("class ShardIterator(", "class ShardIteratorV2("))
    problems = parity.check_moto_shapes(str(root))
    assert any("ShardIterator not found" in p for p in problems), problems


def test_t0_guard_detects_other_moto_version(monkeypatch):
    parity = load_parity()
    assert parity.check_moto_version() == []
    monkeypatch.setattr(parity.importlib.metadata, "version", lambda dist: "5.1.21.post1")
    problems = parity.check_moto_version()
    assert problems and "5.1.21.post1" in problems[0]


# --- each patch is needed (unpatched moto shows the bug) and effective (patched moto does not) ------------

SCENARIO = r"""
import json, sys
import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
if sys.argv[1] == "patched":
    sys.path.insert(0, sys.argv[2])
    from cmp_localstack.ddb_moto.patches import apply_moto_patches
    apply_moto_patches()
out = {}
with mock_aws():
    d = boto3.client("dynamodb", region_name="eu-west-1")
    s = boto3.client("dynamodbstreams", region_name="eu-west-1")
    arn = d.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    shard = s.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    d.put_item(TableName="t", Item={"pk": {"S": "a"}})
    it = s.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    try:
        d.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "a"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}}])
    except ClientError:
        pass
    d.put_item(TableName="t", Item={"pk": {"S": "c"}})
    recs = s.get_records(ShardIterator=it)["Records"]
    out["after_cancelled_tx"] = [r["dynamodb"]["Keys"]["pk"]["S"] for r in recs]
    first = s.get_records(ShardIterator=s.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"][0]
    out["insert_has_old_image"] = "OldImage" in first["dynamodb"]
    out["aws_region"] = first["awsRegion"]
    d.update_table(TableName="t", StreamSpecification={"StreamEnabled": False})
    try:
        d.put_item(TableName="t", Item={"pk": {"S": "d"}})
        out["put_after_disable"] = "ok"
    except Exception as e:
        out["put_after_disable"] = type(e).__name__
print(json.dumps(out))
"""


def run_scenario(mode: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", SCENARIO, mode, PLUGINS],
        capture_output=True,
        text=True,
        timeout=120,
        # moto in-process: no endpoint override (npm test exports AWS_ENDPOINT_URL for LocalStack)
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")},
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        },
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_t0_patches_needed_and_effective():
    unpatched, patched = run_scenario("unpatched"), run_scenario("patched")
    print(f"\nunpatched moto: {unpatched}\npatched moto:   {patched}")
    # moto 5.1.20 as shipped: the phantom record of the cancelled transaction, and never "c"
    assert unpatched["after_cancelled_tx"] == ["b"]
    assert unpatched["insert_has_old_image"] is True
    assert unpatched["aws_region"] == "us-east-1"
    assert unpatched["put_after_disable"] != "ok"
    assert patched == {
        "after_cancelled_tx": ["c"],
        "insert_has_old_image": False,
        "aws_region": "eu-west-1",
        "put_after_disable": "ok",
    }
