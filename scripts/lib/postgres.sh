#!/usr/bin/env bash
# Finds, or brings up, a PostgreSQL server for wagate's tests.
#
# Sourced by scripts/test; also runnable alone:
#   bash scripts/lib/postgres.sh selftest   # find/start a server, run `select 1`, create and
#                                           # drop a database, stop it again if it was started
#   bash scripts/lib/postgres.sh help
#
# After `wagate_pg_ensure`:
#   WAGATE_PG_URL     admin URL (a superuser that may CREATE DATABASE)
#   WAGATE_PG_SOURCE  env | local | throwaway
#
# Environment:
#   WAGATE_TEST_PG_URL              use this server, probe nothing
#   WAGATE_TEST_FORCE_THROWAWAY_PG  1: skip the 127.0.0.1:5432 probe, always start a throwaway server
#   WAGATE_TEST_PG_PORT             first port to try for the throwaway server (default 55432)
#   WAGATE_TEST_PG_BINDIR           directory with initdb/pg_ctl (default: newest /usr/lib/postgresql/*/bin)
#   WAGATE_TEST_PG_KEEP_TMP         1: don't delete the throwaway cluster's directory on exit (debugging)
#
# The throwaway server lives in a temporary directory (data, unix socket, log), listens on
# 127.0.0.1 only with trust auth, and is stopped and deleted by an EXIT trap (which also runs on
# failure, Ctrl-C, SIGTERM and SIGHUP). Callers that need their own cleanup on exit add a command
# to the WAGATE_EXIT_HOOKS array instead of setting their own EXIT trap.

# ---------------------------------------------------------------------------------------------
# small helpers

wagate_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
wagate_die() {
	printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2
	exit 1
}

# Commands run (in order) by the EXIT trap; each is eval'ed, failures are ignored. The exit
# status is in WAGATE_EXIT_RC while they run.
if [[ -z ${WAGATE_EXIT_HOOKS+set} ]]; then
	WAGATE_EXIT_HOOKS=()
fi
WAGATE_EXIT_RC=0
wagate__exit_handler() {
	local rc=$?
	local hook
	# shellcheck disable=SC2034 # read by the hooks
	WAGATE_EXIT_RC=$rc
	trap - EXIT INT TERM HUP
	for hook in ${WAGATE_EXIT_HOOKS[@]+"${WAGATE_EXIT_HOOKS[@]}"}; do
		eval "$hook" || true
	done
	exit "$rc"
}
wagate_install_traps() {
	trap wagate__exit_handler EXIT
	trap 'wagate_log "interrupted"; exit 130' INT
	trap 'wagate_log "terminated"; exit 143' TERM
	trap 'wagate_log "hangup"; exit 129' HUP
}

# Runs its arguments as root: directly, or through passwordless sudo. Fails otherwise.
wagate__as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		wagate_die "need root to run '$*' (not root, and no passwordless sudo): install PostgreSQL \
(Debian: apt-get install postgresql) or set WAGATE_TEST_PG_URL to a server you have"
	fi
}

# True if something accepts TCP connections on host $1 port $2.
wagate__tcp_open() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Path of psql: from PATH, else next to the server binaries.
wagate__psql() {
	if command -v psql >/dev/null 2>&1; then
		command -v psql
	elif [[ -n ${WAGATE_PG_BINDIR:-} && -x $WAGATE_PG_BINDIR/psql ]]; then
		echo "$WAGATE_PG_BINDIR/psql"
	else
		local d
		d=$(wagate__find_bindir 2>/dev/null) && [[ -x $d/psql ]] && echo "$d/psql"
	fi
}

# wagate_pg_psql URL SQL...: runs SQL (each argument one -c) unaligned, tuples only, no prompt.
wagate_pg_psql() {
	local url=$1 psql
	shift
	psql=$(wagate__psql) || {
		wagate_log "psql not found"
		return 127
	}
	local args=() sql
	for sql in "$@"; do args+=(-c "$sql"); done
	PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-5} "$psql" "$url" -X -q -A -t -v ON_ERROR_STOP=1 \
		"${args[@]}" </dev/null
}

# Hides the password of a URL for printing.
wagate_redact_url() {
	sed -E 's#^([a-z]+://[^:/@]+):[^@/]*@#\1:***@#' <<<"$1"
}

# ---------------------------------------------------------------------------------------------
# finding a server

# Is there a usable server at 127.0.0.1:5432? (pg_isready if available, else a TCP probe; then
# psql, if available, must be able to log in with the default URL.)
wagate__probe_local() {
	local url=$1
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h 127.0.0.1 -p 5432 -t 3 </dev/null || return 1
	else
		wagate__tcp_open 127.0.0.1 5432 || return 1
	fi
	if [[ -n $(wagate__psql) ]]; then
		if ! wagate_pg_psql "$url" 'select 1' >/dev/null 2>&1; then
			wagate_log "something answers on 127.0.0.1:5432, but '$url' can't log in there: ignoring it"
			return 1
		fi
	fi
	return 0
}

# Prints the directory holding initdb, pg_ctl and postgres, or fails.
wagate__find_bindir() {
	local d
	if [[ -n ${WAGATE_TEST_PG_BINDIR:-} ]]; then
		[[ -x $WAGATE_TEST_PG_BINDIR/initdb && -x $WAGATE_TEST_PG_BINDIR/pg_ctl ]] ||
			wagate_die "WAGATE_TEST_PG_BINDIR=$WAGATE_TEST_PG_BINDIR has no initdb/pg_ctl"
		echo "$WAGATE_TEST_PG_BINDIR"
		return 0
	fi
	# Debian/Ubuntu: /usr/lib/postgresql/<major>/bin; take the newest major.
	d=$( (ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true) | sort -V | while read -r b; do
		if [[ -x $b/initdb && -x $b/pg_ctl && -x $b/postgres ]]; then echo "$b"; fi
	done | tail -n 1)
	if [[ -n $d ]]; then
		echo "$d"
		return 0
	fi
	# Elsewhere: initdb on PATH, or pg_config's bindir.
	if command -v initdb >/dev/null 2>&1; then
		d=$(dirname "$(readlink -f "$(command -v initdb)")")
		[[ -x $d/pg_ctl && -x $d/postgres ]] && {
			echo "$d"
			return 0
		}
	fi
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null)
		[[ -n $d && -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && {
			echo "$d"
			return 0
		}
	fi
	return 1
}

# Installs Debian's PostgreSQL server packages (needs root or passwordless sudo; never prompts).
wagate__install_server() {
	command -v apt-get >/dev/null 2>&1 ||
		wagate_die "no PostgreSQL server binaries found and no apt-get to install them: install \
PostgreSQL, or set WAGATE_TEST_PG_URL / WAGATE_TEST_PG_BINDIR"
	wagate_log "no PostgreSQL server binaries found: installing Debian's postgresql package"
	wagate__as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null ||
		wagate_die "apt-get update failed"
	wagate__as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends -o Dpkg::Options::=--force-confdef \
		-o Dpkg::Options::=--force-confold postgresql </dev/null ||
		wagate_die "apt-get install postgresql failed"
	# (The package may also create and start its own 'main' cluster on 5432; we don't rely on it.)
}

# Runs a command as the cluster's owner: the 'postgres' system user when we are root (initdb and
# postgres refuse to run as root), else ourselves.
wagate__as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u "$WAGATE__PG_OWNER" -- "$@"
	else
		"$@"
	fi
}

wagate__ensure_owner() {
	WAGATE__PG_OWNER=$(id -un)
	[[ $(id -u) -eq 0 ]] || return 0
	WAGATE__PG_OWNER=postgres
	if ! id -u postgres >/dev/null 2>&1; then
		wagate_log "creating the 'postgres' system user (initdb refuses to run as root)"
		if command -v useradd >/dev/null 2>&1; then
			useradd --system --user-group --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin postgres || wagate_die "useradd postgres failed"
		else
			adduser --system --group --no-create-home --home /nonexistent postgres ||
				wagate_die "adduser postgres failed"
		fi
	fi
	command -v runuser >/dev/null 2>&1 || wagate_die "runuser (util-linux) is needed to run initdb as postgres"
}

WAGATE__PG_TMP=
WAGATE__PG_DATA=
WAGATE__PG_BINDIR=
WAGATE__PG_OWNER=

# Starts a throwaway cluster; sets WAGATE_PG_URL.
wagate__start_throwaway() {
	local bindir port first last tmpbase log
	if [[ -n ${WAGATE_TEST_PG_BINDIR:-} ]] && ! [[ -x $WAGATE_TEST_PG_BINDIR/initdb && -x $WAGATE_TEST_PG_BINDIR/pg_ctl ]]; then
		wagate_die "WAGATE_TEST_PG_BINDIR=$WAGATE_TEST_PG_BINDIR has no initdb/pg_ctl"
	fi
	if ! bindir=$(wagate__find_bindir); then
		wagate__install_server
		bindir=$(wagate__find_bindir) || wagate_die "PostgreSQL was installed but initdb/pg_ctl are still not found"
	fi
	WAGATE__PG_BINDIR=$bindir
	WAGATE_PG_BINDIR=$bindir
	wagate__ensure_owner

	# A short path (the unix socket path must stay under 107 bytes) that the owner can reach.
	tmpbase=${TMPDIR:-/tmp}
	if [[ $(id -u) -eq 0 || ${#tmpbase} -gt 60 ]]; then tmpbase=/tmp; fi
	WAGATE__PG_TMP=$(mktemp -d "$tmpbase/wagate-pg.XXXXXX") || wagate_die "mktemp failed"
	WAGATE_EXIT_HOOKS+=(wagate_pg_stop_throwaway)
	wagate_install_traps
	WAGATE__PG_DATA=$WAGATE__PG_TMP/data
	log=$WAGATE__PG_TMP/postgres.log
	[[ $(id -u) -eq 0 ]] && chown "$WAGATE__PG_OWNER:" "$WAGATE__PG_TMP"

	wagate_log "starting a throwaway PostgreSQL ($("$bindir/postgres" --version 2>/dev/null)) in $WAGATE__PG_TMP"
	(cd "$WAGATE__PG_TMP" && wagate__as_owner "$bindir/initdb" -D "$WAGATE__PG_DATA" -U postgres \
		--auth=trust -E UTF8 --no-locale --no-sync >"$WAGATE__PG_TMP/initdb.log" 2>&1) || {
		cat "$WAGATE__PG_TMP/initdb.log" >&2
		wagate_die "initdb failed"
	}

	first=${WAGATE_TEST_PG_PORT:-55432}
	last=$((first + 100))
	for ((port = first; port < last; port++)); do
		wagate__tcp_open 127.0.0.1 "$port" && continue # taken
		if (cd "$WAGATE__PG_TMP" && wagate__as_owner "$bindir/pg_ctl" -D "$WAGATE__PG_DATA" -l "$log" \
			-w -t 60 -o "-c listen_addresses=127.0.0.1 -p $port -k $WAGATE__PG_TMP \
-c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
			start >/dev/null); then
			break
		fi
		if grep -qiE 'could not (bind|create listen)|address already in use' "$log" 2>/dev/null; then
			wagate_log "port $port is taken, trying the next one"
			: >"$log"
			continue
		fi
		cat "$log" >&2
		wagate_die "pg_ctl start failed (log above)"
	done
	((port < last)) || wagate_die "no free port in $first..$((last - 1)) for the throwaway PostgreSQL"

	WAGATE_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
	# pg_ctl -w already waited; make sure it answers over TCP as the tests will use it.
	local i
	for ((i = 0; i < 60; i++)); do
		if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 </dev/null; then break; fi
		sleep 0.5
	done
	((i < 60)) || {
		cat "$log" >&2
		wagate_die "the throwaway PostgreSQL did not become ready on port $port"
	}
	wagate_log "throwaway PostgreSQL ready at $WAGATE_PG_URL"
}

# Stops the throwaway cluster (if any) and deletes its directory. Idempotent.
wagate_pg_stop_throwaway() {
	[[ -n $WAGATE__PG_TMP ]] || return 0
	local tmp=$WAGATE__PG_TMP
	WAGATE__PG_TMP=
	if [[ -f $WAGATE__PG_DATA/postmaster.pid ]]; then
		wagate_log "stopping the throwaway PostgreSQL"
		(cd "$tmp" && wagate__as_owner "$WAGATE__PG_BINDIR/pg_ctl" -D "$WAGATE__PG_DATA" -m fast -w -t 30 \
			stop >/dev/null 2>&1) ||
			(cd "$tmp" && wagate__as_owner "$WAGATE__PG_BINDIR/pg_ctl" -D "$WAGATE__PG_DATA" -m immediate -w \
				-t 30 stop >/dev/null 2>&1) ||
			wagate_log "warning: could not stop the throwaway PostgreSQL in $tmp"
	fi
	if [[ ${WAGATE_TEST_PG_KEEP_TMP:-} == 1 ]]; then
		wagate_log "keeping $tmp (WAGATE_TEST_PG_KEEP_TMP=1)"
	else
		rm -rf -- "$tmp"
	fi
}

# Sets WAGATE_PG_URL and WAGATE_PG_SOURCE: WAGATE_TEST_PG_URL, else 127.0.0.1:5432, else a
# throwaway server (which an EXIT trap stops again).
wagate_pg_ensure() {
	local local_url=postgres://postgres@127.0.0.1:5432/postgres
	if [[ -n ${WAGATE_TEST_PG_URL:-} ]]; then
		WAGATE_PG_URL=$WAGATE_TEST_PG_URL
		WAGATE_PG_SOURCE="env"
		if [[ -n $(wagate__psql) ]]; then
			wagate_pg_psql "$WAGATE_PG_URL" 'select 1' >/dev/null ||
				wagate_die "WAGATE_TEST_PG_URL=$(wagate_redact_url "$WAGATE_PG_URL") does not answer (psql above)"
		fi
		wagate_log "using PostgreSQL from WAGATE_TEST_PG_URL: $(wagate_redact_url "$WAGATE_PG_URL")"
		return 0
	fi
	if [[ ${WAGATE_TEST_FORCE_THROWAWAY_PG:-} == 1 ]]; then
		wagate_log "WAGATE_TEST_FORCE_THROWAWAY_PG=1: not probing 127.0.0.1:5432"
	elif wagate__probe_local "$local_url"; then
		WAGATE_PG_URL=$local_url
		WAGATE_PG_SOURCE=local
		wagate_log "using the PostgreSQL on 127.0.0.1:5432: $WAGATE_PG_URL"
		return 0
	else
		wagate_log "no usable PostgreSQL on 127.0.0.1:5432"
	fi
	wagate__start_throwaway
	WAGATE_PG_SOURCE=throwaway
}

# Drops leftover wagate_test_% databases (the tests drop their own; this is a safety net).
# On a throwaway server: all of them. On any other (possibly shared) server only those of this
# run (database comment 'wagate-test run=$WAGATE_TEST_RUN_ID', set by wagate-test-support) and
# those older than WAGATE_TEST_STALE_HOURS (default 6, by the ULID in the name), so that a
# concurrent run's databases are left alone.
wagate_pg_drop_leftovers() {
	local url=$1 run_id=${2:-} names name when now_ms stale_ms n=0
	if [[ -z $(wagate__psql) ]]; then
		wagate_log "psql not found: not checking for leftover test databases"
		return 0
	fi
	names=$(wagate_pg_psql "$url" "select datname || ' ' || coalesce(shobj_description(oid, 'pg_database'), '')
		from pg_database where datname like 'wagate\\_test\\_%'") || {
		wagate_log "warning: could not list leftover test databases"
		return 0
	}
	now_ms=$(($(date +%s) * 1000))
	stale_ms=$((${WAGATE_TEST_STALE_HOURS:-6} * 3600 * 1000))
	while read -r name comment; do
		[[ -n $name ]] || continue
		[[ $name =~ ^wagate_test_[0-9a-z]+$ ]] || continue
		if [[ ${WAGATE_PG_SOURCE:-} != throwaway && ! ($run_id != "" && $comment == "wagate-test run=$run_id") ]]; then
			when=$(wagate__ulid_ms "${name#wagate_test_}") || continue
			((now_ms - when > stale_ms)) || continue
		fi
		if wagate_pg_psql "$url" "drop database if exists \"$name\" with (force)" >/dev/null; then
			n=$((n + 1))
		fi
	done <<<"$names"
	if ((n > 0)); then
		wagate_log "dropped $n leftover test database(s)"
	else
		wagate_log "no leftover test databases"
	fi
}

# Milliseconds since the epoch encoded in a (lowercase) ULID's first 10 characters.
wagate__ulid_ms() {
	local s=$1 alphabet=0123456789abcdefghjkmnpqrstvwxyz ms=0 i c rest
	[[ ${#s} -eq 26 ]] || return 1
	for ((i = 0; i < 10; i++)); do
		c=${s:i:1}
		rest=${alphabet%%"$c"*}
		[[ ${#rest} -lt 32 ]] || return 1
		ms=$((ms * 32 + ${#rest}))
	done
	echo "$ms"
}

# ---------------------------------------------------------------------------------------------
# run alone

wagate__pg_selftest() {
	set -euo pipefail
	local t0=$SECONDS tmp port
	wagate_install_traps
	wagate_pg_ensure
	wagate_log "source: $WAGATE_PG_SOURCE, url: $(wagate_redact_url "$WAGATE_PG_URL") ($((SECONDS - t0)) s)"
	wagate_pg_psql "$WAGATE_PG_URL" 'select 1' | grep -qx 1 || wagate_die "select 1 failed"
	wagate_log "select 1: ok; $(wagate_pg_psql "$WAGATE_PG_URL" 'select version()')"
	local db
	db=wagate_test_selftest_$$
	wagate_pg_psql "$WAGATE_PG_URL" "create database $db" "comment on database $db is 'wagate-test run=selftest'"
	wagate_pg_psql "${WAGATE_PG_URL%/*}/$db" 'create table t (x int)' 'insert into t values (1)'
	wagate_pg_psql "$WAGATE_PG_URL" "drop database $db with (force)"
	wagate_log "create/use/drop database: ok"
	if [[ $WAGATE_PG_SOURCE == throwaway ]]; then
		tmp=$WAGATE__PG_TMP
		port=${WAGATE_PG_URL##*:}
		port=${port%%/*}
		wagate_pg_stop_throwaway
		[[ ! -e $tmp ]] || wagate_die "$tmp still exists after stopping"
		! wagate__tcp_open 127.0.0.1 "$port" || wagate_die "port $port still answers after stopping"
		wagate_log "stopped: $tmp removed, port $port closed"
	fi
	wagate_log "selftest passed ($((SECONDS - t0)) s)"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case ${1:-help} in
	selftest) wagate__pg_selftest ;;
	help | -h | --help) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0" ;;
	*)
		echo "usage: bash $0 selftest|help" >&2
		exit 2
		;;
	esac
fi
