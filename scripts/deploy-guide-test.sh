#!/usr/bin/env bash
# Brings a network up from docs/deploy.md: runs the bash blocks between the bootstrap markers, in
# order, then checks what the guide promises, and stops every process it started.
#   npm run test:deploy            (LDN_DEPLOY_KEEP=1 keeps the directory; PORT_BASE=… to choose ports)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export LDN="node $REPO/bin/ldn.js"
export D="${LDN_DEPLOY_DIR:-$(mktemp -d /tmp/ldn-deploy-XXXXXX)}"
export PORT_BASE="${PORT_BASE:-$((20000 + RANDOM % 20000))}"
export LDN_LOG_LEVEL="${LDN_LOG_LEVEL:-warn}"

mkdir -p "$D"
script="$D/bootstrap.sh"
awk '/<!-- bootstrap:begin -->/{on=1; next} /<!-- bootstrap:end -->/{on=0} on && /^```bash$/{inb=1; next} on && /^```$/{inb=0; next} inb' docs/deploy.md > "$script"
[ -s "$script" ] || { echo "FAIL: no bootstrap blocks found in docs/deploy.md"; exit 1; }

cleanup() {
  local rc=$?
  for f in "$D"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  sleep 1
  for f in "$D"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    echo "== logs (failed):"; for l in "$D"/*.log; do [ -f "$l" ] && { echo "--- $l"; tail -n 15 "$l"; }; done
  fi
  [ -n "${LDN_DEPLOY_KEEP:-}" ] || rm -rf "$D"
  exit $rc
}
trap cleanup EXIT

echo "== running the guide's bootstrap ($(grep -c . "$script") lines) in $D, ports from $PORT_BASE"
# shellcheck disable=SC1090
source "$script"

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
CA="$D/ca/ca.pem"
mtls() { curl -sf --cacert "$CA" --cert "$D/$1/cert.pem" --key "$D/$1/key.pem" "${@:2}"; }

for part in trust directory prs nvi consent transparency node; do
  [ "$(curl -sf --cacert "$CA" "$(url $part)/health" | jq -r .status)" = ok ] || fail "$part /health"
done
ok "every part answers /health"

p=$(mtls operator "$(url trust)/participants/90000102")
[ "$(jq -r .status <<<"$p")" = admitted ] || fail "Ziekenhuis Leiden is not admitted: $p"
for q in acute-zorg bgz; do jq -e --arg q $q '[.qualifications[]? | (.qualification // .code // .)] | index($q)' <<<"$p" > /dev/null || fail "qualification $q missing: $p"; done
ok "Ziekenhuis Leiden admitted with acute-zorg and bgz"

serial=$(openssl x509 -in "$D/leiden/cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
openssl verify -CAfile "$CA" "$D/leiden/cert.pem" > /dev/null || fail "Leiden's certificate does not chain to the network CA"
c=$(mtls operator "$(url trust)/certificates/$serial") || fail "the trust part has no record of certificate $serial"
[ "$(jq -r .status <<<"$c")" = valid ] || fail "certificate $serial: $c"
ok "Leiden's certificate issued by the trust part from its CSR and recorded ($serial)"

# A second admit is harmless (the guide may be re-run against a running network).
$LDN admin admit --cert "$D/operator/cert.pem" --key "$D/operator/key.pem" --ura 90000102 --name "Ziekenhuis Leiden" --type V4 > /dev/null || fail "re-running admit"
# Only the operator (system number 1) administers: a central part's certificate with the same URA is refused.
if $LDN admin suspend --cert "$D/nvi/cert.pem" --key "$D/nvi/key.pem" --ura 90000102 --reason test > /dev/null 2>&1; then fail "the NVI's certificate could suspend a participant"; fi
ok "admit is idempotent; a part certificate is not the operator"

# The directory requires an access token; the publish command got one, so read back with the same tool chain.
$LDN publish-directory --cert "$D/leiden/cert.pem" --key "$D/leiden/key.pem" --directory "$(url directory)" --file "$D/leiden/directory.json" | grep -q '^200' \
  || fail "publishing again did not update (expected 200 with If-Match)"
ok "the directory holds Leiden's Organization (re-publishing updates it)"

n=$(curl -sf "http://127.0.0.1:$(port ehr-sim)/ehr/90000102/fhir/Patient" | jq '.entry | length')
[ "${n:-0}" -gt 0 ] || fail "the EHR simulator serves no patients for Leiden"
ok "the EHR simulator serves $n patients for Leiden"

# Bad settings refuse to start, naming the setting.
if out=$(LDN_TLS_CERT="$D/nvi/cert.pem" LDN_TLS_KEY="$D/nvi/key.pem" LDN_TLS_CA="$CA" LDN_NETWORK="$NETWORK" LDN_SETTING_NVI_INDEX_KEY=short $LDN serve nvi 2>&1); then
  fail "ldn serve nvi started with a bad index key"
fi
grep -q 'NVI_INDEX_KEY' <<<"$out" || fail "the refusal does not name the setting: $out"
ok "a bad setting refuses the start and names it"
echo "PASS: the network in docs/deploy.md comes up"
