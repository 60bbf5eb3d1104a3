#!/usr/bin/env bash
# Starts a local ClickHouse for trying Refinery on ClickHouse: one server, or a two-shard cluster named
# `refinery` (two servers on loopback, each one shard). Configs, data and logs live in DIR; the servers run
# in the background as the current user until `stop`. Written for Debian's clickhouse-server 18.16
# (`apt-get install clickhouse-server clickhouse-client`); newer releases accept the same config.
#
#   scripts/clickhouse-dev.sh [single|cluster] [--dir DIR] [--port HTTP_PORT]
#   scripts/clickhouse-dev.sh stop [--dir DIR]
#
# Ports: node N (0-based) listens on HTTP_PORT+10*N (HTTP), +1 (native TCP) and +2 (interserver);
# HTTP_PORT defaults to 18123 so a system ClickHouse on 8123/9000 is left alone.
set -euo pipefail

usage() {
  echo "usage: $0 [single|cluster] [--dir DIR] [--port HTTP_PORT]" >&2
  echo "       $0 stop [--dir DIR]" >&2
  exit 2
}

mode=single
dir=./.clickhouse-dev
port=18123
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
  mode=$1
  shift
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    --port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
    --port=*) port=${1#--port=}; shift ;;
    -h | --help) usage ;;
    *) echo "clickhouse-dev: unknown argument: $1" >&2; usage ;;
  esac
done
case "$mode" in single | cluster | stop) ;; *) echo "clickhouse-dev: unknown command: $mode" >&2; usage ;; esac
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1024 ] || [ "$port" -gt 65500 ]; then
  echo "clickhouse-dev: --port must be a number between 1024 and 65500" >&2
  exit 2
fi

# The pid in a pid file, if that process still runs and is a clickhouse-server (a stale pid file may name a
# reused pid). With "trust", any live process counts: one just started may not have exec'd the server yet.
live_pid() {
  local pidfile=$1 trust=${2:-} pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ "$trust" != trust ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q clickhouse-server || return 1
  fi
  echo "$pid"
}

# Sends SIGTERM to every node at once (a node waits for the connections the other nodes keep open to it),
# then waits up to 10 s for each and SIGKILLs a node that is still running.
stop_all() {
  local trust=${1:-} pidfile pid i
  local -a pids=() dirs=()
  shopt -s nullglob
  for pidfile in "$dir"/node*/clickhouse.pid; do
    if pid=$(live_pid "$pidfile" "$trust"); then
      kill -TERM "$pid"
      pids+=("$pid")
      dirs+=("$(dirname "$pidfile")")
    fi
  done
  shopt -u nullglob
  for i in "${!pids[@]}"; do
    pid=${pids[$i]}
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "clickhouse-dev: pid $pid did not stop in 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "stopped ClickHouse pid $pid (${dirs[$i]})"
  done
  rm -f "$dir"/node*/clickhouse.pid
  [ "${#pids[@]}" -gt 0 ] || echo "no ClickHouse running from $dir"
}

if [ "$mode" = stop ]; then
  stop_all
  exit 0
fi

server=$(command -v clickhouse-server || true)
if [ -z "$server" ] && [ -x /usr/sbin/clickhouse-server ]; then server=/usr/sbin/clickhouse-server; fi
if [ -z "$server" ]; then
  echo "clickhouse-dev: clickhouse-server not found; on Debian: apt-get install clickhouse-server clickhouse-client" >&2
  exit 1
fi
command -v curl >/dev/null || { echo "clickhouse-dev: curl is needed" >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
shopt -s nullglob
for pidfile in "$dir"/node*/clickhouse.pid; do
  if pid=$(live_pid "$pidfile"); then
    echo "clickhouse-dev: already running from $dir (pid $pid); stop it first: $0 stop --dir $dir" >&2
    exit 1
  fi
done
shopt -u nullglob

nodes=1
[ "$mode" = cluster ] && nodes=2
for ((n = 0; n < nodes; n++)); do
  for p in $((port + 10 * n)) $((port + 10 * n + 1)) $((port + 10 * n + 2)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "clickhouse-dev: port $p on 127.0.0.1 is in use; pick another base with --port" >&2
      exit 1
    fi
  done
done

# The reader user (readonly=1, database refinery only) keeps its password across runs.
if [ ! -s "$dir/reader-password" ]; then
  od -An -tx1 -N12 /dev/urandom | tr -d ' \n' >"$dir/reader-password"
  chmod 600 "$dir/reader-password"
fi
reader_password=$(cat "$dir/reader-password")

remote_servers=""
if [ "$mode" = cluster ]; then
  shards=""
  for ((n = 0; n < nodes; n++)); do
    shards+="
      <shard><replica><host>127.0.0.1</host><port>$((port + 10 * n + 1))</port></replica></shard>"
  done
  remote_servers="
  <remote_servers>
    <refinery>$shards
    </refinery>
  </remote_servers>"
fi

write_configs() {
  local node_dir=$1 http=$2 tcp=$3 interserver=$4
  mkdir -p "$node_dir"/{data,tmp,user_files,format_schemas,log}
  cat >"$node_dir/config.xml" <<XML
<?xml version="1.0"?>
<!-- Written by scripts/clickhouse-dev.sh; rewritten on every start. -->
<yandex>
  <logger>
    <level>information</level>
    <log>$node_dir/log/server.log</log>
    <errorlog>$node_dir/log/server.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <interserver_http_port>$interserver</interserver_http_port>
  <path>$node_dir/data/</path>
  <tmp_path>$node_dir/tmp/</tmp_path>
  <user_files_path>$node_dir/user_files/</user_files_path>
  <format_schema_path>$node_dir/format_schemas/</format_schema_path>
  <users_config>$node_dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <shutdown_wait_unfinished>2</shutdown_wait_unfinished>$remote_servers
</yandex>
XML
  cat >"$node_dir/users.xml" <<XML
<?xml version="1.0"?>
<!-- Written by scripts/clickhouse-dev.sh; rewritten on every start. -->
<yandex>
  <profiles>
    <!-- poll_interval 1 s (default 10): on stop, a node drops the other node's idle connections quickly. -->
    <default><poll_interval>1</poll_interval></default>
    <readonly><readonly>1</readonly><max_execution_time>30</max_execution_time></readonly>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <reader>
      <password>$reader_password</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>readonly</profile>
      <quota>default</quota>
      <allow_databases><database>refinery</database></allow_databases>
    </reader>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
        <read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
XML
}

cleanup_on_failure() {
  echo "clickhouse-dev: start failed; stopping what was started" >&2
  stop_all trust >/dev/null
}
trap cleanup_on_failure ERR

for ((n = 0; n < nodes; n++)); do
  node_dir="$dir/node$((n + 1))"
  write_configs "$node_dir" $((port + 10 * n)) $((port + 10 * n + 1)) $((port + 10 * n + 2))
  (
    cd "$node_dir"
    TZ=UTC nohup "$server" --config-file="$node_dir/config.xml" >"$node_dir/log/stdout.log" 2>&1 </dev/null &
    echo $! >"$node_dir/clickhouse.pid"
  )
done

for ((n = 0; n < nodes; n++)); do
  node_dir="$dir/node$((n + 1))"
  http=$((port + 10 * n))
  ready=false
  for _ in $(seq 1 200); do
    if [ "$(curl -s --max-time 1 "http://127.0.0.1:$http/ping" || true)" = "Ok." ]; then
      ready=true
      break
    fi
    if ! live_pid "$node_dir/clickhouse.pid" trust >/dev/null; then break; fi
    sleep 0.1
  done
  if [ "$ready" != true ]; then
    echo "clickhouse-dev: ClickHouse in $node_dir did not start; last log lines:" >&2
    tail -n 20 "$node_dir/log/server.err.log" "$node_dir/log/stdout.log" >&2 2>/dev/null || true
    false
  fi
  # DDL has no ON CLUSTER without ZooKeeper, so the database is created on every node.
  curl -sS --fail --max-time 10 "http://127.0.0.1:$http/" --data-binary 'CREATE DATABASE IF NOT EXISTS refinery' >/dev/null
done
trap - ERR

echo "ClickHouse ($mode) running from $dir"
for ((n = 0; n < nodes; n++)); do
  echo "  node$((n + 1)): pid $(cat "$dir/node$((n + 1))/clickhouse.pid"), http 127.0.0.1:$((port + 10 * n)), tcp 127.0.0.1:$((port + 10 * n + 1)), logs $dir/node$((n + 1))/log/"
done
echo
if [ "$mode" = cluster ]; then
  echo "Store URL:   clickhouse://127.0.0.1:$port/refinery?cluster=refinery&nodes=127.0.0.1:$port,127.0.0.1:$((port + 10))"
  echo "Cluster:     refinery (2 shards; Refinery creates its tables on every node listed in nodes=)"
else
  echo "Store URL:   clickhouse://127.0.0.1:$port/refinery"
fi
echo "Users:       default (no password) and reader (readonly, database refinery; password in $dir/reader-password)"
echo "Try it:      curl 'http://127.0.0.1:$port/' --data-binary 'SELECT version()'"
echo "Stop:        $0 stop --dir $dir"
