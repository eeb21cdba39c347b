#!/bin/sh
# Start and stop Debian's nginx on a free loopback port, serving one directory,
# with everything (config, pid, logs, temp dirs) in a private temp dir: the
# object-storage stand-in for http:// page sources.
#
# Source it:   . "$DZ_SRC/tests/lib/nginx.sh"
#              nginx_start DIR      # sets NGINX_PORT (and NGINX_DIR); returns non-zero if it cannot
#              ...http://127.0.0.1:$NGINX_PORT/FILE...
#              nginx_stop           # idempotent; call it from an EXIT trap
# or run it:   tests/lib/nginx.sh start DIR   -> prints "PORT STATEDIR"
#              tests/lib/nginx.sh stop STATEDIR

nginx_bin() {
	command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }
}

nginx_start() {
	_root=$1
	_bin=$(nginx_bin)
	[ -n "$_bin" ] || { echo "nginx_start: nginx is not installed (apt-get install nginx-light)" >&2; return 1; }
	[ -d "$_root" ] || { echo "nginx_start: no directory $_root" >&2; return 1; }
	NGINX_DIR=$(mktemp -d /tmp/dz-nginx-XXXXXX) || return 1
	_try=0
	# Ports from a per-process base: two suites at once rarely collide, and a taken
	# port only costs a retry.
	_port=$(( 20000 + ($$ * 7 + $(date +%N | sed 's/^0*//;s/^$/0/') ) % 30000 ))
	while [ $_try -lt 20 ]; do
		cat >"$NGINX_DIR/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon on;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $NGINX_DIR/body;
	proxy_temp_path $NGINX_DIR/proxy;
	fastcgi_temp_path $NGINX_DIR/fastcgi;
	uwsgi_temp_path $NGINX_DIR/uwsgi;
	scgi_temp_path $NGINX_DIR/scgi;
	keepalive_requests 100000;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$_port;
		root $_root;
	}
}
CONF
		if "$_bin" -p "$NGINX_DIR" -e "$NGINX_DIR/error.log" -c "$NGINX_DIR/nginx.conf" </dev/null >/dev/null 2>"$NGINX_DIR/start.err"; then
			# wait (bounded) for the pid file: the master forks before it answers
			_w=0
			while [ ! -s "$NGINX_DIR/nginx.pid" ] && [ $_w -lt 50 ]; do sleep 0.1; _w=$((_w+1)); done
			NGINX_PORT=$_port
			export NGINX_PORT NGINX_DIR
			return 0
		fi
		grep -q "in use" "$NGINX_DIR/start.err" "$NGINX_DIR/error.log" 2>/dev/null || {
			cat "$NGINX_DIR/start.err" >&2
			rm -rf "$NGINX_DIR"
			return 1
		}
		_port=$((_port + 1))
		_try=$((_try + 1))
	done
	echo "nginx_start: no free port found" >&2
	rm -rf "$NGINX_DIR"
	return 1
}

nginx_stop() {
	[ -n "$NGINX_DIR" ] && [ -d "$NGINX_DIR" ] || return 0
	if [ -s "$NGINX_DIR/nginx.pid" ]; then
		_pid=$(cat "$NGINX_DIR/nginx.pid")
		kill -TERM "$_pid" 2>/dev/null
		_w=0
		while kill -0 "$_pid" 2>/dev/null && [ $_w -lt 50 ]; do sleep 0.1; _w=$((_w+1)); done
		kill -KILL "$_pid" 2>/dev/null
	fi
	rm -rf "$NGINX_DIR"
	NGINX_DIR=
}

# Executed rather than sourced: a tiny CLI for C tests and the benchmark.
case "$0" in
*nginx.sh)
	case "$1" in
	start) nginx_start "$2" && echo "$NGINX_PORT $NGINX_DIR" ;;
	stop) NGINX_DIR=$2 nginx_stop ;;
	*) echo "usage: $0 start DIR | stop STATEDIR" >&2; exit 2 ;;
	esac
	;;
esac
