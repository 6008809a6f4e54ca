#!/usr/bin/env bash
# Builds, or finds already built, what the end-to-end tests (test/e2e/) run for real:
#   - Jaeger v2: github.com/jaegertracing/jaeger/cmd/jaeger at the version in jaeger/go.mod;
#   - otelcol-perf: an OpenTelemetry Collector with exactly our components (otelcol/builder-config.yaml);
#   - prometheus and promtool from Debian's package (installed when missing and we are root).
# Binaries live in a cache outside the clone (CI runs in a fresh clone):
#   ${OTEL_PERF_AGENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-perf-agent}/bin
# and collector/e2e/.cache (ignored) points there. A binary is named after a hash of its recipe, so
# a changed recipe rebuilds and an unchanged one is reused. Nothing built here is committed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${OTEL_PERF_AGENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-perf-agent}"
bin="$cache/bin"
mkdir -p "$bin"
ln -sfn "$cache" "$here/.cache"
start=$SECONDS
say() { echo "e2e-build: $*"; }

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  say "Go is not installed: the Jaeger/collector binaries cannot be built (the e2e tests will skip)"
  exit 0
fi
# Go's module and build caches (GOMODCACHE, GOCACHE) make a rebuild after a cache wipe quicker.
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

hash_of() { cat "$@" | sha256sum | cut -c1-12; }

# --- Jaeger v2 ------------------------------------------------------------------------------
jaeger_key=$(hash_of "$here/jaeger/go.mod" "$here/jaeger/go.sum")
jaeger="$bin/jaeger-$jaeger_key"
if [ -x "$jaeger" ]; then
  say "jaeger: cached ($jaeger)"
else
  t=$SECONDS
  say "jaeger: building $(grep -E '^tool ' "$here/jaeger/go.mod" | cut -d' ' -f2) $(grep -E 'jaegertracing/jaeger ' "$here/jaeger/go.mod" | awk '{print $2}') (first build: several minutes)"
  (cd "$here/jaeger" && go build -trimpath -ldflags='-s -w' -o "$jaeger.tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
  mv "$jaeger.tmp" "$jaeger"
  say "jaeger: built in $((SECONDS - t)) s"
fi
ln -sfn "$(basename "$jaeger")" "$bin/jaeger"

# --- The collector ----------------------------------------------------------------------------
manifest="$here/otelcol/builder-config.yaml"
release=$(awk '/^  version:/ {print $2; exit}' "$manifest")
otelcol_key=$(hash_of "$manifest")
otelcol="$bin/otelcol-perf-$otelcol_key"
if [ -x "$otelcol" ]; then
  say "otelcol-perf $release: cached ($otelcol)"
else
  t=$SECONDS
  builder="$bin/builder-v$release"
  if [ ! -x "$builder" ]; then
    say "collector builder v$release: installing"
    tmp=$(mktemp -d)
    GOBIN="$tmp" go install "go.opentelemetry.io/collector/cmd/builder@v$release"
    mv "$tmp/builder" "$builder"
    rmdir "$tmp"
  fi
  src="$cache/otelcol-src-$otelcol_key"
  config=$(mktemp)
  # output_path is ours to choose; the rest of the manifest is used as committed.
  sed "s|^  version: .*|&\n  output_path: $src|" "$manifest" > "$config"
  say "otelcol-perf $release: building (first build: several minutes)"
  "$builder" --config "$config" >"$cache/otelcol-build.log" 2>&1 || { tail -n 40 "$cache/otelcol-build.log"; rm -f "$config"; exit 1; }
  rm -f "$config"
  mv "$src/otelcol-perf" "$otelcol"
  say "otelcol-perf: built in $((SECONDS - t)) s"
fi
ln -sfn "$(basename "$otelcol")" "$bin/otelcol-perf"

# --- Prometheus and promtool (Debian) ---------------------------------------------------------
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "prometheus: installing Debian's package"
    # The package would start a system prometheus on :9090; the tests start their own instead.
    policy=/usr/sbin/policy-rc.d
    added_policy=0
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && added_policy=1; fi
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >"$cache/apt.log" 2>&1 \
      || { tail -n 20 "$cache/apt.log"; [ $added_policy = 1 ] && rm -f "$policy"; exit 1; }
    [ $added_policy = 1 ] && rm -f "$policy"
  else
    say "prometheus/promtool missing and not installable here (needs root and apt-get); the alert tests will skip"
  fi
fi
command -v prometheus >/dev/null 2>&1 && ln -sfn "$(command -v prometheus)" "$bin/prometheus" && ln -sfn "$(command -v promtool)" "$bin/promtool"

say "ready in $((SECONDS - start)) s: $("$bin/otelcol-perf" --version 2>/dev/null | head -n1); jaeger module $(grep -E 'jaegertracing/jaeger ' "$here/jaeger/go.mod" | awk '{print $2}'); $(prometheus --version 2>&1 | head -n1 || true)"
