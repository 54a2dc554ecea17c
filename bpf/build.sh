#!/usr/bin/env bash
# Compiles bpf/*.bpf.c (or SRC/*.bpf.c: test-only objects) into CO-RE objects under OUT
# (default target/classes/bpf). Usage: build.sh [OUT [SRC]]
# vmlinux.h is generated from the running kernel's BTF with bpftool (target/bpf/vmlinux.h);
# CO-RE relocations make the objects work on other kernels with BTF.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:-$root/target/classes/bpf}
src_dir=${2:-$here}
gen=$root/target/bpf
mkdir -p "$out" "$gen"
for tool in clang llvm-strip bpftool; do
  command -v "$tool" >/dev/null || { echo "bpf/build.sh: $tool not found; install it: apt-get install clang llvm libbpf-dev bpftool" >&2; exit 1; }
done
[ -f /usr/include/bpf/bpf_helpers.h ] || { echo "bpf/build.sh: libbpf headers not found; install them: apt-get install libbpf-dev" >&2; exit 1; }
if [ ! -s "$gen/vmlinux.h" ]; then
  [ -r /sys/kernel/btf/vmlinux ] || { echo "bpf/build.sh: /sys/kernel/btf/vmlinux missing: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF)" >&2; exit 1; }
  bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$gen/vmlinux.h.tmp"
  mv "$gen/vmlinux.h.tmp" "$gen/vmlinux.h"
fi
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
for src in "$src_dir"/*.bpf.c; do
  obj="$out/$(basename "${src%.c}").o"
  # a test object includes the objects it extends (their .bpf.c)
  deps=(-name '*.h' -o -name build.sh)
  [ "$src_dir" = "$here" ] || deps+=(-o -name '*.bpf.c')
  if [ "$obj" -nt "$src" ] && [ -z "$(find "$here" \( "${deps[@]}" \) -newer "$obj")" ]; then continue; fi
  # shellcheck disable=SC2086  # NW_BPF_CFLAGS: extra flags (bench/floor.sh), split on spaces
  clang -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_$arch ${NW_BPF_CFLAGS:-} \
    -I "$gen" -I "$here/include" -I "$here" -c "$src" -o "$obj"
  # keep BTF (.BTF, .BTF.ext) for CO-RE and the layout checks; drop DWARF (10x smaller jar)
  llvm-strip -g "$obj"
done
