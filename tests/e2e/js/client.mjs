// End-to-end check of a live nkcinema server from a standard JavaScript GraphQL client
// (graphql-request) and the reference GraphQL implementation (graphql-js):
//
//   * every README example (a ```graphql block followed by a ```json block) answers exactly
//     the JSON shown;
//   * every operation in examples/operations/*.graphql runs with its sibling .json variables
//     and answers data without errors;
//   * root `works` and `directors` read page by page to the end visit every row once;
//   * bad documents and bad variables give well-formed GraphQL errors with their codes;
//   * the introspected schema validates every README and example operation.
//
// Usage: node tests/e2e/js/client.mjs http://127.0.0.1:8000/graphql   (or NKCINEMA_URL=...)
// Prints a one-line JSON summary; exits 1 with the reason on any failure.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { buildClientSchema, getIntrospectionQuery, parse, validate } from "graphql";
import { ClientError, GraphQLClient, rawRequest, request } from "graphql-request";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..", "..");
const README = join(ROOT, "README.md");
const OPERATIONS = join(ROOT, "examples", "operations");

// The same pattern as tests/test_readme.py.
const README_EXAMPLE = /```graphql\n([\s\S]*?)```\s*```json\n([\s\S]*?)```/g;

const WORKS_PAGE = `query Page($first: Int!, $after: String) {
  works(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { slug }
  }
}`;

const DIRECTORS_PAGE = `query Page($first: Int!, $after: String) {
  directors(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { slug }
  }
}`;

function endpoint() {
  const url = process.argv[2] ?? process.env.NKCINEMA_URL;
  if (!url) {
    throw new Error(
      "no endpoint: pass the GraphQL URL as the first argument or set NKCINEMA_URL " +
        "(e.g. node tests/e2e/js/client.mjs http://127.0.0.1:8000/graphql)",
    );
  }
  return url;
}

function readmeExamples() {
  const text = readFileSync(README, "utf-8");
  const examples = [...text.matchAll(README_EXAMPLE)].map((match, index) => ({
    name: `README example ${index + 1}`,
    query: match[1],
    answer: JSON.parse(match[2]),
  }));
  assert.ok(examples.length >= 2, `expected at least two examples in ${README}`);
  return examples;
}

function exampleOperations() {
  const files = readdirSync(OPERATIONS)
    .filter((file) => file.endsWith(".graphql"))
    .sort();
  assert.ok(files.length > 0, `no *.graphql operations in ${OPERATIONS}`);
  return files.map((file) => {
    const name = basename(file, ".graphql");
    return {
      name,
      query: readFileSync(join(OPERATIONS, file), "utf-8"),
      variables: JSON.parse(readFileSync(join(OPERATIONS, `${name}.json`), "utf-8")),
    };
  });
}

/** Every title anywhere in a response. */
function titles(value) {
  if (Array.isArray(value)) return value.flatMap(titles);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === "title" && typeof inner === "string" ? [inner] : titles(inner),
  );
}

/** The README's answers are whole response bodies: compare all of it, not only `data`. */
async function runReadmeExamples(url, examples) {
  const client = new GraphQLClient(url, { errorPolicy: "all" });
  for (const { name, query, answer } of examples) {
    const response = await client.rawRequest(query);
    assert.equal(response.status, 200, `${name}: HTTP ${response.status}`);
    const body = { data: response.data };
    if (response.errors !== undefined) body.errors = response.errors;
    if (response.extensions !== undefined) body.extensions = response.extensions;
    assert.deepStrictEqual(body, answer, `${name} does not answer as the README shows:\n${query}`);
  }
  return examples.length;
}

async function runExampleOperations(url, operations) {
  const client = new GraphQLClient(url, { errorPolicy: "all" });
  for (const { name, query, variables } of operations) {
    const response = await client.rawRequest(query, variables);
    assert.equal(response.status, 200, `${name}: HTTP ${response.status}`);
    assert.equal(
      response.errors,
      undefined,
      `${name} answered errors: ${JSON.stringify(response.errors)}`,
    );
    assert.ok(
      response.data !== null && typeof response.data === "object",
      `${name} answered no data: ${JSON.stringify(response.data)}`,
    );
    for (const [field, value] of Object.entries(response.data)) {
      assert.notEqual(value, null, `${name}: root field ${field} is null`);
    }
    if (name === "01-director-works-themes") {
      assert.ok(
        titles(response.data).includes("The Flower Girl"),
        `${name} does not contain "The Flower Girl": ${JSON.stringify(response.data)}`,
      );
    }
  }
  return operations.length;
}

/** Follow `endCursor` until `hasNextPage` is false; every row once, totalCount in total. */
async function readToTheEnd(url, document, field, first) {
  const slugs = [];
  let after = null;
  let pages = 0;
  let totalCount = null;
  for (;;) {
    const data = await request(url, document, { first, after });
    const page = data[field];
    pages += 1;
    totalCount ??= page.totalCount;
    assert.equal(page.totalCount, totalCount, `${field}: totalCount changed on page ${pages}`);
    assert.ok(page.nodes.length <= first, `${field}: page ${pages} has more than ${first} nodes`);
    slugs.push(...page.nodes.map((node) => node.slug));
    if (!page.pageInfo.hasNextPage) break;
    assert.equal(page.nodes.length, first, `${field}: page ${pages} is short but not the last`);
    assert.equal(typeof page.pageInfo.endCursor, "string", `${field}: no endCursor`);
    after = page.pageInfo.endCursor;
    assert.ok(pages <= totalCount, `${field}: more pages than rows (${pages} > ${totalCount})`);
  }
  assert.equal(slugs.length, totalCount, `${field}: read ${slugs.length} of ${totalCount} rows`);
  const repeated = slugs.filter((slug, index) => slugs.indexOf(slug) !== index);
  assert.deepStrictEqual(repeated, [], `${field}: slugs repeated across pages`);
  assert.ok(pages > 1, `${field}: only one page of ${first}; the test proves no paging`);
  return { pages, nodes: slugs.length };
}

/** The ClientError graphql-request throws for a response with errors. */
async function clientError(client, document, variables) {
  try {
    const data = await client.request(document, variables);
    assert.fail(`expected GraphQL errors, got data: ${JSON.stringify(data)}\n${document}`);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    return error.response;
  }
}

function assertWellFormedErrors(response, code, what) {
  const shown = JSON.stringify({ status: response.status, errors: response.errors });
  // graphql-request asks for application/graphql-response+json first: an error raised
  // before execution then answers HTTP 400 without `data` (GraphQL over HTTP; with
  // application/json it is a 200 with `data: null`, as tests/web/test_over_http.py asserts).
  assert.equal(response.status, 400, `${what}: HTTP ${response.status}: ${shown}`);
  assert.equal(response.data, undefined, `${what}: there should be no data: ${shown}`);
  assert.ok(Array.isArray(response.errors), `${what}: no errors array: ${shown}`);
  assert.ok(response.errors.length > 0, `${what}: empty errors array: ${shown}`);
  for (const error of response.errors) {
    assert.equal(typeof error.message, "string", `${what}: error without a message: ${shown}`);
    assert.ok(error.message.length > 0, `${what}: empty message: ${shown}`);
    assert.equal(error.extensions?.code, code, `${what}: expected code ${code}: ${shown}`);
    assert.ok(!error.message.includes("Traceback"), `${what}: a stack trace leaked: ${shown}`);
  }
}

async function runErrorCases(url) {
  const client = new GraphQLClient(url);
  const cases = [
    {
      what: "an unknown field",
      document: "{ works { nope } }",
      variables: undefined,
      code: "GRAPHQL_VALIDATION_FAILED",
    },
    {
      what: "a variable of the wrong type",
      document: WORKS_PAGE,
      variables: { first: "x" },
      code: "BAD_USER_INPUT",
    },
    {
      what: "a document that is not GraphQL",
      document: "{ works( { nodes } }",
      variables: undefined,
      code: "GRAPHQL_PARSE_FAILED",
    },
  ];
  for (const { what, document, variables, code } of cases) {
    assertWellFormedErrors(await clientError(client, document, variables), code, what);
  }
  return cases.length;
}

/** Every README and example operation is valid against the server's introspected schema. */
async function validateAgainstIntrospection(url, documents) {
  const introspection = await rawRequest(url, getIntrospectionQuery());
  assert.equal(introspection.status, 200, `introspection: HTTP ${introspection.status}`);
  const schema = buildClientSchema(introspection.data);
  for (const { name, query } of documents) {
    const errors = validate(schema, parse(query));
    assert.deepStrictEqual(
      errors.map((error) => error.message),
      [],
      `${name} does not validate against the introspected schema`,
    );
  }
  // The check is not vacuous: a bad document is rejected by the same schema.
  assert.ok(validate(schema, parse("{ works { nope } }")).length > 0, "validation is vacuous");
  return { documents: documents.length, types: Object.keys(schema.getTypeMap()).length };
}

async function main() {
  const url = endpoint();
  const readme = readmeExamples();
  const operations = exampleOperations();
  const summary = {
    endpoint: url,
    readmeOperations: await runReadmeExamples(url, readme),
    exampleOperations: await runExampleOperations(url, operations),
    works: await readToTheEnd(url, WORKS_PAGE, "works", 3),
    directors: await readToTheEnd(url, DIRECTORS_PAGE, "directors", 2),
    errorCases: await runErrorCases(url),
    validated: await validateAgainstIntrospection(url, [
      ...readme,
      ...operations,
      { name: "works page", query: WORKS_PAGE },
      { name: "directors page", query: DIRECTORS_PAGE },
    ]),
  };
  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  const cause = error?.cause ? `\ncaused by: ${error.cause?.stack ?? error.cause}` : "";
  console.error(`nkcinema JS client check FAILED: ${error?.stack ?? error}${cause}`);
  process.exitCode = 1;
});
