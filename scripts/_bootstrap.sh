# Shared by scripts/serve and scripts/test: find sudo when not root, install uv.
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
UV_VERSION=0.13.9
ensure_uv() {
  export PATH="$HOME/.local/bin:$PATH"
  if ! command -v uv >/dev/null || [ "$(uv --version | awk '{print $2}')" != "$UV_VERSION" ]; then
    echo "== installing uv $UV_VERSION from PyPI"
    python3 -m pip install --quiet --user --disable-pip-version-check "uv==$UV_VERSION" 2>/dev/null \
      || python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
}
