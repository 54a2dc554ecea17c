# Sourced by ./netwatcher, ./run-tests and bench/: finds JDK 25 and checks the build and test
# tools, installing what is missing (as root, with apt-get or dnf); otherwise one line says what
# to install and the function returns 1.
nw_find_java() {
  local cand
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/*25*; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] || continue
    # the JDK's release file names its version: no JVM started just to ask (bench/startup.sh)
    if grep -Eqs '^JAVA_VERSION="(2[5-9]|[3-9][0-9])' "$cand/release" ||
       { [ ! -f "$cand/release" ] && "$cand/bin/java" -version 2>&1 | head -1 | grep -Eq '"(2[5-9]|[3-9][0-9])[."]'; }; then
      export JAVA_HOME="$cand"
      return 0
    fi
  done
  echo "netwatcher: JDK 25 not found: install Temurin 25 (apt-get install temurin-25-jdk from packages.adoptium.net) or set JAVA_HOME" >&2
  return 1
}

# Installs the packages named by their Debian names ("$@") with the machine's package manager:
# apt-get on Debian/Ubuntu, dnf on Fedora/RHEL (names mapped). One line says what is being
# installed; the package manager's own output is shown only when it fails. Needs root.
nw_install() {
  local what=$1; shift
  local pkgs=("$@") mgr cmd=() log
  if command -v apt-get >/dev/null; then
    mgr=apt-get
  elif command -v dnf >/dev/null; then
    mgr=dnf
    local i
    for i in "${!pkgs[@]}"; do
      case ${pkgs[$i]} in
        libbpf-dev) pkgs[$i]=libbpf-devel ;;
        libbpf1) pkgs[$i]=libbpf ;;
        libpcap0.8) pkgs[$i]=libpcap ;;
        tshark) pkgs[$i]=wireshark-cli ;;
        iputils-ping) pkgs[$i]=iputils ;;
        dnsmasq-base) pkgs[$i]=dnsmasq ;;
        bind9-dnsutils) pkgs[$i]=bind-utils ;;
        iproute2) pkgs[$i]=iproute ;;
        prometheus) pkgs[$i]=golang-github-prometheus ;;
        chromium-driver) pkgs[$i]=chromedriver ;;
        mariadb-client) pkgs[$i]=mariadb ;;
        redis-server|redis-tools) pkgs[$i]=redis ;;
      esac
    done
  else
    echo "netwatcher: missing $what (${pkgs[*]}) and neither apt-get nor dnf is here: install them with your package manager" >&2
    return 1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "netwatcher: missing $what: run as root to have them installed, or: $mgr install ${pkgs[*]}" >&2
    return 1
  fi
  echo "netwatcher: installing $what: $mgr install ${pkgs[*]}" >&2
  log=$(mktemp)
  if [ $mgr = apt-get ]; then
    # the package lists may be missing or stale on a fresh machine: update once when the install fails
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >"$log" 2>&1 ||
      { apt-get update -qq >>"$log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >>"$log" 2>&1; }
  else
    dnf install -y -q "${pkgs[@]}" >"$log" 2>&1
  fi || { cat "$log" >&2; rm -f "$log"; echo "netwatcher: installing $what failed (the output above is $mgr's)" >&2; return 1; }
  rm -f "$log"
}

nw_check_tools() {
  local missing=()
  command -v clang >/dev/null || missing+=(clang)
  command -v llvm-strip >/dev/null || missing+=(llvm)
  command -v bpftool >/dev/null || missing+=(bpftool)
  [ -f /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)
  ldconfig -p 2>/dev/null | grep -q 'libbpf\.so\.1' || missing+=(libbpf1)
  # libpcap compiles filter expressions (bpf/PcapFilter; Debian's libpcap0.8 holds libpcap.so.0.8)
  ldconfig -p 2>/dev/null | grep -q 'libpcap\.so' || missing+=(libpcap0.8)
  command -v mvn >/dev/null || missing+=(maven)
  [ ${#missing[@]} -eq 0 ] || nw_install "build tools" "${missing[@]}"
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
  command -v tcpdump >/dev/null || missing+=(tcpdump)
  # tshark reads what -w writes (CaptureIT); Fedora's package is wireshark-cli
  command -v tshark >/dev/null || missing+=(tshark)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  command -v mariadb >/dev/null || missing+=(mariadb-client)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  command -v chromedriver >/dev/null || [ -x /usr/lib/chromium/chromedriver ] || missing+=(chromium-driver)
  [ ${#missing[@]} -eq 0 ] || nw_install "test tools" "${missing[@]}"
}

# JVM options of every netwatcher launch (./netwatcher, bench/): C2 compiles the event path
# (C1 alone decoded 3x fewer events/s); SerialGC with a fixed 32 MB young generation makes the
# per-event garbage cheap (bench/EventPath.java: 3.6 M JSON events/s against 3.4 M with 96 MB,
# the smaller eden staying in cache); a 96 MB heap cap keeps the peak RSS with every option on
# under traffic below 200 MB (BENCHMARKS.md). Native access comes from the jar's manifest
# (Enable-Native-Access: ALL-UNNAMED, for -jar launches): the same on the command line made the JVM
# refuse the class-data archive below ("Mismatched values for property jdk.module.enable.native.access").
# With -cp (bench/EventPath.java) add --enable-native-access=ALL-UNNAMED.
NW_JVM_OPTS=(-XX:+UseSerialGC -Xmn32m -Xmx96m -Xss512k)

# The JVM's caches of this build, beside the jar and named after its time and size (the JVM does
# not remake a cache whose jar changed, it only refuses it; older ones are deleted). Two kinds:
# - An AOT cache (JDK 25: JEP 483, 514, 515): the classes loaded and linked, and the profiles of the
#   methods a run of the event path used, so that the JIT compiles that path from its first packets
#   with complete profiles instead of compiling it, deoptimising and compiling it again. Under
#   `-t -u --json` and 64-byte UDP it took netwatcher's CPU over the first 8 s of traffic from
#   2.58-2.80 to 1.96-2.12 s, the C2 compiler threads' from 1.03-1.19 to 0.74 s (bench/profile.sh,
#   BENCHMARKS.md "The JIT's share"). The first run after a build that follows packets (-t, -u, -I)
#   records its profile (AOTMode=record: about a second more at its exit); if it delivered enough
#   records to teach the JIT the event path (cli/AotTraining), the next launch makes the cache from
#   it, in the background at low priority (about a second of one CPU), else the next such run
#   records again; later runs that follow packets map it. nw_cache_ready makes it at once (bench/).
# - AppCDS for the other runs, and for those too until the cache is made (the JVM makes the archive
#   at the end of the first run, later runs map it): start-up -S 0.49 -> 0.39 s (bench/startup.sh).
#   The AOT cache starts -S slower (0.53 against 0.46 s, 7 runs each) and every option at about the
#   same time (0.95 against 0.93 s), so only the runs whose JIT it serves map it.
# Their log lines are off: the JVM reports, e.g., classes it could not archive, no concern of the user's.
# nw_cache_opts JAR [ARGS...]: adds the options to NW_JVM_OPTS for a run of JAR with ARGS.
nw_cache_opts() {
  local jar=$1 base f
  shift
  nw_cache_base "$jar"
  base=$NW_CACHE_BASE
  for f in "${base%/*}"/netwatcher-*.jsa "${base%/*}"/netwatcher-*.aot "${base%/*}"/netwatcher-*.aotconf \
    "${base%/*}"/netwatcher-*.aottrained; do
    [ -e "$f" ] && [ "${f%.*}" != "$base" ] && rm -f "$f"
  done
  # a recorded run that delivered too few records to teach the JIT the event path (AotTraining) is
  # not made into a cache: the next run that follows packets records again
  if [ ! -f "$base.aotconf" ] || [ ! -f "$base.aottrained" ]; then rm -f "$base.aotconf" "$base.aottrained"; fi
  if nw_follows_packets "$@"; then
    if [ -f "$base.aot" ]; then
      NW_JVM_OPTS+=(-Xlog:aot=off -Xlog:cds=off "-XX:AOTCache=$base.aot")
      return
    fi
    if [ ! -f "$base.aotconf" ]; then
      NW_JVM_OPTS+=(-Xlog:aot=off -Xlog:cds=off -XX:AOTMode=record "-XX:AOTConfiguration=$base.aotconf"
        "-Dnetwatcher.aot.trained=$base.aottrained")
      return
    fi
  fi
  if [ -f "$base.aotconf" ] && [ ! -f "$base.aot" ]; then
    # made by a JVM of its own at low priority, while this run goes on without it
    (renice -n 19 "$BASHPID" >/dev/null 2>&1; nw_cache_make "$jar" "$base") </dev/null &
  fi
  NW_JVM_OPTS+=(-Xlog:cds=off -Xlog:cds+dynamic=off -XX:+AutoCreateSharedArchive "-XX:SharedArchiveFile=$base.jsa")
}

# NW_CACHE_BASE: the caches' name without its extension, beside JAR. One fork (stat): the launcher
# runs this before every start (bench/startup.sh).
nw_cache_base() {
  local dir=.
  [[ $1 == */* ]] && dir=${1%/*}
  NW_CACHE_BASE="$dir/netwatcher-$(stat -c %Y-%s "$1")"
}

# nw_cache_make JAR BASE: the AOT cache BASE.aot from the recorded profile BASE.aotconf (written
# whole or not at all), and the profile and its mark gone.
nw_cache_make() {
  "$JAVA_HOME/bin/java" "${NW_JVM_OPTS[@]}" -XX:AOTMode=create "-XX:AOTConfiguration=$2.aotconf" \
    "-XX:AOTCache=$2.aot.$$" -jar "$1" >/dev/null 2>&1 && mv -f "$2.aot.$$" "$2.aot" || rm -f "$2.aot.$$"
  rm -f "$2.aotconf" "$2.aottrained"
}

# True when the arguments ask for the packet path (-t, -u, -I, alone or among other short options).
nw_follows_packets() {
  local a
  for a in "$@"; do
    case $a in
      --time|--udp|--icmptime) return 0 ;;
      --*) ;;
      -*[tuI]*) [[ $a =~ ^-[A-Za-z]+$ ]] && return 0 ;;
    esac
  done
  return 1
}

# The AOT cache of JAR, made now if a recorded profile waits for it (bench/: no JVM of its own
# making it while a round is measured). True when the cache is there.
nw_cache_ready() {
  local base
  nw_cache_base "$1"
  base=$NW_CACHE_BASE
  if [ ! -f "$base.aot" ] && [ -f "$base.aotconf" ] && [ -f "$base.aottrained" ]; then nw_cache_make "$1" "$base"; fi
  rm -f "$base.aotconf" "$base.aottrained"
  [ -f "$base.aot" ]
}

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

# Installs what is missing of the commands named ("$@"), by their packages (nw_install). Bench
# scripts call it: a fresh machine has no iperf3 or bpftrace.
nw_need_tools() {
  local t missing=()
  for t in "$@"; do
    command -v "$t" >/dev/null && continue
    case $t in
      ip) missing+=(iproute2) ;;
      ping) missing+=(iputils-ping) ;;
      *) missing+=("$t") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] || nw_install "the benchmark's tools" "${missing[@]}"
}
