#!/usr/bin/env node
// Headless-browser checks against a live nkcinema server, in Debian's Chromium driven by
// playwright-core (no browser download, ever).
//
//   node tests/e2e/js/browser.mjs BASE_URL OUTDIR [--only examples|graphiql]
//
// Every request any page makes is recorded, and every request off the server's origin (other
// than data: and blob: URLs) is both reported and aborted: the pages must work offline.
// Checks:
//   examples  /examples/ lists directors -> works -> themes from /graphql, pages forward and
//             back, and shows the API's errors (screenshots examples.png, examples-error.png)
//   graphiql  /graphql serves GraphiQL: the active tab's example runs and its response shows
//             "The Flower Girl"; the docs explorer opens on the schema (graphiql.png,
//             graphiql-docs.png)
// Prints a JSON summary on stdout (requests seen, foreign requests, screenshots written) and
// exits non-zero, with the reasons on stderr, when any check fails.

import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import process from "node:process";

import { chromium } from "playwright-core";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ACTION_TIMEOUT_MS = 15_000;
const GRAPHIQL_LOAD_TIMEOUT_MS = 30_000;
const OVERALL_TIMEOUT_MS = 105_000; // the pytest wrapper allows 120 s

// The seeded catalog and the example frontend's paging.
const PAGE_SIZE = 5;
const DIRECTOR = "Choe Ik-kyu";
const DIRECTOR_WORK = "The Flower Girl";
const DIRECTOR_WORK_THEME = "Japanese occupation";

// The example frontend's query, asked directly (not through the browser) for the expectations.
const DIRECTORS_QUERY = `query Directors($first: Int!, $after: String) {
  directors(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { slug name originalName
      works(role: DIRECTOR, first: 5) { totalCount nodes { title year kind themes { name } } } }
  }
}`;

// GraphiQL 3 (React 18 UMD build): the selectors the graphiql check depends on.
const GRAPHIQL = {
  container: ".graphiql-container",
  execute: ".graphiql-execute-button",
  response: ".graphiql-response",
  queryEditor: ".graphiql-query-editor",
  docsButton: '[aria-label="Show Documentation Explorer"]',
  docs: ".graphiql-doc-explorer",
};

class CheckFailure extends Error {}

function fail(message) {
  throw new CheckFailure(message);
}

function check(condition, message) {
  if (!condition) fail(typeof message === "function" ? message() : message);
}

function usage(message) {
  if (message) console.error(`browser.mjs: ${message}`);
  console.error("usage: node browser.mjs BASE_URL OUTDIR [--only examples|graphiql]");
  process.exit(message ? 2 : 0);
}

function parseArgs(argv) {
  const positional = [];
  const only = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") usage();
    else if (arg === "--only") {
      if (i + 1 >= argv.length) usage("--only needs a check name");
      only.push(...argv[++i].split(","));
    } else if (arg.startsWith("--only=")) only.push(...arg.slice("--only=".length).split(","));
    else if (arg.startsWith("-")) usage(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length !== 2) usage("expected BASE_URL and OUTDIR");
  const [baseUrl, outdir] = positional;
  let origin;
  try {
    origin = new URL(baseUrl).origin;
  } catch {
    usage(`not a URL: ${baseUrl}`);
  }
  const names = only.length > 0 ? only : Object.keys(CHECKS);
  for (const name of names) {
    if (!(name in CHECKS)) {
      usage(`unknown check ${name} (known: ${Object.keys(CHECKS).join(", ")})`);
    }
  }
  return { base: baseUrl.replace(/\/+$/, ""), origin, outdir: path.resolve(outdir), names };
}

// ---------------------------------------------------------------------------------------------
// The example frontend at /examples/

async function directorsFromApi(base, after) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query: DIRECTORS_QUERY, variables: { first: PAGE_SIZE, after } }),
  });
  const body = await response.json();
  check(
    response.ok && !body.errors,
    () => `the API answered the example's query: HTTP ${response.status} ${JSON.stringify(body)}`,
  );
  return body.data.directors;
}

/** What the page must show for a page of directors from the API. */
function expectedDirectors(connection) {
  return connection.nodes.map((d) => ({
    slug: d.slug,
    name: d.name,
    originalName: d.originalName,
    works: d.works.nodes.map((w) => ({
      title: w.title,
      year: w.year == null ? "year unknown" : String(w.year),
      themes: w.themes.map((t) => t.name),
    })),
  }));
}

/** What the page shows, read back from the DOM through the data-testid attributes. */
async function renderedDirectors(page) {
  return page.locator('[data-testid="director"]').evaluateAll((items) =>
    items.map((li) => ({
      slug: li.dataset.slug,
      name: li.querySelector('[data-testid="director-name"]')?.textContent ?? null,
      originalName:
        li.querySelector('[data-testid="director-original-name"]')?.textContent ?? null,
      works: [...li.querySelectorAll('[data-testid="work"]')].map((w) => ({
        title: w.querySelector('[data-testid="work-title"]')?.textContent ?? null,
        year: w.querySelector('[data-testid="work-year"]')?.textContent ?? null,
        themes: [...w.querySelectorAll('[data-testid="theme"]')].map((t) => t.textContent),
      })),
    })),
  );
}

function statusFor(pageIndex, connection) {
  const start = pageIndex * PAGE_SIZE + 1;
  return `Directors ${start}–${start + connection.nodes.length - 1} of ${connection.totalCount}`;
}

async function waitForState(page, state, what) {
  try {
    await page.locator(`main[data-testid="app"][data-state="${state}"]`).waitFor();
  } catch {
    const actual = await page.getByTestId("app").getAttribute("data-state").catch(() => "?");
    const error = await page.getByTestId("error").textContent().catch(() => "");
    fail(
      `${what}: the page never reached state "${state}" ` +
        `(it is "${actual}"; error box: ${JSON.stringify(error?.trim())})`,
    );
  }
}

async function expectPage(page, pageIndex, connection, what) {
  await waitForState(page, "ready", what);
  const status = (await page.getByTestId("status").textContent())?.trim();
  const expectedStatus = statusFor(pageIndex, connection);
  check(
    status === expectedStatus,
    `${what}: status line is ${JSON.stringify(status)}, expected ${JSON.stringify(expectedStatus)}`,
  );
  const rendered = await renderedDirectors(page);
  const expected = expectedDirectors(connection);
  check(
    JSON.stringify(rendered) === JSON.stringify(expected),
    () =>
      `${what}: the page shows\n${JSON.stringify(rendered, null, 1)}\n` +
      `but the API returned\n${JSON.stringify(expected, null, 1)}`,
  );
  const buttons = [
    ["first-page", "First page", pageIndex > 0],
    ["previous-page", "Previous page", pageIndex > 0],
    ["next-page", "Next page", connection.pageInfo.hasNextPage],
  ];
  for (const [testid, label, enabled] of buttons) {
    const isEnabled = await page.getByTestId(testid).isEnabled();
    const want = enabled ? "enabled" : "disabled";
    check(isEnabled === enabled, `${what}: "${label}" should be ${want}`);
  }
  check(await page.getByTestId("error").isHidden(), `${what}: the error box is showing`);
  return rendered;
}

async function expectError(page, message, code, what) {
  await waitForState(page, "error", what);
  const box = page.getByTestId("error");
  check(await box.isVisible(), `${what}: the error box is not visible`);
  const text = (await box.textContent()) ?? "";
  check(
    text.includes(message),
    `${what}: the error box does not show ${JSON.stringify(message)}: ${JSON.stringify(text)}`,
  );
  const codes = await box.getByTestId("error-code").allTextContents();
  check(codes.includes(code), `${what}: the error box shows codes ${codes}, not ${code}`);
  // Data is text, never markup: a message holding a tag must not become an element.
  const markup = await box.locator("b, script, img").count();
  check(markup === 0, `${what}: a message was rendered as HTML`);
}

async function checkExamples({ page, base, outdir, screenshot }) {
  const first = await directorsFromApi(base, null);
  check(
    first.pageInfo.hasNextPage,
    `the catalog must hold more than ${PAGE_SIZE} directors to page (it has ${first.totalCount})`,
  );
  const second = await directorsFromApi(base, first.pageInfo.endCursor);

  const response = await page.goto(`${base}/examples/`);
  check(response?.ok(), `GET /examples/ answered HTTP ${response?.status()}`);
  const title = await page.title();
  check(title.includes("nkcinema"), `unexpected page title ${JSON.stringify(title)}`);
  const page1 = await expectPage(page, 0, first, "first page");

  const director = page1.find((d) => d.name === DIRECTOR);
  check(director, () => `${DIRECTOR} is not on the first page: ${page1.map((d) => d.name)}`);
  const work = director.works.find((w) => w.title === DIRECTOR_WORK);
  const titles = director.works.map((w) => w.title);
  check(work, () => `${DIRECTOR}'s works lack ${DIRECTOR_WORK}: ${titles}`);
  check(
    work.themes.includes(DIRECTOR_WORK_THEME),
    `${DIRECTOR_WORK}'s themes are ${JSON.stringify(work.themes)}, without ${DIRECTOR_WORK_THEME}`,
  );
  // ... and visibly so: the theme chip is on screen in that director's card.
  const card = page
    .getByTestId("director")
    .filter({ has: page.getByTestId("director-name").getByText(DIRECTOR, { exact: true }) });
  await card
    .getByTestId("work")
    .filter({ hasText: DIRECTOR_WORK })
    .getByTestId("theme")
    .getByText(DIRECTOR_WORK_THEME, { exact: true })
    .waitFor({ state: "visible" });

  await page.getByTestId("next-page").click();
  const page2 = await expectPage(page, 1, second, "after Next page");
  const repeated = page2.filter((d) => page1.some((p) => p.slug === d.slug)).map((d) => d.name);
  check(repeated.length === 0, `the second page repeats directors of the first: ${repeated}`);

  await page.getByTestId("previous-page").click();
  await expectPage(page, 0, first, "after Previous page");
  await page.getByTestId("next-page").click();
  await expectPage(page, 1, second, "after Next page again");
  await page.getByTestId("first-page").click();
  await expectPage(page, 0, first, "after First page");
  await screenshot(page, "examples.png");

  // The API's errors are shown, message and code, as text; "Try again" recovers.
  const message = "Simulated failure: <b>not bold</b>";
  await page.route(`${base}/graphql`, (route) =>
    route.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({
        data: null,
        errors: [{ message, extensions: { code: "SIMULATED_ERROR" } }],
      }),
    }),
  );
  await page.getByTestId("next-page").click();
  await expectError(page, message, "SIMULATED_ERROR", "a response with errors");
  await screenshot(page, "examples-error.png");
  await page.unroute(`${base}/graphql`);
  await page.route(`${base}/graphql`, (route) => route.abort("connectionrefused"));
  await page.getByTestId("retry").click();
  await expectError(page, "Network error", "NETWORK_ERROR", "a failed request");
  await page.unroute(`${base}/graphql`);
  await page.getByTestId("retry").click();
  await expectPage(page, 1, second, "after Try again");
}

// ---------------------------------------------------------------------------------------------
// GraphiQL at /graphql

async function checkGraphiQL({ page, base, screenshot }) {
  const response = await page.goto(`${base}/graphql`);
  check(response?.ok(), `GET /graphql (text/html) answered HTTP ${response?.status()}`);
  // The container alone proves little (a page may hold an empty one until its scripts run):
  // GraphiQL has rendered once its execute button is inside it.
  const execute = page.locator(`${GRAPHIQL.container} ${GRAPHIQL.execute}`).first();
  try {
    await execute.waitFor({ state: "visible", timeout: GRAPHIQL_LOAD_TIMEOUT_MS });
  } catch {
    const containers = await page.locator(GRAPHIQL.container).count();
    fail(
      `GraphiQL did not render within ${GRAPHIQL_LOAD_TIMEOUT_MS / 1000} s: ` +
        `${containers} ${GRAPHIQL.container}, no ${GRAPHIQL.execute} in it ` +
        `(page title ${JSON.stringify(await page.title())})`,
    );
  }
  const editorText = async (selector) =>
    (await page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => null))
      ?.replaceAll("\u00a0", " ")
      .trim() ?? "(no such element)";

  // The active tab's operation runs on this server (not the schema introspection) ...
  const isOperation = (r) =>
    r.request().method() === "POST" &&
    new URL(r.url()).pathname === "/graphql" &&
    !(r.request().postData() ?? "").includes("__schema");
  const answered = page.waitForResponse(isOperation);
  answered.catch(() => {}); // judged below; never an unhandled rejection
  await execute.click();
  let body;
  try {
    body = await (await answered).json();
  } catch (error) {
    fail(`clicking ${GRAPHIQL.execute} sent no operation to /graphql: ${error.message}`);
  }
  const titles = body?.data?.person?.works?.nodes?.map((w) => w.title) ?? [];
  if (body?.errors || !titles.includes(DIRECTOR_WORK)) {
    fail(
      `the active tab's operation did not answer ${DIRECTOR}'s works with ${DIRECTOR_WORK}: ` +
        `${JSON.stringify(body)}\n` +
        `active tab's query: ${JSON.stringify(await editorText(GRAPHIQL.queryEditor))}`,
    );
  }
  // ... and its answer is shown in the response pane.
  try {
    const pane = page.locator(GRAPHIQL.response).filter({ hasText: DIRECTOR_WORK }).first();
    await pane.waitFor({ state: "visible" });
  } catch {
    fail(
      `GraphiQL's response pane (${GRAPHIQL.response}) never showed ` +
        `${JSON.stringify(DIRECTOR_WORK)}: ${JSON.stringify(await editorText(GRAPHIQL.response))}`,
    );
  }
  await screenshot(page, "graphiql.png");

  // The docs explorer opens on this schema: its root query type and a type of ours.
  const docsButton = page.locator(GRAPHIQL.docsButton).first();
  try {
    await docsButton.waitFor({ state: "visible" });
  } catch {
    fail(`GraphiQL has no docs button ${GRAPHIQL.docsButton}`);
  }
  await docsButton.click();
  const docs = page.locator(GRAPHIQL.docs).first();
  try {
    for (const type of ["Query", "Person"]) {
      await docs.getByText(type, { exact: true }).first().waitFor({ state: "visible" });
    }
  } catch {
    fail(
      `GraphiQL's docs explorer (${GRAPHIQL.docs}) did not show "Query" and "Person": ` +
        JSON.stringify(await docs.textContent({ timeout: 1000 }).catch(() => null)),
    );
  }
  await screenshot(page, "graphiql-docs.png");
}

const CHECKS = { examples: checkExamples, graphiql: checkGraphiQL };

// ---------------------------------------------------------------------------------------------
// Running the checks: one fresh browser context each, every request recorded and policed.

async function runCheck(browser, name, options, summary) {
  const { base, origin, outdir } = options;
  const onOrigin = (url) =>
    url.startsWith("data:") || url.startsWith("blob:") || new URL(url).origin === origin;
  const result = {
    name,
    ok: false,
    requests: 0,
    foreign_requests: [],
    failed_responses: [],
    page_errors: [],
    console_errors: [],
    csp_violations: [],
    screenshots: [],
  };
  summary.checks.push(result);
  const requests = [];

  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    serviceWorkers: "block",
  });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  context.on("request", (request) => {
    const entry = {
      check: name,
      method: request.method(),
      url: request.url(),
      type: request.resourceType(),
    };
    requests.push(entry);
    summary.requests.push(entry);
    if (!onOrigin(entry.url)) {
      result.foreign_requests.push(entry.url);
      summary.foreign_requests.push(entry);
    }
  });
  context.on("response", (response) => {
    const url = response.url();
    if (response.status() >= 400 && onOrigin(url) && new URL(url).pathname !== "/favicon.ico") {
      result.failed_responses.push(`${response.status()} ${response.request().method()} ${url}`);
    }
  });
  // Anything off the origin fails (a CDN script, a web font...): recorded above, aborted here.
  await context.route("**/*", (route) =>
    onOrigin(route.request().url()) ? route.continue() : route.abort("blockedbyclient"),
  );

  const page = await context.newPage();
  page.on("pageerror", (error) => result.page_errors.push(String(error?.stack || error)));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    result.console_errors.push(message.text());
    // A page's Content-Security-Policy stops a foreign load before it is a request: count it.
    if (message.text().includes("Content Security Policy")) {
      result.csp_violations.push(message.text());
    }
  });

  const screenshot = async (target, file) => {
    const where = path.join(outdir, file);
    await target.screenshot({ path: where, fullPage: true });
    result.screenshots.push(where);
    summary.screenshots.push(where);
  };

  const problems = [];
  try {
    await CHECKS[name]({ page, base, outdir, screenshot });
  } catch (error) {
    // A Playwright error's message names the action, the locator and its call log.
    problems.push(error instanceof CheckFailure || error?.message ? error.message : String(error));
    await screenshot(page, `${name}-failure.png`).catch(() => {});
  }
  await context.close().catch(() => {});

  result.requests = requests.length;
  const listed = [
    [result.foreign_requests, `requests off ${origin} (the page must work offline)`],
    [result.csp_violations, "loads refused by the page's Content-Security-Policy"],
    [result.failed_responses, "failed responses from the server"],
    [result.page_errors, "uncaught errors in the page"],
  ];
  for (const [items, what] of listed) {
    if (items.length > 0) problems.push(`${what}:\n  ${items.join("\n  ")}`);
  }
  result.ok = problems.length === 0;
  if (!result.ok) result.failures = problems;
  return problems;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const summary = {
    base_url: options.base,
    chromium: CHROMIUM_PATH,
    checks: [],
    requests: [],
    foreign_requests: [],
    screenshots: [],
  };
  const failures = [];
  const finish = () => {
    summary.ok = failures.length === 0;
    summary.request_count = summary.requests.length;
    console.log(JSON.stringify(summary, null, 2));
    for (const message of failures) console.error(`FAIL ${message}`);
    process.exitCode = summary.ok ? 0 : 1;
  };
  const watchdog = setTimeout(() => {
    failures.push(`overall: the checks did not finish within ${OVERALL_TIMEOUT_MS / 1000} s`);
    finish();
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);
  watchdog.unref();

  if (!existsSync(CHROMIUM_PATH)) {
    failures.push(
      `setup: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`,
    );
    finish();
    return;
  }
  mkdirSync(options.outdir, { recursive: true });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ["--no-sandbox"],
    });
  } catch (error) {
    failures.push(`setup: could not launch ${CHROMIUM_PATH}: ${error?.message || error}`);
    finish();
    return;
  }
  summary.browser_version = browser.version();
  try {
    for (const name of options.names) {
      const problems = await runCheck(browser, name, options, summary);
      failures.push(...problems.map((problem) => `${name}: ${problem}`));
    }
  } finally {
    await browser.close().catch(() => {});
  }
  finish();
}

await main();
