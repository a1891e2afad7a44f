#!/usr/bin/env node
// Headless-browser checks against a live nkcinema server, in Debian's Chromium driven by
// playwright-core (no browser download, ever).
//
//   node tests/e2e/js/browser.mjs BASE_URL OUTDIR [--only examples|pages|graphiql]
//
// Every request any page makes is recorded, and every request off the server's origin (other
// than data: and blob: URLs) is both reported and aborted: the pages must work offline.
// Checks:
//   examples  /examples/ lists directors -> works -> themes from /graphql, pages forward and
//             back, and shows the API's errors (screenshots examples.png, examples-error.png)
//   pages     /examples/'s search box finds a work and a person; the work page and the person
//             page show what the API serves (every statement with its sources, each dispute
//             beside what the record states, credits, and the newer fields where the schema
//             has them), links lead from one to the other, and Hangul is drawn with the app's
//             own font; a series shows its parts, dated events and studio with their sources
//             (examples-search.png, examples-work.png: the series, examples-person.png)
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
  console.error("usage: node browser.mjs BASE_URL OUTDIR [--only examples|pages|graphiql]");
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
// The example frontend's search, work page and person page (/examples/#/…)

const SEARCHED_WORK = { query: "피바다", slug: "sea-of-blood" }; // Sea of Blood, by its Hangul title
const SEARCHED_PERSON = { query: "최익규", slug: "choe-ik-kyu" }; // Choe Ik-kyu, by his Hangul name
const CREDITED_PERSON = "kim-ki-nam"; // Sea of Blood's director on record: its credit links to him
// The README's work page: a series with the most structure once the schema has it (two runs
// of episodes, each with its broadcast years; a studio; a production lead; two disputes),
// reached through the search box by a title only a reference gives.
const SERIES_WORK = { query: "Boy General", slug: "boy-commander" };
const PARTS_WORK = "the-country-i-saw"; // a film in five parts, part 1 dated two ways
const EVENTS_WORK = "the-schoolgirls-diary"; // premiered in August 2006, released in France in 2007
const HANGUL_FONT = "Noto Sans KR Subset"; // examples/style.css's @font-face family
const SEARCH_FIRST = 20; // the example's SEARCH_RESULTS

const SRC = "fragment Src on Source { key title url }";
const TYPED = "text language script romanization kind qualifier generated sources { ...Src }";

async function api(base, query, variables = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  check(
    response.ok && !body.errors,
    () => `the API answered ${query.slice(0, 60)}…: HTTP ${response.status} ${JSON.stringify(body)}`,
  );
  return body.data;
}

/** "Type.field" for every field of the types the pages' newer queries touch. */
async function schemaFields(base) {
  const data = await api(
    base,
    `{ work: __type(name: "Work") { fields { name } } person: __type(name: "Person") { fields { name } }
       credit: __type(name: "Credit") { fields { name } } dispute: __type(name: "Dispute") { fields { name } } }`,
  );
  const fields = new Set();
  for (const [type, described] of Object.entries(data)) {
    for (const field of described?.fields ?? []) fields.add(`${type}.${field.name}`);
  }
  return fields;
}

const keys = (sources) => sources.map((s) => s.key);

function same(what, shown, expected) {
  check(
    JSON.stringify(shown) === JSON.stringify(expected),
    () =>
      `${what}: the page shows\n${JSON.stringify(shown, null, 1)}\n` +
      `but the API serves\n${JSON.stringify(expected, null, 1)}`,
  );
}

async function waitFor(page, selector, what) {
  try {
    await page.locator(selector).first().waitFor({ state: "attached" });
  } catch {
    const actual = await page.getByTestId("app").getAttribute("data-state").catch(() => "?");
    const error = await page.getByTestId("error").textContent().catch(() => "");
    fail(
      `${what}: ${selector} never appeared (the page is "${actual}"; ` +
        `error box: ${JSON.stringify(error?.trim())}; URL ${page.url()})`,
    );
  }
}

async function search(page, text, what) {
  await page.getByTestId("search-input").fill(text);
  await page.getByTestId("search-input").press("Enter");
  const query = text.replaceAll('"', '\\"');
  await waitFor(
    page,
    `main[data-view="search"][data-state="ready"] [data-testid="hits"][data-query="${query}"]`,
    what,
  );
  check(
    new URL(page.url()).hash === `#/search?${new URLSearchParams({ q: text })}`,
    `${what}: the URL is ${page.url()}`,
  );
}

async function openedRecord(page, view, slug, what) {
  await waitFor(
    page,
    `main[data-view="${view}"][data-state="ready"] [data-testid="${view}-page"][data-slug="${slug}"]`,
    what,
  );
  return page.getByTestId(`${view}-page`);
}

// The keys of the sources a node states on its own (its direct list, not its children's).
const OWN_SOURCES = ':scope > [data-testid="sources"] > [data-testid="source"]';

async function shownStatements(record) {
  return record.locator('[data-testid="statement"]').evaluateAll(
    (rows, own) =>
      rows.map((row) => ({
        field: row.dataset.field,
        sources: [...row.lastElementChild.querySelectorAll(own)].map((x) => x.dataset.key),
      })),
    OWN_SOURCES,
  );
}

async function shownCredits(record, sectionTestid, linkTestid) {
  return record
    .getByTestId(sectionTestid)
    .locator('[data-testid="credit"]')
    .evaluateAll(
      (items, [testid, own]) =>
        items.map((item) => ({
          slug: item.querySelector(`[data-testid="${testid}"]`)?.dataset.slug ?? null,
          role: item.dataset.role,
          sources: [...item.querySelectorAll(own)].map((x) => x.dataset.key),
        })),
      [linkTestid, OWN_SOURCES],
    );
}

/** Hangul in `selector` is drawn with the app's font: the face is loaded, and Chromium says
 * the glyphs of that element came from a web font (not a system one) covering all of them. */
async function hangulFont(page, selector, text, what) {
  const faces = await page.evaluate(async (family) => {
    await document.fonts.ready;
    return [...document.fonts]
      .filter((face) => face.family.replaceAll('"', "") === family)
      .map((face) => face.status);
  }, HANGUL_FONT);
  check(faces.includes("loaded"), `${what}: the font ${HANGUL_FONT} is not loaded (${faces})`);
  const shown = await page.locator(selector).first().textContent();
  check(shown === text, `${what}: ${selector} shows ${JSON.stringify(shown)}, not ${text}`);
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("DOM.enable");
    await cdp.send("CSS.enable");
    const { root } = await cdp.send("DOM.getDocument", { depth: -1 });
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector });
    check(nodeId, `${what}: no ${selector} for the font check`);
    const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
    const glyphs = fonts.reduce((sum, f) => sum + f.glyphCount, 0);
    const syllables = [...text].filter((c) => c >= "\uac00" && c <= "\ud7a3").length;
    check(
      syllables > 0 && fonts.length > 0 && fonts.every((f) => f.isCustomFont) && glyphs >= syllables,
      () => `${what}: ${JSON.stringify(text)} is drawn with ${JSON.stringify(fonts)}, not the app's font`,
    );
    return fonts;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

async function checkWorkPage(page, base, fields, details) {
  const data = await api(
    base,
    `query($slug: String!) { work(slug: $slug) {
      slug title originalTitle
      sources { ...Src } attributions { field sources { ...Src } }
      credits { role person { slug } sources { ...Src } }
      disputes { field stated reported source { ...Src } }
    } } ${SRC}`,
    { slug: SEARCHED_WORK.slug },
  );
  const work = data.work;
  const record = page.getByTestId("work-page");
  same("the work's title", await record.getByTestId("work-page-title").textContent(), work.title);
  same("the work's Korean title", await record.getByTestId("work-page-original").textContent(), work.originalTitle);

  same(
    "the work's statements",
    await shownStatements(record),
    work.attributions.map((a) => ({ field: a.field, sources: keys(a.sources) })),
  );
  same(
    "the work's credits",
    await shownCredits(record, "credits", "person-link"),
    work.credits.map((c) => ({ slug: c.person.slug, role: c.role, sources: keys(c.sources) })),
  );
  same(
    "the record's sources",
    await record.getByTestId("record-sources").locator('[data-testid="source"]').evaluateAll((s) => s.map((x) => x.dataset.key)),
    keys(work.sources),
  );

  // Each dispute: the record's statement (with the sources behind it) beside the reference's.
  check(work.disputes.length > 0, `${work.title} has no disputes to show`);
  const disputes = await record.getByTestId("dispute").evaluateAll((cards, own) => {
    const sourceKeysOf = (node) => [...node.querySelectorAll(own)].map((x) => x.dataset.key);
    return cards.map((card) => {
      const [stated, reported] = [
        card.querySelector('[data-testid="dispute-stated"]'),
        card.querySelector('[data-testid="dispute-reported"]'),
      ];
      const a = stated.getBoundingClientRect();
      const b = reported.getBoundingClientRect();
      return {
        field: card.dataset.field,
        stated: stated.querySelector('[data-testid="dispute-stated-value"]').textContent,
        statedSources: sourceKeysOf(stated),
        reported: reported.querySelector('[data-testid="dispute-reported-value"]').textContent,
        reportedSources: sourceKeysOf(reported),
        sideBySide: Math.abs(a.top - b.top) < 2 && a.right <= b.left,
      };
    });
  }, OWN_SOURCES);
  const statedSources = (field) =>
    field === "directors"
      ? [...new Set(work.credits.filter((c) => c.role === "DIRECTOR").flatMap((c) => keys(c.sources)))]
      : keys(work.attributions.find((a) => a.field === field)?.sources ?? []);
  same(
    "the work's disputes",
    disputes,
    work.disputes.map((d) => ({
      field: d.field,
      stated: d.stated,
      statedSources: statedSources(d.field),
      reported: d.reported,
      reportedSources: [d.source.key],
      sideBySide: true,
    })),
  );

  // The newer fields, where the schema has them.
  const features = (await record.getAttribute("data-features")).split(" ").filter(Boolean);
  details.work_features = features;
  if (fields.has("work.titles")) {
    check(features.includes("titles"), `the schema has Work.titles, the page did not load them: ${features}`);
    const { work: typed } = await api(base, `query($slug: String!) { work(slug: $slug) { titles { ${TYPED} } } } ${SRC}`, {
      slug: SEARCHED_WORK.slug,
    });
    const rows = await record.getByTestId("title").evaluateAll(
      (trs, own) =>
        trs.map((tr) => ({
          text: tr.querySelector('[data-testid="title-text"]').textContent,
          generated: tr.classList.contains("generated"),
          sources: [...tr.lastElementChild.querySelectorAll(own)].map((x) => x.dataset.key),
        })),
      OWN_SOURCES,
    );
    same(
      "the work's typed titles",
      rows,
      typed.titles.map((t) => ({ text: t.text, generated: t.generated, sources: keys(t.sources) })),
    );
  }
  if (fields.has("dispute.reportedPeople")) {
    const { work: reported } = await api(
      base,
      `query($slug: String!) { work(slug: $slug) { disputes { reportedPeople { slug } } } }`,
      { slug: SEARCHED_WORK.slug },
    );
    const shown = await record.getByTestId("dispute").evaluateAll((cards) =>
      cards.map((card) => [...card.querySelectorAll('[data-testid="dispute-person"]')].map((a) => a.dataset.slug)),
    );
    same("the disputes' reported people", shown, reported.disputes.map((d) => d.reportedPeople.map((p) => p.slug)));
  }
}

/** The structure of the work on the page (parts with their events, dated events, studios,
 * origins), each with its own sources, as the API serves it; only the parts the schema has.
 * Returns how many of each the page shows. */
async function checkStructure(page, base, fields, slug) {
  const record = await openedRecord(page, "work", slug, `the work page of ${slug}`);
  const EVENT = "kind date { text } until { text } place sources { ...Src }";
  const asked = [
    ["work.parts", `parts { label events { ${EVENT} } sources { ...Src } }`],
    ["work.events", `events { ${EVENT} }`],
    ["work.studios", "studios { studio { name } role sources { ...Src } }"],
    ["work.basedOn", "basedOn { title sources { ...Src } }"],
  ].filter(([field]) => fields.has(field));
  const shown = { parts: 0, events: 0, studios: 0, basedOn: 0 };
  if (asked.length === 0) return shown;
  const { work } = await api(
    base,
    `query($slug: String!) { work(slug: $slug) { ${asked.map(([, q]) => q).join(" ")} } } ${SRC}`,
    { slug },
  );
  const event = (e) => ({
    kind: e.kind,
    when: e.until ? `${e.date.text} – ${e.until.text}` : e.date.text,
    place: e.place,
    sources: keys(e.sources),
  });
  // Evaluated in the page: what each event item shows.
  const shownEvents = (items, own) =>
    items.map((item) => ({
      kind: item.dataset.kind,
      when: item.querySelector(".event-date").textContent,
      place: item.querySelector(".event-place")?.textContent ?? null,
      sources: [...item.querySelectorAll(own)].map((x) => x.dataset.key),
    }));
  if (work.parts) {
    const items = record.getByTestId("part");
    const parts = await items.evaluateAll(
      (found, own) =>
        found.map((item) => ({
          label: item.querySelector("strong").textContent,
          sources: [...item.querySelectorAll(own)].map((x) => x.dataset.key),
        })),
      OWN_SOURCES,
    );
    for (const [i, part] of parts.entries()) {
      part.events = await items.nth(i).locator('[data-testid="event"]').evaluateAll(shownEvents, OWN_SOURCES);
    }
    same(`${slug}'s parts`, parts, work.parts.map((p) => ({ label: p.label, sources: keys(p.sources), events: p.events.map(event) })));
    shown.parts = parts.length;
  }
  if (work.events) {
    // The work's own events (a part's are inside that part, under no "events" section).
    const events = await record.locator('[data-testid="events"] [data-testid="event"]').evaluateAll(shownEvents, OWN_SOURCES);
    same(`${slug}'s dated events`, events, work.events.map(event));
    shown.events = events.length;
  }
  if (work.studios) {
    const studios = await record.getByTestId("studio").evaluateAll(
      (items, own) =>
        items.map((item) => ({
          name: item.querySelector("strong").textContent,
          sources: [...item.querySelectorAll(own)].map((x) => x.dataset.key),
        })),
      OWN_SOURCES,
    );
    same(`${slug}'s studios`, studios, work.studios.map((c) => ({ name: c.studio.name, sources: keys(c.sources) })));
    shown.studios = studios.length;
  }
  if (work.basedOn) {
    const origins = await record.getByTestId("origin").evaluateAll(
      (items, own) =>
        items.map((item) => ({
          title: item.querySelector("strong").textContent,
          sources: [...item.querySelectorAll(own)].map((x) => x.dataset.key),
        })),
      OWN_SOURCES,
    );
    same(`${slug}'s origins`, origins, work.basedOn.map((o) => ({ title: o.title, sources: keys(o.sources) })));
    shown.basedOn = origins.length;
  }
  return shown;
}

async function checkPersonPage(page, base, slug, fields, details) {
  const { person } = await api(
    base,
    `query($slug: String!) { person(slug: $slug) {
      name originalName attributions { field sources { ...Src } }
      credits { role work { slug } sources { ...Src } }
    } } ${SRC}`,
    { slug },
  );
  const record = page.getByTestId("person-page");
  same("the person's name", await record.getByTestId("person-page-title").textContent(), person.name);
  const originals = await record.getByTestId("person-page-original").allTextContents();
  same("the person's Korean name", originals, person.originalName == null ? [] : [person.originalName]);
  same(
    "the person's statements",
    await shownStatements(record),
    person.attributions.map((a) => ({ field: a.field, sources: keys(a.sources) })),
  );
  same(
    "the person's credited works",
    await shownCredits(record, "credited-works", "work-link"),
    person.credits.map((c) => ({ slug: c.work.slug, role: c.role, sources: keys(c.sources) })),
  );
  const features = (await record.getAttribute("data-features")).split(" ").filter(Boolean);
  details.person_features = features;
  if (fields.has("person.reported")) {
    check(features.includes("reported"), `the schema has Person.reported, the page did not load it: ${features}`);
    const { person: reported } = await api(
      base,
      `query($slug: String!) { person(slug: $slug) { reported { role work { slug } sources { ...Src } } } } ${SRC}`,
      { slug },
    );
    const shown = await record.getByTestId("reported-work").evaluateAll(
      (items, own) =>
        items.map((item) => ({
          slug: item.dataset.slug,
          sources: [...item.querySelectorAll(own)].map((x) => x.dataset.key),
        })),
      OWN_SOURCES,
    );
    same(
      "the person's reported works",
      shown,
      reported.reported.map((r) => ({ slug: r.work.slug, sources: keys(r.sources) })),
    );
    return reported.reported.map((r) => r.work.slug);
  }
  return null;
}

async function checkPages({ page, base, screenshot, details }) {
  const fields = await schemaFields(base);
  details.schema_has = [...fields].filter((f) =>
    ["work.titles", "work.parts", "work.events", "work.studios", "work.basedOn", "person.reported", "dispute.reportedPeople"].includes(f),
  );

  const response = await page.goto(`${base}/examples/`);
  check(response?.ok(), `GET /examples/ answered HTTP ${response?.status()}`);
  await waitForState(page, "ready", "the directors");

  // The search box: what it lists is what searchHits answers, in the same order.
  await search(page, SEARCHED_WORK.query, "searching for a work");
  const { searchHits } = await api(
    base,
    `query($q: String!, $n: Int!) { searchHits(query: $q, first: $n) {
      matchedText node { __typename ... on Work { slug } ... on Person { slug } ... on Theme { slug } } } }`,
    { q: SEARCHED_WORK.query, n: SEARCH_FIRST },
  );
  const hits = await page.getByTestId("hit").evaluateAll((items) =>
    items.map((li) => ({
      type: li.dataset.type,
      slug: li.dataset.slug,
      matched: li.querySelector('[data-testid="hit-matched"]').textContent,
    })),
  );
  same(
    `the hits for ${SEARCHED_WORK.query}`,
    hits,
    searchHits.map((h) => ({ type: h.node.__typename, slug: h.node.slug, matched: h.matchedText })),
  );
  check(hits[0]?.slug === SEARCHED_WORK.slug, () => `${SEARCHED_WORK.query} does not find ${SEARCHED_WORK.slug} first: ${JSON.stringify(hits)}`);
  await screenshot(page, "examples-search.png");

  // The first hit opens the work page.
  await page.getByTestId("hit").first().getByTestId("hit-link").click();
  await openedRecord(page, "work", SEARCHED_WORK.slug, "the work page");
  await checkWorkPage(page, base, fields, details);
  details.structure = { [SEARCHED_WORK.slug]: await checkStructure(page, base, fields, SEARCHED_WORK.slug) };
  const original = await page.getByTestId("work-page-original").textContent();
  details.work_hangul_fonts = await hangulFont(page, '[data-testid="work-page-original"]', original, "the work's Korean title");

  // A credit links to the person's page, which lists the work among their credits.
  await page.getByTestId("credit").locator(`[data-testid="person-link"][data-slug="${CREDITED_PERSON}"]`).click();
  await openedRecord(page, "person", CREDITED_PERSON, "the credited person's page");
  await checkPersonPage(page, base, CREDITED_PERSON, fields, details);
  const credited = await page.getByTestId("credited-works").locator('[data-testid="work-link"]').evaluateAll((a) => a.map((x) => x.dataset.slug));
  check(credited.includes(SEARCHED_WORK.slug), `${CREDITED_PERSON}'s page lacks ${SEARCHED_WORK.slug}: ${credited}`);

  // The search box reaches a person by their Hangul name; the person page shows their works.
  await search(page, SEARCHED_PERSON.query, "searching for a person");
  await page.getByTestId("hit").locator(`[data-testid="hit-link"][data-slug="${SEARCHED_PERSON.slug}"]`).click();
  await openedRecord(page, "person", SEARCHED_PERSON.slug, "the searched person's page");
  const reported = await checkPersonPage(page, base, SEARCHED_PERSON.slug, fields, details);
  if (reported != null) {
    // Sea of Blood's directors dispute names him: he is its *reported* director.
    check(reported.includes(SEARCHED_WORK.slug), `${SEARCHED_PERSON.slug} is not reported on ${SEARCHED_WORK.slug}: ${reported}`);
  }
  const name = await page.getByTestId("person-page-original").textContent();
  details.person_hangul_fonts = await hangulFont(page, '[data-testid="person-page-original"]', name, "the person's Korean name");
  await screenshot(page, "examples-person.png");

  // A series found by a title only a reference gives: its parts, their broadcast years and its
  // studio, each with its sources, once the schema has them. The README shows this page.
  await search(page, SERIES_WORK.query, "searching for a series");
  await page.getByTestId("hit").locator(`[data-testid="hit-link"][data-slug="${SERIES_WORK.slug}"]`).first().click();
  details.structure[SERIES_WORK.slug] = await checkStructure(page, base, fields, SERIES_WORK.slug);
  await screenshot(page, "examples-work.png");

  // A film in parts, one of them dated two ways; a film's own dated events, with a month and a
  // place; an unknown slug says so.
  for (const slug of [PARTS_WORK, EVENTS_WORK]) {
    await page.goto(`${base}/examples/#/work/${slug}`);
    details.structure[slug] = await checkStructure(page, base, fields, slug);
  }
  await page.goto(`${base}/examples/#/work/no-such-work`);
  await openedRecord(page, "work", "no-such-work", "an unknown work");
  await page.getByTestId("not-found").waitFor();
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

const CHECKS = { examples: checkExamples, pages: checkPages, graphiql: checkGraphiQL };

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
    details: {}, // what a check saw, for the pytest side to re-check
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
    await CHECKS[name]({ page, base, outdir, screenshot, details: result.details });
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
