#!/usr/bin/env bash
# Install the built bundle for the current user: copy dist/Desk to ~/.local/share/desk and add
# a desktop entry so Desk appears in the applications menu (double-click to start).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${DESK_INSTALL_DIR:-$HOME/.local/share/desk}"
apps="$HOME/.local/share/applications"
[ -x dist/Desk/Desk ] || { echo "Build first: packaging/build.sh"; exit 1; }
mkdir -p "$target" "$apps"
rm -rf "$target/Desk" && cp -a dist/Desk "$target/Desk"
sed "s#@DESK_DIR@#$target/Desk#g" packaging/desk.desktop > "$apps/desk.desktop"
chmod +x "$apps/desk.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "Installed to $target/Desk; menu entry $apps/desk.desktop"
