#!/usr/bin/env bash
# layering.sh CC LAYER_ROOTS PROTO_OUT: proves the build's layer fences
# hold. For every pair of layers, a file of the lower layer that includes
# a header of the upper one must not compile with the lower layer's include
# root, and one that includes a header of a layer it uses must. (The
# configure step refuses ".." includes and outside libraries in the wrong
# layer; this checks the include roots themselves.)
set -u
cc=$1 roots=$2
order=(util keys core config store sync export web daemon cli)
# a header of each layer to include
declare -A hdr=([util]=util/why.h [keys]=keys/keys.h [core]=core/event.h [config]=config/config.h
                [store]=store/store.h [sync]=sync/sync.h [export]=export/report.h
                [web]=web/web.h [daemon]=daemon/daemon.h [cli]=cli/cli.h)
fail=0 checked=0
try() { # layer header -> 0 if it compiles; 2 if the header is not found there
  local err
  err=$(printf '#include "%s"\nint lernet_layering_probe;\n' "$2" |
    "$cc" -fsyntax-only -D_GNU_SOURCE -I "$roots/$1" $(pkg-config --cflags libsodium jansson libmicrohttpd libzmq 2>/dev/null) -x c - 2>&1) && return 0
  case $err in *"$2"*"No such file"*) return 2 ;; esac
  echo "$err" >&2
  return 1
}
for ((i = 0; i < ${#order[@]}; i++)); do
  low=${order[i]}
  for ((j = i + 1; j < ${#order[@]}; j++)); do
    up=${order[j]}
    checked=$((checked + 1))
    try "$low" "${hdr[$up]}"
    rc=$?
    if [ -e "$roots/$low/$up" ] || [ $rc -ne 2 ]; then
      echo "FAIL: $low can include ${hdr[$up]} of $up (or failed for another reason)"
      fail=1
    fi
  done
  if ! try "$low" "${hdr[$low]}"; then
    echo "FAIL: $low cannot include its own ${hdr[$low]}"
    fail=1
  fi
done
echo "$checked upward includes refused by the include roots"
exit $fail
