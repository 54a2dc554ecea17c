# Sourced by ./netwatcher, ./run-tests and .ci/run: finds JDK 25 and checks the build tools.
# Prints one line naming what to install when something is missing, and returns 1.
nw_find_java() {
  local cand
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/*25*; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] || continue
    if "$cand/bin/java" -version 2>&1 | head -1 | grep -Eq '"(2[5-9]|[3-9][0-9])[."]'; then
      export JAVA_HOME="$cand"
      return 0
    fi
  done
  echo "netwatcher: JDK 25 not found: install Temurin 25 (apt-get install temurin-25-jdk from packages.adoptium.net) or set JAVA_HOME" >&2
  return 1
}

nw_check_tools() {
  local missing=()
  command -v clang >/dev/null || missing+=(clang)
  command -v llvm-strip >/dev/null || missing+=(llvm)
  command -v bpftool >/dev/null || missing+=(bpftool)
  [ -f /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)
  ldconfig -p 2>/dev/null | grep -q 'libbpf\.so\.1' || missing+=(libbpf1)
  command -v mvn >/dev/null || missing+=(maven)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "netwatcher: missing build tools: install them with: apt-get install ${missing[*]}" >&2
    return 1
  fi
}

# The integration tests' own tools (run-tests only).
nw_check_test_tools() {
  local missing=()
  command -v ip >/dev/null || missing+=(iproute2)
  command -v nft >/dev/null || missing+=(nftables)
  command -v socat >/dev/null || missing+=(socat)
  command -v ping >/dev/null || missing+=(iputils-ping)
  command -v python3 >/dev/null || missing+=(python3)
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
  command -v dig >/dev/null || missing+=(bind9-dnsutils)
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "netwatcher: missing test tools: install them with: apt-get install ${missing[*]}" >&2
    return 1
  fi
}

# JVM options of every netwatcher launch (./netwatcher, bench/): C2 compiles the event path
# (C1 alone decoded 3x fewer events/s); SerialGC with a fixed 96 MB young generation makes the
# per-event garbage cheap; a 160 MB heap cap keeps RSS near 200 MB (see BENCHMARKS.md).
NW_JVM_OPTS=(--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmn96m -Xmx160m -Xss512k)

# setpriv options of every root launch: netwatcher keeps only the capabilities it uses, for
# its whole life and all its threads (capabilities are per thread: the JVM cannot drop them
# for all its threads itself after attach), and sets no_new_privs (nothing it could exec
# gains privileges). NW_KEEP_ALL_CAPS=1 skips this. What each capability is for:
#   bpf, perfmon          load and attach programs, read maps and ring buffers
#   sys_admin             setns() into each network namespace (netfilter links at start and for
#                         new namespaces, the -x/--rtt socket walks every --conn-every), iterators
#   net_admin             netfilter links (-t -u -I -n) and cgroup_skb programs (-i --dns)
#   sys_ptrace            /proc/PID/ns/net of other users' processes (namespace discovery)
#   syslog                kernel addresses in /proc/kallsyms (-T)
#   sys_resource          RLIMIT_MEMLOCK for BPF maps on kernels before 5.11
#   dac_override, dac_read_search   a log folder under the invoking user's own folders
#   net_bind_service      --metrics on a port below 1024
# Dropped among others: setuid/setgid, chown/fowner, kill, net_raw, sys_module, sys_rawio, mknod.
NW_SETPRIV=(--no-new-privs --inh-caps=-all
  --bounding-set=-all,+bpf,+perfmon,+sys_admin,+net_admin,+sys_ptrace,+syslog,+sys_resource,+dac_override,+dac_read_search,+net_bind_service)
