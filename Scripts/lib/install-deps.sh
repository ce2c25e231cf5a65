# shellcheck shell=bash
# Installs the Debian packages GuestAccess needs, if any is missing.
# Sourced by Scripts/test, Scripts/serve and Scripts/leak-check; call
# `ga_install_deps`. Runs `apt-get update` once, and only when something is
# missing; as root directly, otherwise through sudo. The Swift toolchain is
# not a Debian package: it must already be on PATH (swift.org toolchain).

# Build, code generation, tests and leak check. libssl-dev: STARTTLS in the
# SMTP transport; python3-aiosmtpd and openssl: the SMTP server (and its
# test certificate) that the email tests deliver to. libhttp-parser-dev: the
# web listener's HTTP parser. chromium, chromium-driver and python3-selenium:
# the headless browser that walks the redemption pages in the tests (and
# renders guest-load's HTML report). wrk: Scripts/bench-web (with curl).
# python3-prometheus-client: the guest-load tests parse its Prometheus report.
# libpq-dev: the PostgreSQL store's client library; postgresql: the
# throwaway cluster Scripts/test starts for the PostgreSQL variants.
# python3-venv: Scripts/test installs the tests' OpenID provider (PyPI) in a venv.
GA_APT_PACKAGES=(libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libsqlite3-dev libssl-dev python3 python3-protobuf valgrind
  python3-aiosmtpd openssl libhttp-parser-dev chromium chromium-driver python3-selenium wrk curl python3-prometheus-client
  libpq-dev postgresql python3-venv)

ga_install_deps() {
  local missing=() package
  for package in "${GA_APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if ((${#missing[@]} > 0)); then
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "missing packages: ${missing[*]} (install them; this script knows only apt-get)" >&2
      return 1
    fi
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then sudo=(sudo); fi
    echo "installing missing packages: ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
  if ! command -v swift >/dev/null 2>&1; then
    echo "swift is not on PATH: install a Swift 6 toolchain from https://swift.org/install/linux/" >&2
    return 1
  fi
}
