// The GraphQL over HTTP conformance audit (graphql-http's `serverAudits`, the audit the
// GraphQL foundation's spec links to) against a live nkcinema server.
//
// Every audit runs ROUNDS times in sequence: the first round meets a fresh process (parsing,
// validation, Strawberry); later rounds repeat the same requests byte for byte, so they are
// answered by the fast lane and the response cache (web/fast_lane.py), which must answer
// exactly as the full path does, media type and status included.
//
// Usage: node tests/e2e/js/audit.mjs http://127.0.0.1:8000/graphql [ROUNDS]
// Prints one line per audit that is not "ok" (status, id, name, reason, round) and a last
// line with a JSON summary; exits 1 only if the audit itself could not run.

import { serverAudits } from "graphql-http";

const url = process.argv[2] ?? process.env.NKCINEMA_URL;
const rounds = Number(process.argv[3] ?? 2);
if (!url || !(rounds >= 1)) {
  console.error("usage: node audit.mjs URL [ROUNDS]");
  process.exit(2);
}

const summary = { endpoint: url, rounds, audits: 0, ok: 0, notices: [], warnings: [], errors: [] };
const bucket = { notice: summary.notices, warn: summary.warnings, error: summary.errors };

for (let round = 1; round <= rounds; round += 1) {
  for (const { fn } of serverAudits({ url })) {
    const result = await fn();
    summary.audits += 1;
    if (result.status === "ok") {
      summary.ok += 1;
      continue;
    }
    let body = "";
    try {
      body = (await result.response.text()).slice(0, 300);
    } catch {
      body = "(body already read)";
    }
    const failure = {
      id: result.id,
      name: result.name,
      reason: result.reason,
      status: result.response.status,
      contentType: result.response.headers.get("content-type"),
      body,
      round,
    };
    bucket[result.status].push(failure);
    console.log(`${result.status} ${result.id} (round ${round}) ${result.name}: ${result.reason}`);
  }
}

console.log(JSON.stringify(summary));
