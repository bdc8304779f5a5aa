"""The users of Amazon MQ brokers, created on the local brokers: what ``CreateBroker``, ``CreateUser`` and
``UpdateUser`` say (username, password, groups) becomes a user of the local RabbitMQ (management HTTP API, tag
``administrator``, all permissions on every vhost -- what Amazon MQ gives a broker's user) or ActiveMQ
(``users.properties`` / ``groups.properties``, which the broker re-reads at the next login). So a deploy that
generates the broker password into a secret works locally as on AWS. Users are not removed (all brokers of an engine
share one local broker), and the user of ``scripts/brokers.sh`` (the admin LocalStack itself uses) is left as it is.
A local broker that is not running only costs a warning."""

import base64
import json
import logging
import os
import threading
import urllib.request
from urllib.parse import quote

from . import config

LOG = logging.getLogger(__name__)
_files_lock = threading.Lock()


def provision(engine: str, users: list[dict]) -> None:
    """``users``: wire-format dicts (``username``, ``password``, ``groups``) of an engine's broker."""
    admin = config.admin_credentials()[0]
    users = [u for u in users if u.get("username") and u.get("password") and u["username"] != admin]
    if not users:
        return
    try:
        if engine.upper() == "RABBITMQ":
            _rabbitmq(users)
        else:
            _activemq(users)
    except Exception as e:  # noqa: BLE001
        LOG.warning("could not create the broker user(s) %s on the local %s: %s", [u["username"] for u in users], engine, e)


def _rabbitmq_call(method: str, path: str, body: dict | None = None):
    username, password = config.admin_credentials()
    request = urllib.request.Request(
        config.rabbitmq_management().rstrip("/") + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "content-type": "application/json",
            "authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        data = response.read()
    return json.loads(data) if data else None


def _rabbitmq(users: list[dict]) -> None:
    vhosts = [v["name"] for v in _rabbitmq_call("GET", "/api/vhosts")]
    for user in users:
        name = quote(user["username"], safe="")
        _rabbitmq_call("PUT", f"/api/users/{name}", {"password": user["password"], "tags": "administrator"})
        for vhost in vhosts:
            _rabbitmq_call("PUT", f"/api/permissions/{quote(vhost, safe='')}/{name}", {"configure": ".*", "write": ".*", "read": ".*"})


def _read_properties(path: str) -> dict[str, str]:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line and not line.startswith("#"))


def _write_properties(path: str, values: dict[str, str]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(f"{k}={v}\n" for k, v in values.items())
    os.replace(tmp, path)


def _activemq(users: list[dict]) -> None:
    users_file = config.activemq_users_file()
    if not users_file:
        raise RuntimeError("CMP_ACTIVEMQ_USERS_FILE is not set")
    groups_file = os.path.join(os.path.dirname(users_file), "groups.properties")
    with _files_lock:
        passwords, groups = _read_properties(users_file), _read_properties(groups_file)
        for user in users:
            passwords[user["username"]] = user["password"]
            for group in user.get("groups") or []:
                members = [m for m in groups.get(group, "").split(",") if m]
                groups[group] = ",".join(members if user["username"] in members else [*members, user["username"]])
        _write_properties(groups_file, groups)
        _write_properties(users_file, passwords)
