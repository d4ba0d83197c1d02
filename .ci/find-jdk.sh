#!/usr/bin/env bash
# Prints the home of a JDK >= 21: $JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm.
set -u
version_of() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}'
}
ok() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  local v; v=$(version_of "$1"); v=${v%%.*}
  [ -n "$v" ] && [ "$v" -ge 21 ]
}
if [ -n "${JAVA_HOME:-}" ] && ok "$JAVA_HOME"; then echo "$JAVA_HOME"; exit 0; fi
best=""; bestv=0
for d in /usr/lib/jvm/* /opt/java/* "$HOME"/.sdkman/candidates/java/*; do
  [ -d "$d" ] || continue
  if ok "$d"; then
    v=$(version_of "$d"); v=${v%%.*}
    if [ "$v" -gt "$bestv" ]; then best=$d; bestv=$v; fi
  fi
done
[ -n "$best" ] && { echo "$best"; exit 0; }
exit 1
