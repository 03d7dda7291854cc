#!/usr/bin/env bash
# Refresh the vendored front-end files from the npm registry (a build-time step for
# maintainers; the app never downloads anything at run time). Each package's licence is copied
# next to its file.
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund --silent
modules=node_modules
vendor=../src/touchpoints/web/static/vendor
copy() { mkdir -p "$vendor/$1"; cp "$modules/$2" "$modules/$3" "$vendor/$1/"; }
copy htmx htmx.org/dist/htmx.min.js htmx.org/LICENSE
copy vega vega/build/vega.min.js vega/LICENSE
copy vega-lite vega-lite/build/vega-lite.min.js vega-lite/LICENSE
copy vega-embed vega-embed/build/vega-embed.min.js vega-embed/LICENSE
copy pico @picocss/pico/css/pico.min.css @picocss/pico/LICENSE.md
echo "vendored into $vendor"
# axe-core runs only in the browser tests (tests/browser/test_accessibility.py); it is never
# shipped with the app.
test_vendor=../tests/browser/vendor
mkdir -p "$test_vendor/axe-core"
cp "$modules/axe-core/axe.min.js" "$modules/axe-core/LICENSE" "$test_vendor/axe-core/"
echo "vendored axe-core into $test_vendor"
