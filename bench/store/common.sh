# bench/store/common.sh - sourced by run.sh and ab.sh: the admin token, a
# free loopback port, and the one-issuer config both benchmarks start
# revokd with (one issuer, so events may omit iss).
TOKEN=bench-admin-token-0123456789abcdef

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# config DIR: the config in DIR (revokd.json, its secret and admin token).
config() {
	mkdir -p "$1"
	head -c 32 /dev/urandom >"$1/hs.secret"
	printf '%s\n' "$TOKEN" >"$1/admin.token"
	cat >"$1/revokd.json" <<JSON
{ "data_dir": "data", "log_format": "json", "log_level": "info", "threads": 2,
  "issuers": [ { "issuer": "https://bench.test", "algorithms": ["HS256"],
                 "keys": [ { "kid": "h1", "alg": "HS256", "secret_file": "hs.secret" } ] } ],
  "admin": { "token_file": "admin.token" } }
JSON
}
