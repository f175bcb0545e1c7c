#!/usr/bin/env bash
# Resolves an Apache Kafka broker and its runtime jars from Maven Central into
# the cache, once per version. Prints the libs directory.
#
#   fetch.sh            the default version (the first of pom.xml's kafka.versions)
#   fetch.sh 4.4.0      that version (3.x from 3.5 on, or 4.x: see pom.xml's profiles)
#   fetch.sh --versions prints the versions the project tests against, one a line
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
read -r -a versions <<<"$(sed -n 's:.*<kafka.versions>\(.*\)</kafka.versions>.*:\1:p' "$here/pom.xml")"
if [ "${1:-}" = "--versions" ]; then printf '%s\n' "${versions[@]}"; exit 0; fi
version="${1:-${versions[0]}}"
# The version becomes a path and a Maven property: digits and dots only.
if [[ ! "$version" =~ ^([0-9]+)\.([0-9]+)\.[0-9]+$ ]]; then
  log "not a Kafka version: '$version' (expected e.g. 4.4.0)"; exit 2
fi
major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
# 3.5 is the first release whose KRaft storage tool takes --add-scram (SCRAM users).
if ! { [ "$major" -eq 3 ] && [ "$minor" -ge 5 ]; } && [ "$major" -ne 4 ]; then
  log "Kafka $version is not supported by LocalKafka (3.5 … 4.x)"; exit 2
fi
dir="$LOGSHIP_CACHE/kafka-$version"
libs="$dir/libs"
if [ ! -f "$libs/.complete" ]; then
  mkdir -p "$dir"
  # One fetch per version at a time: tests, the demo and other checkouts on
  # this machine may ask for the same version at once. The jars land in a
  # temporary directory that is renamed into place only when complete, so
  # nobody ever sees half a libs directory.
  exec 9>"$dir/.lock"
  flock 9
  if [ ! -f "$libs/.complete" ]; then
    require_command mvn maven "to fetch the Apache Kafka $version jars the tests run, once" || exit 1
    log "fetching Apache Kafka $version jars with Maven into $libs"
    partial="$dir/libs.partial"
    rm -rf "$partial" "$libs"
    mvn -q -B -f "$here/pom.xml" -P "kafka$major" -Dkafka.version="$version" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$partial" >&2
    touch "$partial/.complete"
    mv "$partial" "$libs"
  fi
  exec 9>&-
fi
echo "$libs"
