// Automatic Persisted Queries from a real client library against a live nkcinema server:
// urql (@urql/core) with its persisted-queries exchange (@urql/exchange-persisted), which
// hashes each document with SHA-256 and sends the hash alone first, over GET.
//
//   1. A first client asks a query the server has never seen: its hash-only GET answers
//      PERSISTED_QUERY_NOT_FOUND, the exchange sends the document with its hash, the server
//      registers it and answers the data.
//   2. A second client (nothing cached, another connection) asks the same query: one GET
//      carrying only the hash and the variables, answered with the data, an ETag and
//      Cache-Control; revalidating that URL with If-None-Match answers 304.
//
// Every request the clients make goes through a recording fetch, so the summary shows what
// went over the wire, not what the library says it did.
//
// Usage: node tests/e2e/js/persisted.mjs http://127.0.0.1:8000/graphql [unique-suffix]
// Prints a one-line JSON summary; exits 1 with the reason on any failure.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

import { Client, fetchExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";

const url = process.argv[2] ?? process.env.NKCINEMA_URL;
if (!url) {
  throw new Error("no endpoint: pass the GraphQL URL as the first argument");
}
// An operation name of this run's own: the server has never seen the document.
const suffix = process.argv[3] ?? randomBytes(6).toString("hex");
const QUERY = `query Persisted_${suffix}($slug: String!) {
  work(slug: $slug) { title year }
}`;

function recordingClient(log) {
  const recordingFetch = async (input, init = {}) => {
    const response = await fetch(input, init);
    const body = await response.clone().text();
    const target = new URL(String(input));
    log.push({
      method: init.method ?? "GET",
      hasQuery: target.searchParams.has("query") || String(init.body ?? "").includes('"query"'),
      extensions: target.searchParams.get("extensions") ?? null,
      url: String(input),
      accept: new Headers(init.headers ?? {}).get("accept"),
      status: response.status,
      etag: response.headers.get("etag"),
      cacheControl: response.headers.get("cache-control"),
      body: JSON.parse(body),
    });
    return response;
  };
  return new Client({
    url,
    exchanges: [persistedExchange({ preferGetForPersistedQueries: true }), fetchExchange],
    fetch: recordingFetch,
    requestPolicy: "network-only",
  });
}

async function main() {
  const variables = { slug: "sea-of-blood" };

  const firstLog = [];
  const first = await recordingClient(firstLog).query(QUERY, variables).toPromise();
  assert.equal(first.error, undefined, `first client: ${first.error}`);
  assert.equal(first.data.work.title, "Sea of Blood");
  assert.equal(firstLog.length, 2, JSON.stringify(firstLog));
  const [miss, registration] = firstLog;
  assert.equal(miss.method, "GET");
  assert.equal(miss.hasQuery, false);
  assert.equal(miss.body.errors[0].message, "PersistedQueryNotFound");
  assert.equal(miss.body.errors[0].extensions.code, "PERSISTED_QUERY_NOT_FOUND");
  assert.equal(miss.cacheControl, "no-store");
  assert.equal(registration.hasQuery, true);
  assert.equal(registration.body.data.work.title, "Sea of Blood");

  const secondLog = [];
  const second = await recordingClient(secondLog).query(QUERY, variables).toPromise();
  assert.equal(second.error, undefined, `second client: ${second.error}`);
  assert.deepEqual(second.data, first.data);
  assert.equal(secondLog.length, 1, JSON.stringify(secondLog));
  const [byHash] = secondLog;
  assert.equal(byHash.method, "GET");
  assert.equal(byHash.hasQuery, false);
  assert.equal(byHash.status, 200);
  assert.ok(byHash.etag, "a hash-only GET carries an ETag");
  assert.match(byHash.cacheControl, /public/);

  // As a CDN or the browser's cache would: the same URL, the same Accept, the tag it holds.
  const revalidation = await fetch(byHash.url, {
    headers: { "If-None-Match": byHash.etag, Accept: byHash.accept ?? "*/*" },
  });
  assert.equal(revalidation.status, 304);
  assert.equal(await revalidation.text(), "");

  const hash = JSON.parse(byHash.extensions).persistedQuery.sha256Hash;
  console.log(
    JSON.stringify({
      endpoint: url,
      operation: `Persisted_${suffix}`,
      sha256Hash: hash,
      first: firstLog.map((r) => ({
        method: r.method,
        hasQuery: r.hasQuery,
        status: r.status,
        code: r.body.errors?.[0]?.extensions?.code ?? null,
      })),
      second: secondLog.map((r) => ({
        method: r.method,
        hasQuery: r.hasQuery,
        status: r.status,
        etag: r.etag,
        title: r.body.data?.work?.title ?? null,
      })),
      revalidation: revalidation.status,
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
