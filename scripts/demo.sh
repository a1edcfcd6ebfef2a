#!/usr/bin/env bash
# demo.sh: build, start the demo service on loopback with an embedded
# SQLite store, seal a sample approval decision for 长安镇 under item
# 450224-XK-0002 through the API, verify it offline, show its ledger record,
# and leave the service running.
set -euo pipefail
cd "$(dirname "$0")/.."

data=${DEMO_DATA:-out/demo}
grpc=${DEMO_GRPC:-127.0.0.1:8443}
http=${DEMO_HTTP:-127.0.0.1:8080}
tsa=${DEMO_TSA:-127.0.0.1:8318}
receiver=${DEMO_RECEIVER:-127.0.0.1:9900}
mkdir -p "$data"
pidfile="$data/sealsvc.pid"
log="$data/sealsvc.log"

say() { printf '\n== %s\n' "$*"; }

say "building bin/sealsvc and bin/sealctl"
go build -o bin/ ./cmd/sealsvc ./cmd/sealctl

if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  say "stopping the demo service left running before (pid $(cat "$pidfile"))"
  kill "$(cat "$pidfile")"
  while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.2; done
fi

say "starting the demo service: gRPC $grpc, REST $http, the county TSA on $tsa, data in $data"
ESEAL_TSA_LISTEN=$tsa nohup bin/sealsvc serve --demo --data "$data" --listen "$grpc" --http "$http" >"$log" 2>&1 &
echo $! >"$pidfile"

export SEAL_SERVER=$grpc
export SEAL_TOKEN_FILE=$data/credentials/450224100-approval.token
for _ in $(seq 1 300); do
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "the service stopped; its log ($log):" >&2
    cat "$log" >&2
    exit 1
  fi
  if [ -f "$SEAL_TOKEN_FILE" ] && bin/sealctl whoami >/dev/null 2>&1; then
    break
  fi
  sleep 0.2
done
bin/sealctl whoami

events=$data/events.jsonl
rpidfile="$data/receiver.pid"
if [ -f "$rpidfile" ] && kill -0 "$(cat "$rpidfile")" 2>/dev/null; then
  kill "$(cat "$rpidfile")"
  while kill -0 "$(cat "$rpidfile")" 2>/dev/null; do sleep 0.2; done
fi
say "starting a local event receiver on $receiver (sealctl events serve), as the provincial platform would run one: it checks each event's signature against the county root as it arrives"
nohup bin/sealctl events serve --listen "$receiver" --out "$events" --trust "$data/trust/root.pem" >"$data/receiver.log" 2>&1 &
echo $! >"$rpidfile"
say "the county office subscribes it to the whole ledger, up to 100 events a request, since this receiver takes CloudEvents' batched mode (once; a later run finds it there)"
SEAL_TOKEN_FILE=$data/credentials/admin.token bin/sealctl subscriptions create demo-platform \
  --endpoint "http://$receiver/events" --from 1 --batch 100 2>/dev/null ||
  SEAL_TOKEN_FILE=$data/credentials/admin.token bin/sealctl subscriptions status demo-platform

in=testdata/pdfs/decision.pdf
out=$data/sealed/准予行政许可决定书-长安镇-盖章.pdf
mkdir -p "$data/sealed"
say "sealing $in as the 长安镇 approval window (行政审批专窗), item 450224-XK-0002 农村村民宅基地审批"
accepted=$(date -d '-3 days' '+%Y-%m-%d 17:59' 2>/dev/null || date '+%Y-%m-%d 09:00')
bin/sealctl stamp "$in" -o "$out" --item 450224-XK-0002 --case-no 长安-2026-0001 --doc-kind 准予行政许可决定书 \
  --force --accepted "$accepted"   # 受理时间: the record says whether the item's 20 working days were kept

say "verifying offline, with only the county root certificate and the county's CRL (the seal's time is proven by the county TSA's token)"
bin/sealctl seals crl -f "$data/trust/county.crl"
bin/sealctl verify --trust "$data/trust/root.pem" --crl "$data/trust/county.crl" "$out"

say "the sealed page carries a QR code beside the seal, in the signed revision: it leads to the verification page and to the ledger's public record of this sealing (township, item, time, hashes; no case number, no names)"
short=$(openssl dgst -sm3 -binary "$in" | head -c 13 | base32 | cut -c1-20)   # the first 100 bits of the input's SM3
echo "the QR code's URL: http://$http/VERIFY/R/$short"
echo "the public lookup it leads to (no credential, rate-limited):"
curl -s "http://$http/v1/public/sealings/$short"; echo

say "the ledger record"
SEAL_TOKEN_FILE=$data/credentials/admin.token bin/sealctl ledger list --limit 5

say "a request the rules refuse: the comprehensive-service window (综合服务专窗) asks for a licensing seal"
SEAL_TOKEN_FILE=$data/credentials/450224100-service.token \
  bin/sealctl stamp "$in" -o "$data/sealed/refused.pdf" --item 450224-XK-0002 --case-no 长安-2026-0002 \
  --doc-kind 准予行政许可决定书 || true

say "the county's 农业农村局, which supervises this item's domain, records an on-site inspection against the case (事中事后监管结果): a ledger record, pushed like any other"
SEAL_TOKEN_FILE=$data/credentials/supervisor-农业农村.token bin/sealctl supervision record --township 450224100 \
  --case 长安-2026-0001 --kind 现场核查 --outcome 合格 --date "$(date '+%Y-%m-%d')" --note "现场与申报材料一致"

say "the case's whole story, as the township's clerk sees it: sealings, refusals, supervision results"
bin/sealctl cases show 长安-2026-0001

say "the sealing's, the refusal's and the supervision result's events reach the receiver, signed by the county's ledger key"
head=$(SEAL_TOKEN_FILE=$data/credentials/admin.token bin/sealctl ledger list --limit 1000 --output json |
  grep -o '"seq": *"*[0-9]*' | grep -o '[0-9]*$' | tail -1)
for _ in $(seq 1 100); do
  grep -q "\"id\":\"$head\"" "$events" 2>/dev/null && break
  sleep 0.2
done
grep '"type":"cn.gov.gx.eseal.ledger.sealed.v1"' "$events" | tail -n 1 | cut -c1-420; echo " ..."
echo "the receiver's log ($data/receiver.log), its last three events:"
tail -n 3 "$data/receiver.log"
say "the receiver checks them offline, with only the county root: authentic, none missing"
bin/sealctl events verify "$events" --trust "$data/trust/root.pem"

say "限时办结: this month's sealings against their items' time limits, in working days"
SEAL_TOKEN_FILE=$data/credentials/admin.token bin/sealctl report timeliness \
  --from "$(date '+%Y-%m-01')" --to "$(date '+%Y-%m-%d')"

say "档案共享: the 农业农村 department exports the case's archive package; anyone checks it with only the county root"
pkg=$data/archive-长安-2026-0001.zip
SEAL_TOKEN_FILE=$data/credentials/supervisor-农业农村.token \
  bin/sealctl archive export --township 450224100 --case 长安-2026-0001 -o "$pkg"
bin/sealctl archive verify --trust "$data/trust/root.pem" "$pkg"

cat <<EOT

== done
Verify in a browser: http://$http/  (drop the sealed PDF: it is checked in the browser and never uploaded)
The sealed PDF:     $out
County root:        $data/trust/root.pem (CRL: $data/trust/county.crl)
Credentials:        $data/credentials/ (admin, each township's two windows, each domain's supervisor)
Service log:        $log
Archive package:    $pkg (sealctl archive verify --trust $data/trust/root.pem $pkg)
Events received:    $events (receiver pid $(cat "$rpidfile"), on $receiver; sealctl subscriptions list as admin)
The service is still running (pid $(cat "$pidfile")), gRPC on $grpc, REST on $http, the county TSA (RFC 3161) on $tsa:
  SEAL_SERVER=$grpc SEAL_TOKEN_FILE=$data/credentials/450224100-approval.token bin/sealctl stamp IN.pdf -o OUT.pdf --item 450224-XK-0002 --case-no NO --doc-kind 准予行政许可决定书
  curl -s http://$http/v1/items -H "Authorization: Bearer \$(cat $data/credentials/admin.token)"
  openssl ts -query -data FILE -sm3 -cert | curl -s -H 'Content-Type: application/timestamp-query' --data-binary @- http://$tsa/ | openssl ts -reply -in /dev/stdin -text
Stop it with:       kill \$(cat $pidfile) \$(cat $rpidfile)
Run make demo again to restart it on the same data.
EOT
