#!/usr/bin/env bash
# deploy/helm-check.sh — the Helm chart (deploy/helm/shekara) through the REAL Helm engine, without
# a helm binary: helm-java from Maven Central embeds Helm's Go library. Needs Java 17+, Maven (once,
# to fetch), Node and `npm run build` (for the gateway's own config check).
#
#   deploy/helm-check.sh [check] [--out DIR]   helm lint --strict; helm template with the chart's values
#                                              and each deploy/helm-check/scenarios/*.yaml (+ NOTES.txt via a
#                                              client-only install --dry-run); then validate the manifests
#                                              and config-check each rendered shekara.yaml
#   deploy/helm-check.sh render [-f VALUES]... helm template to stdout (Helm's error and exit 1 on failure)
#   deploy/helm-check.sh renders --out DIR NAME=VALUES...
#                                              helm template of each value set in one JVM: DIR/NAME.yaml, or
#                                              DIR/NAME.error with Helm's message when Helm refuses the set
#   deploy/helm-check.sh fetch | --help
#
# Env: SHEKARA_HELM_JAVA_HOME (cache, default ~/.cache/shekara/helm-java), SHEKARA_HELM_JAVA_VERSION
#      (0.0.21, embeds Helm 3.21), SHEKARA_HELM_KUBE_VERSION (Kubernetes version to render for, 1.29.0).
set -euo pipefail

VERSION="${SHEKARA_HELM_JAVA_VERSION:-0.0.21}"
CACHE="${SHEKARA_HELM_JAVA_HOME:-$HOME/.cache/shekara/helm-java}"
KUBE_VERSION="${SHEKARA_HELM_KUBE_VERSION:-1.29.0}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CHART="$HERE/helm/shekara"
SRC="$HERE/helm-check/HelmCheck.java"
LIB="$CACHE/lib-$VERSION"

say() { printf 'helm-check.sh: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

need() {
  command -v java >/dev/null || die "java not found (helm-java needs Java 17+; Debian: openjdk-17-jdk-headless)"
  command -v javac >/dev/null || die "javac not found (a JDK, not only a JRE; Debian: openjdk-17-jdk-headless)"
}

# --- fetch: a throwaway POM outside the repo, as deploy/kafka.sh does. helm-java's own POM picks
# the native artifact (linux-amd64, darwin-arm64, ...) for this machine through OS profiles. ---
fetch() {
  if [[ -f "$LIB/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (needed once, to fetch com.marcnuri.helm-java:helm-java:$VERSION)"
  say "fetching helm-java $VERSION from Maven Central (first run only; the native Helm library is ~100 MB)…"
  mkdir -p "$CACHE"
  cat >"$CACHE/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.shekara</groupId><artifactId>helm-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>com.marcnuri.helm-java</groupId><artifactId>helm-java</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
  local t0=$SECONDS tmp="$LIB.tmp.$$"
  rm -rf "$tmp"
  # Into a temp dir, then rename: an interrupted fetch must never look like a populated lib/.
  mvn -q -B -Dstyle.color=never -f "$CACHE/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$tmp" >&2 || { rm -rf "$tmp"; die "Maven could not fetch com.marcnuri.helm-java:helm-java:$VERSION"; }
  ls "$tmp" | grep -Eq '^(linux|darwin|windows)-[a-z0-9]+-' \
    || { rm -rf "$tmp"; die "helm-java $VERSION has no native Helm library for $(uname -s)/$(uname -m)"; }
  echo "$VERSION" >"$tmp/.complete"
  rm -rf "$LIB" && mv "$tmp" "$LIB"
  say "fetched $(find "$LIB" -name '*.jar' | wc -l | tr -d ' ') jars into $LIB in $((SECONDS - t0))s"
}

# Compiled once per source version: the class directory is named after the source's hash.
compile() {
  local sum; sum="$(sha256sum "$SRC" | cut -c1-16)"
  CLASSES="$CACHE/classes-$VERSION-$sum"
  [[ -f "$CLASSES/HelmCheck.class" ]] && return 0
  local tmp="$CLASSES.tmp.$$"
  rm -rf "$tmp"
  javac -nowarn -cp "$LIB/*" -d "$tmp" "$SRC" || { rm -rf "$tmp"; die "javac could not compile $SRC"; }
  rm -rf "$CLASSES" && mv "$tmp" "$CLASSES"
}

# KUBECONFIG=/dev/null: a check never reads, or talks to, whatever cluster this machine knows.
helm_java() { KUBECONFIG=/dev/null java -Xmx256m -cp "$CLASSES:$LIB/*" HelmCheck "$@"; }

check() {
  local out=""
  while (($#)); do
    case "$1" in
      --out) out="${2:?--out needs a directory}"; shift 2 ;;
      *) usage >&2; exit 2 ;;
    esac
  done
  need; fetch; compile
  command -v node >/dev/null || die "node not found"
  [[ -f "$ROOT/dist/config/schema.js" ]] || die "dist/ is missing: run \`npm run build\` first (the rendered config is checked by bin/shekara.js)"
  local keep=1
  if [[ -z "$out" ]]; then out="$(mktemp -d)"; keep=0; fi
  local scenarios=("default=") f
  for f in "$HERE"/helm-check/scenarios/*.yaml; do
    [[ -e "$f" ]] && scenarios+=("$(basename "$f" .yaml)=$f")
  done
  helm_java check "$CHART" "$out" "$KUBE_VERSION" "${scenarios[@]}" || die "the real Helm engine rejected the chart (see above)"
  node "$HERE/helm-check/validate.mjs" "$out" || die "the rendered manifests did not pass validation (see above)"
  if ((keep)); then say "rendered manifests kept in $out"; else rm -rf "$out"; fi
  say "OK: helm lint --strict and helm template (${#scenarios[@]} value sets) passed; manifests validated"
}

render() {
  local files=()
  while (($#)); do
    case "$1" in
      -f | --values) files+=("$(cd "$(dirname "${2:?-f needs a file}")" && pwd)/$(basename "$2")"); shift 2 ;;
      *) usage >&2; exit 2 ;;
    esac
  done
  need; fetch; compile
  helm_java template "$CHART" "$KUBE_VERSION" ${files[@]+"${files[@]}"}
}

renders() {
  local out="" sets=() s
  while (($#)); do
    case "$1" in
      --out) out="${2:?--out needs a directory}"; shift 2 ;;
      *=*) s="$1"; sets+=("${s%%=*}=$(cd "$(dirname "${s#*=}")" && pwd)/$(basename "${s#*=}")"); shift ;;
      *) usage >&2; exit 2 ;;
    esac
  done
  [[ -n "$out" && ${#sets[@]} -gt 0 ]] || { usage >&2; exit 2; }
  need; fetch; compile
  helm_java renders "$CHART" "$out" "$KUBE_VERSION" "${sets[@]}"
}

case "${1:-check}" in
  check) shift || true; check "$@" ;;
  --out) check "$@" ;;
  render) shift; render "$@" ;;
  renders) shift; renders "$@" ;;
  fetch) need; fetch; say "helm-java $VERSION ready in $LIB" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
