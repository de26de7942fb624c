# Shared by scripts/start and scripts/test: a Python >= 3.11 virtualenv in .venv with the project.
# Sourced, not run. Installs Debian's python3-venv when it is missing and we are root.

need_python() {
    if ! command -v python3 >/dev/null 2>&1; then
        echo "python3 is not installed: on Debian or Ubuntu, apt-get install python3 python3-venv" >&2
        exit 1
    fi
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "trustboard needs Python 3.11 or newer; this python3 is $(python3 --version 2>&1)" >&2
        exit 1
    fi
}

make_venv() {
    need_python
    if [ ! -x .venv/bin/python ]; then
        if ! python3 -m venv .venv >/dev/null 2>&1; then
            rm -rf .venv
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
                apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
                python3 -m venv .venv
            else
                echo "python3 cannot make a virtualenv: apt-get install python3-venv" >&2
                exit 1
            fi
        fi
    fi
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -e "${1:-.}"
}
