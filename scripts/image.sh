#!/usr/bin/env bash
# image.sh — builds the container image the Kubernetes manifests run, plateau:<version>, and tests it.
#
#   scripts/image.sh build   (make image)       the Debian base if missing, then the image
#   scripts/image.sh test    (make image-test)  build, then check the image and start a service from it
#
# Uses buildah as root (installed from Debian when missing), chroot isolation. No image registry
# is needed: the base the Containerfile's FROM names is made locally with mmdebstrap from Debian's
# package mirror and committed under that name, then reused. STORAGE_DRIVER=vfs where overlay
# mounts are not allowed. JOBS sets the compile's parallelism (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-build}
[[ $MODE == build || $MODE == test ]] || { echo "usage: $0 build|test" >&2; exit 2; }
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "image.sh: buildah and mmdebstrap need root (or sudo)" >&2; exit 1; }
  exec sudo --preserve-env=JOBS,STORAGE_DRIVER "$0" "$@"
fi

VERSION=$(sed -n 's/^project(plateau VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
BASE=$(sed -n 's/^ARG BASE=//p' Containerfile)
IMAGE=plateau:$VERSION
[[ -n $VERSION && -n $BASE ]] || { echo "image.sh: no version in CMakeLists.txt or no BASE in Containerfile" >&2; exit 1; }

stage() { printf 'image.sh: %-28s %4ds\n' "$1" "$2"; }

missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
if ((${#missing[@]} > 0)); then
  echo "image.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The working containers and mounts of this run, removed on any exit.
CTRS=() PIDS=() MOUNTS=()
cleanup() {
  local p m c
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || true; done
  for c in "${CTRS[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# ---- the base: Debian 12 minbase, trimmed like Debian's slim images ---------------------------
t=$SECONDS
if buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  stage "base (already there)" $((SECONDS - t))
else
  echo "image.sh: making $BASE with mmdebstrap"
  ctr=$(buildah from scratch); CTRS+=("$ctr")
  mnt=$(buildah mount "$ctr")
  # The path filters are written into the base's dpkg configuration, so packages installed on
  # top of it leave out their manuals and translations too.
  mmdebstrap --variant=minbase --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$mnt"
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd '["bash"]' --label org.opencontainers.image.description="Debian 12 (bookworm) minbase, made by mmdebstrap" \
    "$ctr"
  buildah commit --quiet --rm "$ctr" "$BASE" >/dev/null
  CTRS=()
  stage "base (mmdebstrap)" $((SECONDS - t))
fi

# ---- the image ----------------------------------------------------------------------------------
t=$SECONDS
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
buildah bud --isolation chroot --layers --pull=never \
  --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" --build-arg JOBS="${JOBS:-2}" \
  -t "$IMAGE" -f Containerfile .
stage "build $IMAGE" $((SECONDS - t))
buildah images "$IMAGE"
[[ $MODE == test ]] || exit 0

# ---- the test: the image's root file system, as the manifests would run it ----------------------
t=$SECONDS
fail() { echo "image.sh: FAIL: $*" >&2; exit 1; }
ctr=$(buildah from --pull=never "$IMAGE"); CTRS+=("$ctr")
mnt=$(buildah mount "$ctr")

user=$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
[[ $user == 10001* ]] || fail "the image runs as '$user', not 10001"
grep -q '^[^:]*:x:10001:10001:' "$mnt/etc/passwd" || fail "no user 10001 in /etc/passwd"
for c in cc gcc c++ g++ clang ld; do
  [[ ! -e $mnt/usr/bin/$c ]] || fail "a compiler or linker is in the runtime image: /usr/bin/$c"
done
[[ -f $mnt/usr/share/zoneinfo/Europe/Paris ]] || fail "no tzdata (/usr/share/zoneinfo)"
[[ -f $mnt/usr/share/plateau/profiles/fr-cc.profile ]] || fail "no jurisdiction profiles"

mount -t proc proc "$mnt/proc"; MOUNTS+=("$mnt/proc")
mount --bind /dev "$mnt/dev"; MOUNTS=("$mnt/dev" "${MOUNTS[@]}")
# Every binary's libraries resolve inside the image, and every service starts far enough to
# refuse an empty configuration (exit status 2, naming the variable), not 127 or a loader error.
n=0
for bin in "$mnt"/usr/bin/plateau-* "$mnt"/usr/bin/plateauctl; do
  b=${bin#"$mnt"}
  out=$(chroot "$mnt" ldd "$b") || fail "ldd $b: $out"
  ! grep -q 'not found' <<<"$out" || fail "$b: $(grep 'not found' <<<"$out")"
  n=$((n + 1))
done
echo "image.sh: shared libraries of $n binaries resolve"
for s in intake scrub dialer promise audit telsim template; do
  rc=0
  out=$(timeout 10 chroot --userspec=10001:10001 "$mnt" env -i /usr/bin/plateau-$s 2>&1) || rc=$?
  [[ $rc -eq 2 ]] || fail "plateau-$s with no configuration exited $rc, not 2: $out"
done
echo "image.sh: every service starts and refuses an empty configuration"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port); OPS_PORT=$(free_port); BUS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
PIDS+=($!)
log=$(mktemp)
chroot --userspec=10001:10001 "$mnt" env -i PATH=/usr/bin:/bin \
  "PLATEAU_REDIS_URL=redis://127.0.0.1:$REDIS_PORT" PLATEAU_OPS_ADDR=127.0.0.1 "PLATEAU_OPS_PORT=$OPS_PORT" \
  "PLATEAU_BUS_BIND=tcp://127.0.0.1:$BUS_PORT" PLATEAU_BUS_SECURITY=plaintext PLATEAU_REPLICA_ID=image-test \
  /usr/bin/plateau-template >"$log" 2>&1 &
svc=$!; PIDS=("$svc" "${PIDS[@]}")
code=000
for _ in $(seq 50); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OPS_PORT/healthz" || true)
  [[ $code == 200 ]] && break
  kill -0 "$svc" 2>/dev/null || break
  sleep 0.2
done
[[ $code == 200 ]] || { cat "$log" >&2; fail "/healthz answered $code, not 200"; }
# Ready once it has reached Redis (and not before: /readyz is what the manifests' probes use).
ready=000
for _ in $(seq 50); do
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OPS_PORT/readyz" || true)
  [[ $ready == 200 ]] && break
  sleep 0.2
done
[[ $ready == 200 ]] || {
  cat "$log" >&2; curl -s "http://127.0.0.1:$OPS_PORT/readyz" >&2 || true
  fail "/readyz answered $ready with Redis up, not 200"
}
uid=$(awk '/^Uid:/{print $2}' "/proc/$svc/status")
[[ $uid == 10001 ]] || fail "plateau-template ran as uid $uid"
kill -TERM "$svc"
rc=0; wait "$svc" || rc=$?
PIDS=("${PIDS[@]:1}")
[[ $rc -eq 0 ]] || { cat "$log" >&2; fail "plateau-template exited $rc after SIGTERM"; }
rm -f "$log"
echo "image.sh: plateau-template from the image: /healthz 200, /readyz 200, uid 10001, clean stop"
stage "test" $((SECONDS - t))
echo "image.sh: $IMAGE passed"
