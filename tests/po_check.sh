#!/usr/bin/env bash
# Every English text of the web page (T, TN, N_ in node/web/*.c) has a
# translation, not fuzzy, in every po/LANG.po, and each catalogue compiles
# with msgfmt --check (the printf conversions of a translation match its
# msgid's). A new text without translations fails here, naming it.
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xgettext --language=C --from-code=UTF-8 --keyword=T:2 --keyword=TN:2,3 --keyword=N_ \
  --no-location -o "$tmp/lernet.pot" "$src"/node/web/*.c
fail=0
for po in "$src"/po/*.po; do
  l=$(basename "$po" .po)
  msgmerge --quiet --no-location -o "$tmp/$l.po" "$po" "$tmp/lernet.pot"
  msgfmt --check -o /dev/null "$tmp/$l.po"
  for what in untranslated only-fuzzy; do
    # the header is msgid "": every other msgid listed is a gap
    gaps=$(msgattrib --$what --no-obsolete --no-wrap "$tmp/$l.po" | grep '^msgid "..*"$' || true)
    if [ -n "$gaps" ]; then
      echo "po/$l.po: ${what#only-} texts (run scripts/update-po, then translate):"
      echo "$gaps" | head -40
      fail=1
    fi
  done
done
exit $fail
