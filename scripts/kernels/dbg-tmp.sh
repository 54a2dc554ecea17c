#!/usr/bin/env bash
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
for opts in "-i"; do
  echo "=== $opts"
  timeout 200 $JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -XX:UseAVX=0 -Xmx256m -jar /work/main/target/netwatcher.jar $opts --debug --no-logs --duration 1 2>&1 | grep -v '^libbpf: loaded kernel BTF\|CO-RE relocating\|prog .*: relo\|^libbpf: map\|sec .*: found' | grep -i -B2 -A8 'error\|invalid\|denied\|failed\|unknown\|not found\|doesn\|unavailable\|attached' | grep -v '^\s*at ' | grep -v "^[0-9]*: (" | head -60
done
