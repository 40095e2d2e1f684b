#!/bin/sh
# check_layers.sh - each runtime/<layer>/ file includes only headers of its own folder, of the
# layers runtime/CMakeLists.txt says it uses (directly or through them), of proto/ and of
# runtime/include/. With the link check in runtime/CMakeLists.txt (a call up a layer fails to
# link) this keeps types and macros from leaking up the layers too. Exits 1 naming each
# include that breaks the rule.
set -eu
root=${1:-$(dirname "$0")/..}
cml="$root/runtime/CMakeLists.txt"

# "layer dep dep ..." per swb_layer() line.
decls=$(sed -n 's/^swb_layer(\([a-z]*\)\( USES\)\{0,1\}\(.*\))$/\1\3/p' "$cml")
[ -n "$decls" ] || { echo "check_layers: no swb_layer() lines in $cml"; exit 1; }

uses() { echo "$decls" | awk -v l="$1" '$1 == l { for (i = 2; i <= NF; i++) print $i }'; }
closure() { # the layer and everything it uses, transitively (layers are declared in order)
    seen=" $1 "
    for l in $(echo "$decls" | awk '{print $1}' | sed '1!G;h;$!d'); do
        case "$seen" in *" $l "*) seen="$seen$(uses "$l" | tr '\n' ' ')" ;; esac
    done
    echo "$seen" | tr ' ' '\n' | sort -u | tr '\n' ' '
}

bad=0
for layer in $(echo "$decls" | awk '{print $1}'); do
    allowed=$(closure "$layer")
    for f in "$root"/runtime/"$layer"/*.[ch]; do
        for inc in $(sed -n 's/^#include "\(.*\)".*/\1/p' "$f"); do
            case "$inc" in
            */*)
                echo "$f: #include \"$inc\": a path, not a header of an allowed folder"
                bad=1
                continue
                ;;
            esac
            [ -e "$root/runtime/include/$inc" ] && continue
            [ -e "$root/proto/$inc" ] && continue
            ok=0
            for a in $allowed; do
                [ -e "$root/runtime/$a/$inc" ] && ok=1
            done
            if [ "$ok" = 0 ]; then
                echo "$f: #include \"$inc\": not in $layer or a layer it uses ($allowed )"
                bad=1
            fi
        done
    done
done
[ "$bad" = 0 ] && echo "check_layers: every include stays within its layer's uses"
exit "$bad"
