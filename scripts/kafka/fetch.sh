#!/usr/bin/env bash
# Resolves the pinned Apache Kafka broker and its runtime jars from Maven
# Central into the cache, once. Prints the libs directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
libs="$LOGSHIP_CACHE/kafka-$version/libs"
if [ ! -f "$libs/.complete" ]; then
  log "fetching Apache Kafka $version jars with Maven into $libs"
  rm -rf "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >&2
  touch "$libs/.complete"
fi
echo "$libs"
