// The example frontend's GraphQL documents as JavaScript itself builds them: examples/app.js
// evaluated up to its first use of the page (its constants and its documents only), and the
// documents printed as one JSON array. `nkcinema documents add --examples` reads them without
// JavaScript (web/example_documents.py); tests/e2e/test_persisted_client.py compares the two.
//
// Usage: node tests/e2e/js/frontend-documents.mjs

import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const source = readFileSync(join(ROOT, "examples", "app.js"), "utf-8");
const end = source.indexOf("\nconst KIND_LABELS");
if (end < 0) {
  throw new Error("examples/app.js: no `const KIND_LABELS` after its documents");
}
const body = `${source.slice(0, end)}
return [DIRECTORS_QUERY, SEARCH_QUERY, WORK_QUERY, PERSON_QUERY, CAPABILITIES_QUERY,
  ...WORK_FEATURES.map((feature) => feature.query),
  ...PERSON_FEATURES.map((feature) => feature.query)];`;
console.log(JSON.stringify(new Function(body)()));
