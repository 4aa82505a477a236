# Shared by the scripts in this folder (sourced, not run). Plain bash, no dependencies.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${LIDARHD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
LIDARHD_WERROR="${LIDARHD_WERROR:-OFF}"

_step_started=0
# Prints a header for one step and remembers when it started.
step() {
  _step_started=$SECONDS
  printf '\n==== [%s] %s ====\n' "$(basename "$0")" "$*"
}

die() {
  printf '\n%s: error: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

warn() {
  printf '%s: warning: %s\n' "$(basename "$0")" "$*" >&2
}

# nvcc is often installed outside PATH (/usr/local/cuda/bin).
add_cuda_to_path() {
  if ! command -v nvcc >/dev/null 2>&1; then
    for dir in /usr/local/cuda/bin /opt/cuda/bin; do
      if [[ -x "$dir/nvcc" ]]; then
        PATH="$dir:$PATH"
        export PATH
        return 0
      fi
    done
  fi
}

# The Python that has the packages of tests/python/requirements.txt: the project's virtual
# environment when scripts/install-deps made one, else the default python3.
python_bin() {
  if [[ -x "$REPO/build/venv/bin/python" ]]; then
    echo "$REPO/build/venv/bin/python"
  else
    command -v python3
  fi
}
