#!/usr/bin/env bash
# Build dist/Desk/ (one folder) and dist/Desk-linux-x86_64.tar.gz from a clean checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
make setup
.venv/bin/python -m pip install --quiet -e '.[dev,default-model]' pyinstaller
rm -rf packaging/build/embedders && mkdir -p packaging/build/embedders
# Export the embedder once here, so the bundle needs neither torch nor an export step.
DESK_HOME="$(mktemp -d)" .venv/bin/python - <<'PY'
import shutil
from pathlib import Path
from desk.index.embedder import _model_dir, onnx_file
out = Path("packaging/build/embedders")
for precision in ("int8", "fp32"):
    shutil.copy(onnx_file(precision), out / onnx_file(precision).name)
shutil.copy(_model_dir() / "tokenizer.json", out / "tokenizer.json")
PY
.venv/bin/pyinstaller --noconfirm --clean --distpath dist --workpath packaging/build/work \
    packaging/desk.spec
tar -C dist -czf dist/Desk-linux-$(uname -m).tar.gz Desk
du -sh dist/Desk dist/Desk-linux-$(uname -m).tar.gz
