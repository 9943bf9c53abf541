#!/usr/bin/env bash
# deploy/kafka.sh — a REAL single-node Apache Kafka broker (KRaft, no ZooKeeper) for dev and CI,
# built from Maven Central jars: needs only Java 17+ and Maven (no Docker, no tarball download).
#
#   deploy/kafka.sh start|stop|status|fetch|--help
#
# Env: SHEKARA_KAFKA_HOME (cache, default ~/.cache/shekara/kafka), SHEKARA_KAFKA_PORT (19092),
#      SHEKARA_KAFKA_CONTROLLER_PORT (19093), SHEKARA_KAFKA_VERSION (3.9.2; 4.x works too),
#      SHEKARA_KAFKA_FRESH=1 (wipe data before start), SHEKARA_KAFKA_READY_TIMEOUT (seconds, 90).
set -euo pipefail

# Default 3.9.x: the most conservative target for kafkajs 2.2.4 (unmaintained, built against <=3.x
# brokers), since 4.0 removed old protocol versions (KIP-896). kafkajs also passed this project's
# smoke test against 4.2.1, so SHEKARA_KAFKA_VERSION=4.2.1 is a supported choice.
VERSION="${SHEKARA_KAFKA_VERSION:-3.9.2}"
CACHE="${SHEKARA_KAFKA_HOME:-$HOME/.cache/shekara/kafka}"
PORT="${SHEKARA_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${SHEKARA_KAFKA_CONTROLLER_PORT:-19093}"
READY_TIMEOUT="${SHEKARA_KAFKA_READY_TIMEOUT:-90}"
LIB="$CACHE/lib" RUN="$CACHE/run"
DATA="$RUN/data" PIDFILE="$RUN/kafka.pid" LOG="$RUN/kafka.log"
BOOTSTRAP="127.0.0.1:$PORT"
# Kafka 3.x logs via reload4j (log4j 1 syntax), 4.x via log4j2: pass both; each reads only its own.
BROKER_LOG=(-Dlog4j.configuration="file:$RUN/broker.log4j.properties" -Dlog4j2.configurationFile="file:$RUN/broker.log4j2.properties")
TOOL_LOG=(-Dlog4j.configuration="file:$RUN/tool.log4j.properties" -Dlog4j2.configurationFile="file:$RUN/tool.log4j2.properties")

say() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

# --- fetch: a throwaway POM outside the repo; copy-dependencies flattens the classpath into lib/ ---
fetch() {
  if [[ -f "$LIB/.complete" && "$(cat "$LIB/.complete")" == "$VERSION" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (needed once, to fetch the Kafka jars)"
  pid_alive && die "a broker is running from $LIB; stop it before switching to Kafka $VERSION"
  say "fetching Kafka $VERSION from Maven Central (first run only)…"
  local logging
  if [[ "$VERSION" == 3.* ]]; then  # kafka_2.13 3.x brings only slf4j-api: no binding = no logs at all
    logging='<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>'
  else  # 4.x brings log4j-core 2 but still slf4j-api 1.7: add the bridge, pin all three to one version
    logging='<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.25.4</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.25.4</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>2.25.4</version></dependency>'
  fi
  mkdir -p "$CACHE"
  cat >"$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.shekara</groupId><artifactId>kafka-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <!-- the broker: kafka.Kafka, kafka.tools.StorageTool -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <!-- org.apache.kafka.tools.TopicCommand for the readiness probe; Connect (Jetty, Jersey) is not needed -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$VERSION</version>
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion></exclusions></dependency>
    $logging
  </dependencies>
</project>
EOF
  local t0=$SECONDS tmp="$CACHE/lib.tmp.$$"
  rm -rf "$tmp"
  # Into a temp dir, then rename: an interrupted fetch must never look like a populated lib/.
  # Plugin version pinned: Maven 3.8's default (2.8) is from 2013. Maven's stdout goes to stderr.
  mvn -q -B -f "$CACHE/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$tmp" >&2 || { rm -rf "$tmp"; die "Maven could not fetch org.apache.kafka:kafka_2.13:$VERSION"; }
  echo "$VERSION" >"$tmp/.complete"
  rm -rf "$LIB" && mv "$tmp" "$LIB"
  say "fetched $(find "$LIB" -name '*.jar' | wc -l | tr -d ' ') jars into $LIB in $((SECONDS - t0))s"
}

# --- helpers -----------------------------------------------------------------------------------
pid_alive() {  # our broker, not some process that inherited a recycled PID
  [[ -f "$PIDFILE" ]] || return 1
  local pid cmd; pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 0  # no procfs (macOS): trust kill -0
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
  [[ "$cmd" == *kafka.Kafka* ]]
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
tool() { java -Xmx128m "${TOOL_LOG[@]}" -cp "$LIB/*" "$@"; }
# A real metadata round-trip through the AdminClient, not just an open socket. admin.properties
# bounds it at ~10 s; `timeout` (absent on stock macOS) is only a second safety net.
metadata_ok() {
  local guard=(); command -v timeout >/dev/null && guard=(timeout 30)
  ${guard[@]+"${guard[@]}"} java -Xmx128m "${TOOL_LOG[@]}" -cp "$LIB/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" --command-config "$RUN/admin.properties" --list >/dev/null 2>&1
}
healthy() { pid_alive && port_open "$PORT" && metadata_ok; }

logging_config() {  # $1 = file prefix, $2 = root level, $3 = OUT|ERR
  local pattern='[%d] %p %m (%c)%n' target; [[ $3 == OUT ]] && target=out || target=err
  printf '%s\n' "log4j.rootLogger=$2, c" 'log4j.appender.c=org.apache.log4j.ConsoleAppender' \
    "log4j.appender.c.Target=System.$target" 'log4j.appender.c.layout=org.apache.log4j.PatternLayout' \
    "log4j.appender.c.layout.ConversionPattern=$pattern" 'log4j.logger.kafka.request.logger=WARN' >"$RUN/$1.log4j.properties"
  printf '%s\n' 'status=warn' 'appender.c.type=Console' 'appender.c.name=C' "appender.c.target=SYSTEM_$3" \
    'appender.c.layout.type=PatternLayout' "appender.c.layout.pattern=$pattern" "rootLogger.level=$2" \
    'rootLogger.appenderRef.c.ref=C' 'logger.r.name=kafka.request.logger' 'logger.r.level=WARN' >"$RUN/$1.log4j2.properties"
}

write_config() {
  mkdir -p "$RUN"
  cat >"$RUN/server.properties" <<EOF
# generated by deploy/kafka.sh — overwritten on every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=3
# one broker: internal topics (offsets, transactions) can only have a single replica
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# consumer groups form at once instead of waiting 3 s for more members: faster tests
group.initial.rebalance.delay.ms=0
# as on locked-down production clusters: code must create its topics; a typo fails here, not abroad
auto.create.topics.enable=false
EOF
  logging_config broker INFO OUT   # -> kafka.log
  logging_config tool ERROR ERR    # tools stay quiet unless something is really wrong
  printf '%s\n' 'request.timeout.ms=5000' 'default.api.timeout.ms=10000' >"$RUN/admin.properties"
}

# --- commands ----------------------------------------------------------------------------------
stop() {
  if ! pid_alive; then rm -f "$PIDFILE"; say "not running"; return 0; fi
  local pid i; pid="$(cat "$PIDFILE")"
  say "stopping broker (pid $pid)…"
  kill -TERM "$pid" 2>/dev/null || true   # controlled shutdown: flushes logs, clean restart next time
  for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    say "still alive after 20s, sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done  # let it release the ports
  fi
  rm -f "$PIDFILE"
  say "stopped"
}

start() {
  local fresh="${SHEKARA_KAFKA_FRESH:-0}"
  if pid_alive; then
    if [[ "$fresh" == 1 ]]; then stop
    elif healthy; then say "already running and healthy on $BOOTSTRAP (pid $(cat "$PIDFILE"))"; return 0
    else say "pid $(cat "$PIDFILE") is not answering on $BOOTSTRAP; restarting it"; stop; fi
  fi
  rm -f "$PIDFILE"
  port_open "$PORT" && die "port $PORT is taken by another process (set SHEKARA_KAFKA_PORT)"
  port_open "$CONTROLLER_PORT" && die "port $CONTROLLER_PORT is taken (set SHEKARA_KAFKA_CONTROLLER_PORT)"
  command -v java >/dev/null || die "java not found (Kafka needs Java 17+)"
  fetch
  write_config
  if [[ "$fresh" == 1 ]]; then say "SHEKARA_KAFKA_FRESH=1: wiping $DATA"; rm -rf "$DATA"; fi
  if [[ ! -f "$DATA/meta.properties" ]]; then  # KRaft will not start on an unformatted log dir
    local cid; cid="$(tool kafka.tools.StorageTool random-uuid)"
    say "formatting $DATA (cluster id $cid)"
    tool kafka.tools.StorageTool format -t "$cid" -c "$RUN/server.properties" >/dev/null
  fi
  local t0=$SECONDS
  say "starting Kafka $VERSION on $BOOTSTRAP (log: $LOG)"
  # nohup and </dev/null: the broker must outlive this shell and a CI step's closed stdin.
  nohup java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true "${BROKER_LOG[@]}" -cp "$LIB/*" \
    kafka.Kafka "$RUN/server.properties" >"$LOG" 2>&1 </dev/null 9>&- &  # 9>&-: the broker must not inherit the lock
  local pid=$!
  echo "$pid" >"$PIDFILE"

  # Cheap checks first (process alive, log line, socket), then a real metadata call.
  local deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    # kill -0, not pid_alive: until the forked shell has exec'd java, its cmdline is still this
    # script's, and a loaded machine makes that window long enough to see.
    if ! kill -0 "$pid" 2>/dev/null; then
      say "broker exited during startup (data from another Kafka version? try SHEKARA_KAFKA_FRESH=1); last 40 log lines:"
      tail -n 40 "$LOG" >&2; rm -f "$PIDFILE"; exit 1
    fi
    if grep -q 'Kafka Server started' "$LOG" && port_open "$PORT" && metadata_ok; then
      say "ready on $BOOTSTRAP after $((SECONDS - t0))s (pid $(cat "$PIDFILE"))"; return 0
    fi
    sleep 0.5
  done
  say "not ready after ${READY_TIMEOUT}s; last 40 log lines:"; tail -n 40 "$LOG" >&2
  stop; exit 1
}

status() {
  if healthy; then say "running on $BOOTSTRAP (pid $(cat "$PIDFILE"))"; return 0; fi
  if pid_alive; then say "pid $(cat "$PIDFILE") alive but $BOOTSTRAP is not answering"; else say "not running"; fi
  return 1
}

# One kafka.sh at a time per cache: test runs on a shared machine (and the tests that stop and
# restart the broker) must not interleave a start with a stop, or two starts on one data dir.
locked() {
  mkdir -p "$RUN"
  if command -v flock >/dev/null; then exec 9>"$RUN/kafka.sh.lock"; flock -w 300 9 || die "another kafka.sh held $RUN/kafka.sh.lock for 300s"; fi
  "$@"
}

case "${1:-}" in
  start) locked start ;;
  stop) locked stop ;;
  status) status ;;
  fetch) fetch; say "Kafka $VERSION jars ready in $LIB" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
