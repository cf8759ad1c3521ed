#!/usr/bin/env bash
# Starts the seed's pair of Ollama servers for development: "collector" and
# "insight" on two loopback ports, both serving the tiny test model as "tiny".
#
#   scripts/ollama-dev.sh start         real Ollama v0.6.5 (installed first if missing)
#   scripts/ollama-dev.sh start --sim   the in-process simulator (tr117/profiler/ollamatest)
#   scripts/ollama-dev.sh status        which of them answer
#   scripts/ollama-dev.sh stop          SIGTERM, then SIGKILL after 10 s
#
# start prints one "NAME URL" line per server on stdout, e.g.
#   collector http://127.0.0.1:11434
#   insight http://127.0.0.1:11435
#
# Environment:
#   TR117_OLLAMA_DEV_PORTS  the two ports (default "11434 11435", the seed's)
#   TR117_OLLAMA_DEV_DIR    state: models, logs, pid files
#                           (default ${XDG_CACHE_HOME:-$HOME/.cache}/tr117/ollama-dev)
#   TR117_OLLAMA_BIN        the ollama binary (default: PATH, then the install cache,
#                           then scripts/install-ollama.sh)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${TR117_OLLAMA_DEV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tr117/ollama-dev}
read -r -a ports <<<"${TR117_OLLAMA_DEV_PORTS:-11434 11435}"
names=(collector insight)

log() { echo "ollama-dev: $*" >&2; }
die() { log "$*"; exit 1; }

[ "${#ports[@]}" = 2 ] || die "TR117_OLLAMA_DEV_PORTS must name two ports, got '${ports[*]}'"

find_bin() {
	if [ -n "${TR117_OLLAMA_BIN:-}" ]; then
		[ -x "$TR117_OLLAMA_BIN" ] || die "TR117_OLLAMA_BIN=$TR117_OLLAMA_BIN is not executable"
		echo "$TR117_OLLAMA_BIN"
		return
	fi
	if command -v ollama >/dev/null; then
		command -v ollama
		return
	fi
	local cached=${XDG_CACHE_HOME:-$HOME/.cache}/tr117/ollama/v0.6.5/bin/ollama
	if [ -x "$cached" ]; then
		echo "$cached"
		return
	fi
	[ -x "$root/scripts/install-ollama.sh" ] || [ -f "$root/scripts/install-ollama.sh" ] ||
		die "no ollama binary: set TR117_OLLAMA_BIN, or use 'start --sim'"
	log "no ollama binary; running scripts/install-ollama.sh"
	bash "$root/scripts/install-ollama.sh"
}

# dev_tool builds the Go helper once per start.
dev_tool() {
	local out=$state/bin/ollama-dev
	mkdir -p "$state/bin"
	(cd "$root" && go build -o "$out" ./internal/cmd/ollama-dev) || die "cannot build internal/cmd/ollama-dev"
	echo "$out"
}

alive() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

# answers PORT: whether something serves /api/version there.
answers() {
	if command -v curl >/dev/null; then
		curl -fsS -m 1 "http://127.0.0.1:$1/api/version" >/dev/null 2>&1
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

wait_ready() { # NAME PORT
	local i
	for i in $(seq 1 300); do
		answers "$2" && return 0
		alive "$1" || { tail -n 20 "$state/$1.log" >&2; die "$1 exited before answering on port $2 (log $state/$1.log)"; }
		sleep 0.1
	done
	tail -n 20 "$state/$1.log" >&2
	die "$1 did not answer on port $2 within 30 s (log $state/$1.log)"
}

launch() { # NAME PORT COMMAND...
	local name=$1 port=$2
	shift 2
	if command -v setsid >/dev/null; then
		setsid "$@" >>"$state/$name.log" 2>&1 </dev/null &
	else
		"$@" >>"$state/$name.log" 2>&1 </dev/null &
	fi
	echo $! >"$state/$name.pid"
	wait_ready "$name" "$port"
}

start() {
	local sim=0
	[ "${1:-}" = --sim ] && sim=1
	mkdir -p "$state/models" "$state/home"
	local i
	for i in 0 1; do
		alive "${names[$i]}" && die "${names[$i]} is already running (pid $(cat "$state/${names[$i]}.pid")); run '$0 stop' first"
		answers "${ports[$i]}" && die "port ${ports[$i]} is in use; set TR117_OLLAMA_DEV_PORTS to two free ports"
	done
	local tool
	tool=$(dev_tool)
	if [ "$sim" = 1 ]; then
		for i in 0 1; do
			launch "${names[$i]}" "${ports[$i]}" "$tool" sim -addr "127.0.0.1:${ports[$i]}" -seed "$i"
		done
	else
		local bin modelfile
		bin=$(find_bin)
		for i in 0 1; do
			launch "${names[$i]}" "${ports[$i]}" env HOME="$state/home" OLLAMA_HOST="127.0.0.1:${ports[$i]}" \
				OLLAMA_MODELS="$state/models" OLLAMA_NOPRUNE=1 "$bin" serve
		done
		modelfile=$("$tool" model -dir "$state/gguf")
		# Both servers share the models directory: creating on one serves it on both.
		HOME="$state/home" OLLAMA_HOST="127.0.0.1:${ports[0]}" "$bin" create tiny -f "$modelfile" >"$state/create.log" 2>&1 ||
			{ tail -n 5 "$state/create.log" >&2; die "ollama create tiny failed (log $state/create.log)"; }
	fi
	for i in 0 1; do
		echo "${names[$i]} http://127.0.0.1:${ports[$i]}"
	done
	log "model: tiny; logs in $state; stop with: $0 stop"
}

stop() {
	local name pid i
	for name in "${names[@]}"; do
		[ -f "$state/$name.pid" ] || continue
		pid=$(cat "$state/$name.pid")
		if kill -0 "$pid" 2>/dev/null; then
			# setsid made it a process-group leader: the group holds its runners too.
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
			for i in $(seq 1 100); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			if kill -0 "$pid" 2>/dev/null; then
				log "$name (pid $pid) ignored SIGTERM for 10 s; killing it"
			fi
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
			log "stopped $name (pid $pid)"
		fi
		rm -f "$state/$name.pid"
	done
}

status() {
	local i rc=0
	for i in 0 1; do
		if alive "${names[$i]}" && answers "${ports[$i]}"; then
			echo "${names[$i]} http://127.0.0.1:${ports[$i]} up (pid $(cat "$state/${names[$i]}.pid"))"
		else
			echo "${names[$i]} http://127.0.0.1:${ports[$i]} down"
			rc=1
		fi
	done
	return $rc
}

case "${1:-}" in
start) shift; start "$@" ;;
stop) stop ;;
status) status ;;
*)
	echo "usage: $0 start [--sim] | status | stop" >&2
	echo "  TR117_OLLAMA_DEV_PORTS=\"A B\" chooses the two ports (default \"11434 11435\")" >&2
	exit 2
	;;
esac
