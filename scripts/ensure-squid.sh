#!/usr/bin/env bash
# Make sure Debian's Squid is installed for the proxy integration test
# (tests/test_squid.py). Squid is not started here: the test starts its own
# on loopback, with its own configuration, and stops it. Used by 'make test'.
set -euo pipefail
if command -v squid >/dev/null 2>&1 || [ -x /usr/sbin/squid ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-squid: squid is missing and this is not root; the Squid test will be skipped" >&2
  exit 0
fi
echo "ensure-squid: installing squid from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq squid >/dev/null
# The package may start a system Squid; the test needs none.
(command -v systemctl >/dev/null && systemctl stop squid 2>/dev/null) || true
pkill -x squid 2>/dev/null || true
