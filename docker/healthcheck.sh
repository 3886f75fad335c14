#!/bin/bash
# The image's health check. Healthy once the node has started (it writes dataDir/ready after its roles or its Kafka
# node are up, and removes it before stopping), and, where this container serves SMTP or Kafka, once that port
# answers: SMTP with its 220 greeting.
data="${MAILROOT_DATA_DIR:-/var/lib/mailroot/data}"
[ -f "$data/ready" ] || { echo "not started"; exit 1; }
what="$(cat "$data/ready")"
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
