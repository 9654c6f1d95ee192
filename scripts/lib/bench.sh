#!/usr/bin/env bash
# shellcheck disable=SC2034 # the variables set here are read by the sourcing script
# Helpers shared by the benchmark drivers (scripts/bench-*): the processes they start, free
# ports, the machine they ran on, fresh PostgreSQL databases. Source scripts/lib/postgres.sh
# first (logging, traps, psql).

# bench_stop_pid PID [SECS]: stops a process we started: SIGTERM, then SIGKILL after SECS
# (default 10). Returns 1 if it had to be killed.
bench_stop_pid() {
	local pid=$1 secs=${2:-10} i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -KILL "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		return 1
	fi
	wait "$pid" 2>/dev/null || true
}

# bench_free_port FROM: prints a port in [FROM, FROM+200) that nothing answers on.
bench_free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		# shellcheck disable=SC2016 # expanded by the inner bash
		timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$p" 2>/dev/null || {
			echo "$p"
			return 0
		}
	done
	return 1
}

# bench_wait_http NAME PID URL: waits (30 s max) until URL answers, failing early if PID died.
bench_wait_http() {
	local name=$1 pid=$2 url=$3 i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || wagate_die "$name exited during startup (log: see above)"
		curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null && return 0
		sleep 0.1
	done
	wagate_die "$name did not answer $url within 30 s"
}

# bench_machine: one line naming the CPUs, memory, kernel and distribution.
bench_machine() {
	local cpu machine
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
	machine="$(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), \
$(uname -s) $(uname -r)"
	if [[ -r /etc/os-release ]]; then
		# shellcheck disable=SC1091
		machine+=", $(. /etc/os-release && echo "$PRETTY_NAME")"
	fi
	echo "$machine"
}

# bench_commit BINARY BUILT: the commit the numbers belong to; with BUILT=0 (--no-build) it says
# the binaries may be older than HEAD.
bench_commit() {
	local commit
	commit=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
	[[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] ||
		commit+=" (with uncommitted changes)"
	(($2)) || commit="? (--no-build: binaries of $(date -u -r "$1" '+%Y-%m-%d %H:%M UTC'); HEAD is $commit)"
	echo "$commit"
}

# bench_binaries BUILD BIN_DIR DEST: the release binaries wagate and wagate-bench, copied into
# DEST so that a build running in the same target directory cannot swap them mid-run. They come
# from BIN_DIR when it is not empty, else from target/release ($CARGO_TARGET_DIR honoured),
# built first when BUILD is 1 (`cargo build --release -p wagate -p wagate-bench`). Sets WAGATE,
# BENCH (the copies) and COMMIT (bench_commit).
bench_binaries() {
	local build=$1 from=$2 dest=$3
	if [[ -n $from ]]; then
		build=0
	else
		if ((build)); then
			wagate_log "building release: cargo build --release -p wagate -p wagate-bench"
			cargo build --release -p wagate -p wagate-bench
		fi
		from=${CARGO_TARGET_DIR:-$ROOT/target}/release
	fi
	[[ -x $from/wagate && -x $from/wagate-bench ]] ||
		wagate_die "missing $from/wagate or $from/wagate-bench (build them, or run without --no-build)"
	COMMIT=$(bench_commit "$from/wagate" "$build")
	mkdir -p "$dest"
	cp "$from/wagate" "$from/wagate-bench" "$dest/"
	WAGATE=$dest/wagate BENCH=$dest/wagate-bench
}

# bench_env: the command prefix that runs wagate as deployed: no RUST_LOG (unless
# WAGATE_BENCH_RUST_LOG sets one) and no WAGATE_* settings inherited from this shell. Sets the
# array BENCH_ENV.
bench_env() {
	local v
	BENCH_ENV=(env -u RUST_LOG)
	for v in $(compgen -e); do
		[[ $v == WAGATE_* ]] && BENCH_ENV+=(-u "$v")
	done
	[[ -n ${WAGATE_BENCH_RUST_LOG:-} ]] && BENCH_ENV+=("RUST_LOG=$WAGATE_BENCH_RUST_LOG")
	return 0
}

# bench_pg_server URL|auto: checks the server (`auto`: found or started like scripts/test) and
# sets BENCH_PG to its admin URL and BENCH_PG_VERSION. Databases made by bench_pg_fresh_db are
# dropped at exit.
BENCH_PG_DBS=()
bench_pg_server() {
	BENCH_PG=$1
	if [[ $BENCH_PG == auto ]]; then
		wagate_pg_ensure
		BENCH_PG=$WAGATE_PG_URL
	fi
	wagate_pg_psql "$BENCH_PG" 'select 1' >/dev/null ||
		wagate_die "cannot reach $(wagate_redact_url "$BENCH_PG")"
	BENCH_PG_VERSION=$(wagate_pg_psql "$BENCH_PG" 'show server_version')
	# shellcheck disable=SC2016 # eval'ed at exit
	WAGATE_EXIT_HOOKS+=('bench__pg_drop_all')
}

# bench_pg_fresh_db: creates a database wagate_bench_<random> on BENCH_PG and sets BENCH_PG_DB
# to its name and BENCH_PG_DB_URL to its URL (same server and credentials, any ?query kept).
bench_pg_fresh_db() {
	local base=${BENCH_PG%%\?*} query='' hostpart
	BENCH_PG_DB="wagate_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	wagate_pg_psql "$BENCH_PG" "create database $BENCH_PG_DB" >/dev/null
	BENCH_PG_DBS+=("$BENCH_PG_DB")
	[[ $BENCH_PG == *\?* ]] && query="?${BENCH_PG#*\?}"
	hostpart=${base#*://}
	hostpart=${hostpart%%/*}
	BENCH_PG_DB_URL="${base%%://*}://$hostpart/$BENCH_PG_DB$query"
	BENCH_PG_HOST="$(wagate_redact_url "${base%%://*}://$hostpart")"
}

bench__pg_drop_all() {
	local db
	for db in ${BENCH_PG_DBS[@]+"${BENCH_PG_DBS[@]}"}; do
		wagate_pg_psql "$BENCH_PG" "drop database if exists $db with (force)" >/dev/null || true
	done
}
