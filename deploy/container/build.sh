#!/usr/bin/env bash
# Builds the sesame image from deploy/container/Containerfile with whichever of podman, buildah
# or docker is installed: a static binary and the host's CA bundle go into the context, so the
# build pulls nothing. Usage: deploy/container/build.sh [TAG]   (default sesame:dev)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tag="${1:-sesame:dev}"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ctx/sesame" ./cmd/sesame)
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
cp "$here/Containerfile" "$ctx/"
# SESAME_IMAGE_BUILDER (podman, buildah or docker) picks one; else the first found.
builder="${SESAME_IMAGE_BUILDER:-}"
if [ -z "$builder" ]; then
  for b in podman buildah docker; do
    if command -v "$b" >/dev/null 2>&1; then builder=$b; break; fi
  done
fi
if [ "$builder" = podman ]; then
  podman build --format docker -t "$tag" -f "$ctx/Containerfile" "$ctx"
elif [ "$builder" = buildah ]; then
  buildah ${BUILDAH_STORAGE_DRIVER:+--storage-driver "$BUILDAH_STORAGE_DRIVER"} bud --format docker -t "$tag" -f "$ctx/Containerfile" "$ctx"
elif [ "$builder" = docker ]; then
  docker build -t "$tag" -f "$ctx/Containerfile" "$ctx"
else
  echo "build.sh: no podman, buildah or docker found" >&2
  exit 1
fi
