#!/usr/bin/env bash
# Refresh the translation catalogues (needs GNU gettext). French is translated by hand in
# locale/fr; English, the language of the source strings, is regenerated whole (msgstr = msgid).
set -euo pipefail
cd "$(dirname "$0")/.."
manage=(env DEBUG=true .venv/bin/python manage.py)
"${manage[@]}" makemessages -l fr --no-location --no-obsolete --ignore=.venv --ignore=var --ignore=tests
en=locale/en/LC_MESSAGES/django.po
rm -f "$en"
"${manage[@]}" makemessages -l en --no-location --ignore=.venv --ignore=var --ignore=tests
msgen "$en" | sed -e '0,/^#, fuzzy$/{/^#, fuzzy$/d}' \
  -e 's/^"Language: \\n"/"Language: en\\n"/' -e 's/charset=CHARSET/charset=UTF-8/' > "$en.tmp"
mv "$en.tmp" "$en"
"${manage[@]}" compilemessages --ignore=.venv
untranslated=$(msgattrib --untranslated locale/fr/LC_MESSAGES/django.po | grep -c '^msgid' || true)
fuzzy=$(grep -c '^#, fuzzy' locale/fr/LC_MESSAGES/django.po || true)
echo "French: ${untranslated} untranslated, ${fuzzy} fuzzy to review."
