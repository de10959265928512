#!/usr/bin/env bash
# `pip install .` from the repository into a fresh venv beside Debian's numpy and torch (scikit-build-core comes from
# PyPI as pip's build requirement, through pip's cache), then the example against the CLI and the package's
# tests against the installed copy (no OCLINIT_LIBRARY, no source tree on the path).
#   tests/python/pip_install.sh SOURCE_DIR CLI
set -euo pipefail
source_dir=$1
cli=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
python=$work/venv/bin/python
unset OCLINIT_LIBRARY PYTHONPATH
# ml_dtypes (bfloat16) and safetensors (test_torch) as .ci/install-deps pins them; numpy stays Debian's.
"$python" -m pip install -q --disable-pip-version-check "$source_dir" ml_dtypes==0.5.4 safetensors==0.8.0 \
    "numpy==$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')"
package=$("$python" -c 'import oclinit; print(oclinit.__file__)')
case $package in "$work"/venv/*) ;; *) echo "oclinit imported from $package, not the venv"; exit 1 ;; esac

cd "$work"
"$python" -c "import oclinit; print(oclinit.init((4, 3), seed=1))" > package.txt
"$cli" init --scheme kaiming-normal --shape 4,3 --seed 1 --output cli.npy --quiet >/dev/null
"$python" -c "import numpy; print(numpy.load('cli.npy'))" > cli.txt
diff package.txt cli.txt || { echo "oclinit.init((4, 3), seed=1) differs from oclinit init --seed 1"; exit 1; }

PYTHONDONTWRITEBYTECODE=1 OCLINIT_CLI=$cli "$python" -m pytest -q -p no:cacheprovider "$source_dir/tests/python"
