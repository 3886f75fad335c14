#!/bin/bash
# The image's health check. Healthy once the node has started (it writes dataDir/ready after its roles or its Kafka
# node are up, and removes it before stopping), and then:
#  - a role node: its admin listener's /health/ready answers 200 (every role running, not restarting, and Kafka
#    answering); with admin.enabled false, the ready file alone;
#  - where the container serves SMTP or Kafka, that port answers too: SMTP with its 220 greeting.
data="${MAILROOT_DATA_DIR:-/var/lib/mailroot/data}"
[ -f "$data/ready" ] || { echo "not started"; exit 1; }
what="$(cat "$data/ready")"
case "$what" in
  broker) ;;
  *)
    if [ "${MAILROOT_ADMIN_ENABLED:-true}" = true ]; then
      admin="${MAILROOT_ADMIN_PORT:-8026}"
      exec 4<>/dev/tcp/127.0.0.1/"$admin" || { echo "admin port $admin refuses"; exit 1; }
      printf 'GET /health/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&4
      read -r -t 3 status <&4 || true
      read -r -t 3 -d '' rest <&4 || true
      exec 4<&-
      case "$status" in
        "HTTP/1."?" 200"*) ;;
        *) echo "not ready: ${status%$'\r'} ${rest##*$'\r\n\r\n'}"; exit 1 ;;
      esac
    fi ;;
esac
case "$what" in
  *ingress*|*start*)
    port="${MAILROOT_VIRTUAL_SERVERS_0_PORT:-2525}"
    exec 3<>/dev/tcp/127.0.0.1/"$port" || { echo "SMTP port $port refuses"; exit 1; }
    read -r -t 3 greeting <&3 || true
    printf 'QUIT\r\n' >&3
    case "$greeting" in 220*) ;; *) echo "SMTP greeting: $greeting"; exit 1 ;; esac ;;
  broker)
    port="${MAILROOT_BROKER_PORT:-9092}"
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null || { echo "Kafka port $port refuses"; exit 1; }
esac
echo "ok: $what"
