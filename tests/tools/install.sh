#!/usr/bin/env bash
# Test tools that are not Python packages: Debian's Chromium (axe-core and keyboard
# tests through Playwright), a Java runtime and the Nu Html Checker (vnu-jar), and
# axe-core. Called by `make test-deps`; idempotent, and quick when all is present.
# Chromium and Java come from apt (Debian bookworm, needs root); vnu-jar and axe-core
# from the npm registry at the exact versions in package-lock.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)

if [ ${#missing[@]} -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install.sh: missing ${missing[*]} and no apt-get here; install them by hand" >&2
        exit 1
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    echo "install.sh: installing ${missing[*]} with apt-get"
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "install.sh: chromium and java already installed"
fi

# npm ci wipes and reinstalls node_modules, so run it only when the lock changed.
stamp="$here/node_modules/.lock-installed"
if [ -f "$stamp" ] && cmp -s "$here/package-lock.json" "$stamp" \
        && [ -f "$here/node_modules/vnu-jar/build/dist/vnu.jar" ] \
        && [ -f "$here/node_modules/axe-core/axe.min.js" ]; then
    echo "install.sh: vnu-jar and axe-core already installed"
else
    if ! command -v npm >/dev/null 2>&1; then
        echo "install.sh: npm (Node 20) is needed for vnu-jar and axe-core; install nodejs and npm" >&2
        exit 1
    fi
    echo "install.sh: installing vnu-jar and axe-core (tests/tools/package-lock.json) with npm ci"
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
    cp "$here/package-lock.json" "$stamp"
fi
