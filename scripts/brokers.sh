#!/usr/bin/env bash
# Real message brokers on 127.0.0.1 for the Amazon MSK / Amazon MQ emulation (LocalStack plugins in
# scripts/localstack-plugins/cmp_localstack/brokers/ point clusters, brokers and event source mappings at them):
#
#   kafka     Apache Kafka 4.1 (KRaft, one node) from Maven Central, on Java 17: PLAINTEXT and SASL_PLAINTEXT
#             (SCRAM-SHA-512/256, PLAIN) listeners
#   rabbitmq  RabbitMQ 3.10 from Debian (rabbitmq-server): AMQP 0-9-1, vhosts "/" and "cmp", the management HTTP API
#             (LocalStack's mq:local creates the users of CreateBroker/CreateUser through it)
#   activemq  ActiveMQ Classic 5.17 from Debian (activemq): OpenWire, STOMP, AMQP 1.0 (transport from Maven
#             Central), MQTT; users in conf/users.properties, re-read at every login (mq:local adds users there)
#
# usage: scripts/brokers.sh install|start|stop|status|env [kafka|rabbitmq|activemq ...]
#
#   install  Debian packages (apt-get, as root) and the Kafka / ActiveMQ AMQP jars (Maven); idempotent
#   start    install if needed, then start the brokers not yet running and wait until they accept clients
#   stop     stop what `start` started (process groups, epmd); leaves nothing running
#   status   one line per broker
#   env      the `export` lines for tests and LocalStack: eval "$(scripts/brokers.sh env)"
#
# State (configs, data, logs, pids) lives in .brokers/ and is wiped at every start: the brokers start empty.
#
# Environment (defaults in brackets):
#   BROKERS_STATE_DIR [.brokers]      BROKERS_USER [cmp]        BROKERS_PASSWORD [cmp-secret]
#   BROKERS_KAFKA_PORT [9092]         BROKERS_KAFKA_SASL_PORT [9096]      BROKERS_KAFKA_CONTROLLER_PORT [9093]
#   BROKERS_RABBITMQ_PORT [5672]      BROKERS_RABBITMQ_DIST_PORT [25672]  BROKERS_EPMD_PORT [4371]
#   BROKERS_RABBITMQ_MANAGEMENT_PORT [15672]
#   BROKERS_ACTIVEMQ_OPENWIRE_PORT [61616]  BROKERS_ACTIVEMQ_STOMP_PORT [61613]
#   BROKERS_ACTIVEMQ_AMQP_PORT [5673]       BROKERS_ACTIVEMQ_MQTT_PORT [1883]
#   BROKERS_JAVA [java]               BROKERS_START_TIMEOUT [90]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${BROKERS_STATE_DIR:-$ROOT/.brokers}"
HOST=127.0.0.1
USER_NAME="${BROKERS_USER:-cmp}"
PASSWORD="${BROKERS_PASSWORD:-cmp-secret}"
KAFKA_PORT="${BROKERS_KAFKA_PORT:-9092}"
KAFKA_SASL_PORT="${BROKERS_KAFKA_SASL_PORT:-9096}"
KAFKA_CONTROLLER_PORT="${BROKERS_KAFKA_CONTROLLER_PORT:-9093}"
RABBITMQ_PORT="${BROKERS_RABBITMQ_PORT:-5672}"
RABBITMQ_DIST_PORT="${BROKERS_RABBITMQ_DIST_PORT:-25672}"
RABBITMQ_MANAGEMENT_PORT="${BROKERS_RABBITMQ_MANAGEMENT_PORT:-15672}"
EPMD_PORT="${BROKERS_EPMD_PORT:-4371}" # not Erlang's 4369: our own epmd, which `stop` can end
AMQ_OPENWIRE_PORT="${BROKERS_ACTIVEMQ_OPENWIRE_PORT:-61616}"
AMQ_STOMP_PORT="${BROKERS_ACTIVEMQ_STOMP_PORT:-61613}"
AMQ_AMQP_PORT="${BROKERS_ACTIVEMQ_AMQP_PORT:-5673}"
AMQ_MQTT_PORT="${BROKERS_ACTIVEMQ_MQTT_PORT:-1883}"
JAVA="${BROKERS_JAVA:-java}"
START_TIMEOUT="${BROKERS_START_TIMEOUT:-90}"
POMS="$ROOT/scripts/brokers"
DEBIAN_PACKAGES=(rabbitmq-server activemq)
ACTIVEMQ_HOME=/usr/share/activemq
RABBITMQ_BIN=/usr/lib/rabbitmq/bin
RABBIT_NODE="cmp-rabbit-$RABBITMQ_PORT@localhost"
ALL=(kafka rabbitmq activemq)

log() { echo "[brokers] $*" >&2; }
die() { echo "[brokers] ERROR: $*" >&2; exit 1; }
usage() { echo "usage: $(basename "$0") install|start|stop|status|env [kafka|rabbitmq|activemq ...]" >&2; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pid_of() { # broker -> pid of the process group leader we started, if alive
  local f="$STATE/$1/pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# ---------------------------------------------------------------------------------------------
# install

inputs_hash() { cat "$POMS"/*.xml | sha256sum | cut -d' ' -f1; }

install_debian() {
  local missing=() p
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local -a sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "Debian packages ${missing[*]} are missing; install them as root: apt-get install ${missing[*]}"
    sudo=(sudo -n)
  fi
  log "installing Debian packages: ${missing[*]} (apt-get; ~1 min)"
  # the packages' postinst would start system services (as users rabbitmq/activemq, on the default ports):
  # policy-rc.d exit 101 forbids it while we install, unless the machine already has one
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod +x "$policy"
    added=1
  fi
  local rc=0
  "${sudo[@]}" apt-get update -qq >&2 || rc=$?
  ((rc == 0)) && { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || rc=$?; }
  ((added)) && "${sudo[@]}" rm -f "$policy"
  ((rc == 0)) || die "apt-get install ${missing[*]} failed"
}

install_jars() { # Kafka (and its runtime dependencies) and ActiveMQ's AMQP transport, from Maven Central
  local hash
  hash="$(inputs_hash)"
  [[ -f "$STATE/.jars" && "$(cat "$STATE/.jars")" == "$hash" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (Maven resolves Kafka from Maven Central)"
  log "resolving Kafka and the ActiveMQ AMQP transport from Maven Central (first time ~30 s)"
  rm -rf "$STATE/jars"
  mkdir -p "$STATE/jars"
  local pom
  for pom in kafka activemq; do
    mvn -B -ntp -f "$POMS/$pom-pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$STATE/jars/$pom" >"$STATE/maven-$pom.log" 2>&1 ||
      { tail -n 30 "$STATE/maven-$pom.log" >&2; die "Maven could not resolve $POMS/$pom-pom.xml"; }
  done
  echo "$hash" >"$STATE/.jars"
}

cmd_install() {
  local t0=$SECONDS
  mkdir -p "$STATE"
  command -v "$JAVA" >/dev/null || die "$JAVA not found (Kafka and ActiveMQ need Java 17+)"
  install_debian
  install_jars
  log "installed in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------------------------
# configs

write_kafka_config() {
  local d="$STATE/kafka"
  cat >"$d/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,SASL_PLAINTEXT://$HOST:$KAFKA_SASL_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,SASL_PLAINTEXT://$HOST:$KAFKA_SASL_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$USER_NAME="$PASSWORD";
log.dirs=$d/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  cat >"$d/log4j2.properties" <<EOF
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $d/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
EOF
}

write_rabbitmq_config() {
  local d="$STATE/rabbitmq"
  mkdir -p "$d/home" "$d/mnesia" "$d/log"
  cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.default = $HOST:$RABBITMQ_PORT
management.tcp.ip = $HOST
management.tcp.port = $RABBITMQ_MANAGEMENT_PORT
loopback_users = none
load_definitions = $d/definitions.json
EOF
  cat >"$d/definitions.json" <<EOF
{"users": [{"name": "$USER_NAME", "password": "$PASSWORD", "tags": "administrator"}],
 "vhosts": [{"name": "/"}, {"name": "cmp"}],
 "permissions": [
   {"user": "$USER_NAME", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
   {"user": "$USER_NAME", "vhost": "cmp", "configure": ".*", "write": ".*", "read": ".*"}]}
EOF
  echo '[rabbitmq_management].' >"$d/enabled_plugins"
}

write_activemq_config() {
  local d="$STATE/activemq"
  mkdir -p "$d/conf" "$d/data" "$d/lib"
  cp "$STATE"/jars/activemq/*.jar "$d/lib/" # ${activemq.base}/lib is on the broker's class path
  # schedulerSupport: delayed redelivery needs it; persistent=false: starts empty, like the other brokers
  cat >"$d/conf/activemq.xml" <<EOF
<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="cmp" useJmx="false" persistent="false"
          schedulerSupport="true" dataDirectory="$d/data">
    <plugins>
      <jaasAuthenticationPlugin configuration="cmp"/>
    </plugins>
    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://$HOST:$AMQ_OPENWIRE_PORT"/>
      <transportConnector name="stomp" uri="stomp://$HOST:$AMQ_STOMP_PORT"/>
      <transportConnector name="amqp" uri="amqp://$HOST:$AMQ_AMQP_PORT"/>
      <transportConnector name="mqtt" uri="mqtt://$HOST:$AMQ_MQTT_PORT"/>
    </transportConnectors>
  </broker>
</beans>
EOF
  # users as in Amazon MQ's simple authentication; PropertiesLoginModule re-reads the files when they change
  cat >"$d/conf/login.config" <<EOF
cmp {
  org.apache.activemq.jaas.PropertiesLoginModule required
    org.apache.activemq.jaas.properties.user="users.properties"
    org.apache.activemq.jaas.properties.group="groups.properties"
    reload=true;
};
EOF
  echo "$USER_NAME=$PASSWORD" >"$d/conf/users.properties"
  echo "admins=$USER_NAME" >"$d/conf/groups.properties"
  cat >"$d/conf/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$d/activemq.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=%d %-5p %m (%c)%n
EOF
}

# ---------------------------------------------------------------------------------------------
# start

spawn() { # broker cmd... : runs cmd in its own session (process group), output to <broker>/stdout.log
  local name="$1"
  shift
  (
    exec 9>&- # do not hand the lock to the broker
    exec setsid "$@"
  ) >>"$STATE/$name/stdout.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name/pid"
}

start_kafka() {
  local d="$STATE/kafka" cp="$STATE/jars/kafka/*"
  write_kafka_config
  # a fresh single-node cluster every start, with the SCRAM user (SASL_PLAINTEXT listener) in its metadata
  "$JAVA" -cp "$cp" -Dlog4j2.configurationFile="$d/log4j2.properties" kafka.tools.StorageTool format \
    -t "$(python3 -c 'import base64, uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')" -c "$d/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=$USER_NAME,password=$PASSWORD]" \
    --add-scram "SCRAM-SHA-256=[name=$USER_NAME,password=$PASSWORD]" >>"$d/stdout.log" 2>&1 ||
    die "kafka storage format failed: $d/stdout.log"
  spawn kafka "$JAVA" -Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$d/log4j2.properties" -cp "$cp" kafka.Kafka "$d/server.properties"
}

rabbit_env() { # the environment of every rabbitmq command of ours: `env "${RABBIT_ENV[@]}" cmd`
  local d="$STATE/rabbitmq"
  RABBIT_ENV=(HOME="$d/home" RABBITMQ_NODENAME="$RABBIT_NODE" RABBITMQ_CONF_ENV_FILE=/dev/null
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
    RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
    RABBITMQ_PID_FILE="$d/beam.pid" RABBITMQ_DIST_PORT="$RABBITMQ_DIST_PORT" ERL_EPMD_PORT="$EPMD_PORT"
    ERL_EPMD_ADDRESS="$HOST" RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}")
}
rabbit_env

start_rabbitmq() {
  write_rabbitmq_config
  spawn rabbitmq env "${RABBIT_ENV[@]}" "$RABBITMQ_BIN/rabbitmq-server"
}

start_activemq() {
  local d="$STATE/activemq"
  write_activemq_config
  spawn activemq "$JAVA" -Xms64m -Xmx256m -Djava.awt.headless=true \
    --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
    -Dactivemq.home="$ACTIVEMQ_HOME" -Dactivemq.base="$d" -Dactivemq.conf="$d/conf" -Dactivemq.data="$d/data" \
    -Djava.security.auth.login.config="$d/conf/login.config" \
    -jar "$ACTIVEMQ_HOME/bin/activemq.jar" start "xbean:file:$d/conf/activemq.xml"
}

ports_of() {
  case "$1" in
    kafka) echo "$KAFKA_PORT $KAFKA_SASL_PORT $KAFKA_CONTROLLER_PORT" ;;
    rabbitmq) echo "$RABBITMQ_PORT $RABBITMQ_DIST_PORT $RABBITMQ_MANAGEMENT_PORT" ;;
    activemq) echo "$AMQ_OPENWIRE_PORT $AMQ_STOMP_PORT $AMQ_AMQP_PORT $AMQ_MQTT_PORT" ;;
  esac
}

ready() { # broker: accepts clients
  case "$1" in
    kafka) port_open "$KAFKA_PORT" && port_open "$KAFKA_SASL_PORT" && grep -q 'Transitioning from RECOVERY to RUNNING' "$STATE/kafka/server.log" 2>/dev/null ;;
    rabbitmq) port_open "$RABBITMQ_PORT" && port_open "$RABBITMQ_MANAGEMENT_PORT" && env "${RABBIT_ENV[@]}" "$RABBITMQ_BIN/rabbitmqctl" -q -n "$RABBIT_NODE" await_startup --timeout 1 >/dev/null 2>&1 ;;
    activemq) port_open "$AMQ_OPENWIRE_PORT" && port_open "$AMQ_STOMP_PORT" && port_open "$AMQ_AMQP_PORT" && port_open "$AMQ_MQTT_PORT" ;;
  esac
}

cmd_start() {
  local t0=$SECONDS b p to_start=() pid
  cmd_install
  for b in "$@"; do
    if pid="$(pid_of "$b")"; then
      log "$b is already running (pid $pid)"
      continue
    fi
    for p in $(ports_of "$b"); do
      port_open "$p" && die "port $p ($b) is in use by a process this script did not start (set BROKERS_*_PORT)"
    done
    rm -rf "${STATE:?}/$b"
    mkdir -p "$STATE/$b"
    to_start+=("$b")
  done
  for b in "${to_start[@]}"; do
    log "starting $b ($(ports_of "$b" | tr ' ' ','))"
    "start_$b"
  done
  local deadline=$((SECONDS + START_TIMEOUT)) waiting=("$@")
  while ((${#waiting[@]})); do
    local still=()
    for b in "${waiting[@]}"; do
      if ! pid_of "$b" >/dev/null; then
        log "$b exited during start-up; last lines of $STATE/$b/stdout.log:"
        tail -n 30 "$STATE/$b/stdout.log" >&2 || true
        stop_one "$b"
        exit 1
      fi
      ready "$b" || still+=("$b")
    done
    waiting=("${still[@]}")
    ((${#waiting[@]})) || break
    ((SECONDS < deadline)) || { log "not ready after ${START_TIMEOUT} s: ${waiting[*]}"; for b in "${waiting[@]}"; do stop_one "$b"; done; exit 1; }
    sleep 0.3
  done
  log "ready after $((SECONDS - t0)) s: $*"
}

# ---------------------------------------------------------------------------------------------
# stop

stop_one() {
  local b="$1" pid deadline
  if ! pid="$(pid_of "$b")"; then
    rm -f "$STATE/$b/pid"
    return 0
  fi
  log "stopping $b (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 15))
  while kill -0 -- "-$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  if [[ "$b" == rabbitmq ]]; then
    # epmd daemonises out of the broker's process group: ours listens on our own port only
    env "${RABBIT_ENV[@]}" epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
  fi
  rm -f "$STATE/$b/pid"
}

cmd_stop() {
  local b
  for b in "$@"; do stop_one "$b"; done
}

# ---------------------------------------------------------------------------------------------
# status, env

cmd_status() {
  local b pid rc=0
  for b in "$@"; do
    if pid="$(pid_of "$b")"; then
      if ready "$b"; then echo "$b: running (pid $pid; ports $(ports_of "$b"))"; else echo "$b: starting (pid $pid)"; rc=1; fi
    else
      echo "$b: stopped"
      rc=1
    fi
  done
  return "$rc"
}

cmd_env() {
  cat <<EOF
export CMP_KAFKA_BOOTSTRAP=$HOST:$KAFKA_PORT
export CMP_KAFKA_SASL_SCRAM_BOOTSTRAP=$HOST:$KAFKA_SASL_PORT
export CMP_RABBITMQ_AMQP=amqp://$HOST:$RABBITMQ_PORT
export CMP_RABBITMQ_MANAGEMENT=http://$HOST:$RABBITMQ_MANAGEMENT_PORT
export CMP_ACTIVEMQ_OPENWIRE=tcp://$HOST:$AMQ_OPENWIRE_PORT
export CMP_ACTIVEMQ_STOMP=stomp://$HOST:$AMQ_STOMP_PORT
export CMP_ACTIVEMQ_AMQP=amqp://$HOST:$AMQ_AMQP_PORT
export CMP_ACTIVEMQ_MQTT=mqtt://$HOST:$AMQ_MQTT_PORT
export CMP_ACTIVEMQ_USERS_FILE=$STATE/activemq/conf/users.properties
export CMP_BROKERS_USER=$USER_NAME
export CMP_BROKERS_PASSWORD=$PASSWORD
EOF
}

with_lock() {
  mkdir -p "$STATE"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$STATE/.lock"
    flock -w 600 9 || die "could not lock $STATE/.lock"
  fi
  "$@"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  local b
  for b in "$@"; do [[ " ${ALL[*]} " == *" $b "* ]] || die "unknown broker '$b' (kafka, rabbitmq, activemq)"; done
  (($#)) || set -- "${ALL[@]}"
  case "$cmd" in
    install) with_lock cmd_install ;;
    start) with_lock cmd_start "$@" ;;
    stop) with_lock cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
