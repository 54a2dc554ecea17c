# Sourced by bench scripts: two network namespaces joined by a veth pair named veth0 on both sides.
#   lab_up A B ADDR_A ADDR_B     (addresses with their prefix, e.g. 198.19.2.1/24)
#   lab_down A B                 kills what runs in them (servers started with -D outlive their
#                                namespace otherwise) and deletes them; safe when they do not exist
lab_up() {
  ip netns add "$1"; ip netns add "$2"
  ip -n "$1" link add veth0 type veth peer name veth0 netns "$2"
  ip -n "$1" addr add "$3" dev veth0; ip -n "$2" addr add "$4" dev veth0
  for n in "$1" "$2"; do ip -n "$n" link set lo up; ip -n "$n" link set veth0 up; done
}

lab_down() {
  for n in "$1" "$2"; do
    ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
}
