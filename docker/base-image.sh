#!/usr/bin/env bash
# Makes the base image the Dockerfile starts FROM (debian:bookworm-slim) out of Debian's packages, where the engine
# has no such image. Where a registry is reachable this is unnecessary: `docker build` pulls the same tag as usual.
# Needs root (debootstrap) and Debian's debootstrap package; takes about a minute.
set -euo pipefail
tag="${1:-debian:bookworm-slim}"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag is present"
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "base-image.sh: debootstrap is missing (apt-get install debootstrap), or pull $tag from a registry" >&2
  exit 1
fi
root="$(mktemp -d /tmp/mailroot-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
mirror="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}"
debootstrap --variant=minbase bookworm "$root" ${mirror:-http://deb.debian.org/debian} >/dev/null
# A machine that reaches registries only through a proxy of its own trusts that proxy's CA: so does the image, or
# apt and Maven inside it could not fetch anything over HTTPS. (Installing ca-certificates picks these up.)
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
# Keep the image small and apt usable from the Dockerfile.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import - "$tag" >/dev/null
echo "base image $tag made from Debian's packages"
