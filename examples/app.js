// nkcinema example frontend, from the public GraphQL API on the same origin. No dependencies,
// no build step. Every piece of data reaches the page through textContent, never as HTML.
//
// Views, routed by the URL's hash:
//   #/                 directors -> works -> themes, paged with cursors
//   #/search?q=…       searchHits: works, people and themes, best first, with what matched
//   #/work/<slug>      a work: every statement with its sources, each dispute side by side
//                      with what the record states, credits, titles, parts, events, studios
//   #/person/<slug>    a person: credited works, and works references report against the record
//
// The work and person pages ask for what every catalog serves in one query, and for the newer
// fields (typed titles, parts, dated events, studios, reported credits …) in small queries of
// their own, each sent only when the schema has its fields (read once, by introspection): the
// pages work on a server without them, and show them on a server with them. A newer query that
// fails leaves its section out; it never breaks the page.

const ENDPOINT = "/graphql";
const PAGE_SIZE = 5;
const WORKS_PER_DIRECTOR = 5;
const SEARCH_RESULTS = 20;

const DIRECTORS_QUERY = `
query Directors($first: Int!, $after: String) {
  directors(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      slug
      name
      originalName
      works(role: DIRECTOR, first: ${WORKS_PER_DIRECTOR}) {
        totalCount
        nodes { slug title year kind themes { name } }
      }
    }
  }
}`;

const SEARCH_QUERY = `
query Search($query: String!, $first: Int!) {
  searchHits(query: $query, first: $first) {
    score
    matchedText
    node {
      __typename
      ... on Work { slug title originalTitle year kind }
      ... on Person { slug name originalName }
      ... on Theme { slug name }
    }
  }
}`;

const SOURCE = "fragment Src on Source { key title url }";

// What every catalog serves about a work.
const WORK_QUERY = `
query WorkPage($slug: String!) {
  work(slug: $slug) {
    slug title originalTitle kind year synopsis alternativeTitles
    themes { slug name }
    sources { ...Src }
    attributions { field sources { ...Src } }
    credits { role position person { slug name originalName } sources { ...Src } }
    disputes { field stated reported note source { ...Src } }
    related { type work { slug title originalTitle year } }
    externalIds { system value url }
  }
}
${SOURCE}`;

// What every catalog serves about a person.
const PERSON_QUERY = `
query PersonPage($slug: String!) {
  person(slug: $slug) {
    slug name originalName biography alternativeNames
    sources { ...Src }
    attributions { field sources { ...Src } }
    credits { role position work { slug title originalTitle year kind } sources { ...Src } }
    externalIds { system value url }
  }
}
${SOURCE}`;

// Which fields the server's types have (read once): the newer queries go only where they fit.
const CAPABILITIES_QUERY = `
query Capabilities {
  work: __type(name: "Work") { fields { name } }
  person: __type(name: "Person") { fields { name } }
  credit: __type(name: "Credit") { fields { name } }
  dispute: __type(name: "Dispute") { fields { name } }
  relation: __type(name: "WorkRelation") { fields { name } }
}`;

const TYPED_FORM = `text language script romanization kind qualifier generated sources { ...Src }`;
const EVENT = `fragment Event on WorkEvent {
  kind date { text precision } until { text precision } place qualifier note sources { ...Src }
}`;

// The newer parts of a page. `needs`: [type, field] pairs, all present for the query to go
// (a field of a list lives in its own entry, so one missing field drops only that entry);
// `query`: the document; `merge(record, answer)` copies the answer onto the base record.
// Lists (credits, disputes, related) come in the same order in every query: merged by index.
const mergeByIndex = (key, fields) => (record, answer) => {
  answer[key].forEach((item, i) => {
    if (record[key][i]) for (const field of fields) record[key][i][field] = item[field];
  });
};
const mergeFields = (fields) => (record, answer) => {
  for (const field of fields) record[field] = answer[field];
};

const WORK_FEATURES = [
  {
    name: "titles",
    needs: [["work", "titles"]],
    query: `query WorkTitles($slug: String!) { work(slug: $slug) { titles { ${TYPED_FORM} } } }
${SOURCE}`,
    merge: mergeFields(["titles"]),
  },
  {
    name: "form",
    needs: [
      ["work", "forms"],
      ["work", "audience"],
    ],
    query: `query WorkForm($slug: String!) { work(slug: $slug) { forms audience } }`,
    merge: mergeFields(["forms", "audience"]),
  },
  {
    name: "parts",
    needs: [["work", "parts"]],
    query: `query WorkParts($slug: String!) {
  work(slug: $slug) {
    parts { unit first last label title events { ...Event } sources { ...Src } }
  }
}
${EVENT}
${SOURCE}`,
    merge: mergeFields(["parts"]),
  },
  {
    name: "events",
    needs: [["work", "events"]],
    query: `query WorkEvents($slug: String!) { work(slug: $slug) { events { ...Event } } }
${EVENT}
${SOURCE}`,
    merge: mergeFields(["events"]),
  },
  {
    name: "studios",
    needs: [["work", "studios"]],
    query: `query WorkStudios($slug: String!) {
  work(slug: $slug) { studios { role studio { slug name originalName } sources { ...Src } } }
}
${SOURCE}`,
    merge: mergeFields(["studios"]),
  },
  {
    name: "basedOn",
    needs: [["work", "basedOn"]],
    query: `query WorkOrigins($slug: String!) {
  work(slug: $slug) { basedOn { title originalTitle form note qualifier sources { ...Src } } }
}
${SOURCE}`,
    merge: mergeFields(["basedOn"]),
  },
  {
    name: "creditNotes",
    needs: [
      ["credit", "note"],
      ["credit", "qualifier"],
      ["credit", "episodes"],
    ],
    query: `query WorkCreditNotes($slug: String!) {
  work(slug: $slug) { credits { note qualifier episodes { first last } } }
}`,
    merge: mergeByIndex("credits", ["note", "qualifier", "episodes"]),
  },
  {
    name: "disputePeople",
    needs: [
      ["dispute", "reportedPeople"],
      ["dispute", "qualifier"],
    ],
    query: `query WorkDisputePeople($slug: String!) {
  work(slug: $slug) { disputes { qualifier reportedPeople { slug name originalName } } }
}`,
    merge: mergeByIndex("disputes", ["qualifier", "reportedPeople"]),
  },
  {
    name: "relationSources",
    needs: [["relation", "sources"]],
    query: `query WorkRelationSources($slug: String!) {
  work(slug: $slug) { related { sources { ...Src } } }
}
${SOURCE}`,
    merge: mergeByIndex("related", ["sources"]),
  },
];

const PERSON_FEATURES = [
  {
    name: "names",
    needs: [["person", "names"]],
    query: `query PersonNames($slug: String!) { person(slug: $slug) { names { ${TYPED_FORM} } } }
${SOURCE}`,
    merge: mergeFields(["names"]),
  },
  {
    name: "reported",
    needs: [["person", "reported"]],
    query: `query PersonReported($slug: String!) {
  person(slug: $slug) {
    reported {
      role
      work { slug title originalTitle year }
      dispute { field stated reported note source { ...Src } }
      sources { ...Src }
    }
  }
}
${SOURCE}`,
    merge: mergeFields(["reported"]),
  },
  {
    name: "creditNotes",
    needs: [
      ["credit", "note"],
      ["credit", "qualifier"],
      ["credit", "episodes"],
    ],
    query: `query PersonCreditNotes($slug: String!) {
  person(slug: $slug) { credits { note qualifier episodes { first last } } }
}`,
    merge: mergeByIndex("credits", ["note", "qualifier", "episodes"]),
  },
];

const KIND_LABELS = { FILM: "film", SERIES: "series" };
const FIELD_LABELS = {
  title: "Title",
  originalTitle: "Korean title",
  alternativeTitles: "Other titles",
  kind: "Kind",
  year: "Year",
  synopsis: "Synopsis",
  themes: "Themes",
  related: "Related works",
  directors: "Director",
  credits: "Credits",
  forms: "Form",
  audience: "Audience",
  name: "Name",
  originalName: "Korean name",
  alternativeNames: "Other names",
  biography: "Biography",
};
const QUALIFIER_LABELS = { PROBABLY: "probably", SOMETIMES: "sometimes", UNCONFIRMED: "not confirmed" };
const HANGUL = /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]/;

const app = document.querySelector("#app");
const views = [...app.querySelectorAll("[data-view-name]")];
const viewName = document.querySelector('[data-testid="view-name"]');
const list = app.querySelector('[data-testid="directors"]');
const status = app.querySelector('[data-testid="status"]');
const errorBox = app.querySelector('[data-testid="error"]');
const errorList = app.querySelector('[data-testid="error-list"]');
const searchForm = document.querySelector('[data-testid="search-form"]');
const searchInput = document.querySelector('[data-testid="search-input"]');
const searchTitle = app.querySelector('[data-testid="search-title"]');
const hitList = app.querySelector('[data-testid="hits"]');
const workPage = app.querySelector('[data-testid="work-page"]');
const personPage = app.querySelector('[data-testid="person-page"]');
const buttons = {
  first: app.querySelector('[data-testid="first-page"]'),
  previous: app.querySelector('[data-testid="previous-page"]'),
  next: app.querySelector('[data-testid="next-page"]'),
  retry: app.querySelector('[data-testid="retry"]'),
};
const directorTemplate = document.querySelector("#director-template");
const workTemplate = document.querySelector("#work-template");

// Paging state: `after` of the page on screen, the `after`s of the pages before it (a stack,
// so "Previous page" pops), and the cursor that opens the next page (null on the last page).
// A page that failed to load leaves it unchanged ("Try again" fetches that page again).
const state = {
  after: null,
  previousAfters: [],
  nextAfter: null,
  loading: false,
  shown: false, // a page of directors has been rendered (going back to #/ keeps it)
};
let requestSerial = 0; // only the latest request may update the page
let retry = () => {}; // what "Try again" does: run the latest load again

class RequestError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors; // [{ message, code }]
  }
}

function httpError(response, what) {
  const message = `HTTP ${response.status} ${response.statusText}: ${what}`;
  return new RequestError([{ message, code: `HTTP_${response.status}` }]);
}

async function graphql(query, variables) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new RequestError([{ message: `Network error: ${error.message}`, code: "NETWORK_ERROR" }]);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw httpError(response, "the response is not JSON");
  }
  if (Array.isArray(body?.errors) && body.errors.length > 0) {
    throw new RequestError(
      body.errors.map((e) => ({
        message: String(e?.message ?? "Unknown error"),
        code: e?.extensions?.code == null ? null : String(e.extensions.code),
      })),
    );
  }
  if (!response.ok || body?.data == null) {
    throw httpError(response, "no data in the response");
  }
  return body.data;
}

// ---------------------------------------------------------------------------------------------
// What the schema has: introspected once. null when introspection is refused (a production
// server may switch it off): then every newer query is tried, and one that fails is left out.

let capabilitiesPromise = null;

function capabilities() {
  capabilitiesPromise ??= graphql(CAPABILITIES_QUERY, {}).then(
    (data) => {
      const fields = new Set();
      for (const [type, described] of Object.entries(data)) {
        for (const field of described?.fields ?? []) fields.add(`${type}.${field.name}`);
      }
      return fields;
    },
    (error) => {
      capabilitiesPromise = null; // ask again next time
      console.warn(`introspection refused, trying the newer queries as they come: ${error}`);
      return null;
    },
  );
  return capabilitiesPromise;
}

function available(features, fields) {
  return features.filter(
    (f) => fields == null || f.needs.every(([type, field]) => fields.has(`${type}.${field}`)),
  );
}

/** The base query, and beside it each newer query the schema can answer; the base record with
 * their answers merged in, and the names of the parts that came. */
async function record(key, query, features, slug) {
  const fields = await capabilities();
  const wanted = available(features, fields);
  const [base, ...extras] = await Promise.all([
    graphql(query, { slug }),
    ...wanted.map((f) =>
      graphql(f.query, { slug }).catch((error) => {
        console.warn(`${f.name} left out: ${error}`);
        return null;
      }),
    ),
  ]);
  const found = base[key];
  const loaded = [];
  if (found == null) return { found, loaded };
  wanted.forEach((feature, i) => {
    const answer = extras[i]?.[key];
    if (answer == null) return;
    feature.merge(found, answer);
    loaded.push(feature.name);
  });
  return { found, loaded };
}

// ---------------------------------------------------------------------------------------------
// Small builders

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function withTestId(node, testid) {
  node.dataset.testid = testid;
  return node;
}

/** Text in Korean where it is Hangul: marked lang="ko", drawn with the vendored font. */
function korean(text, className, testid) {
  const node = element("span", `${className ?? ""} hangul`.trim(), text);
  node.lang = "ko";
  if (testid) node.dataset.testid = testid;
  return node;
}

function textIn(text, className, testid) {
  if (text != null && HANGUL.test(text)) return korean(text, className, testid);
  const node = element("span", className, text);
  if (testid) node.dataset.testid = testid;
  return node;
}

function workHref(slug) {
  return `#/work/${encodeURIComponent(slug)}`;
}

function personHref(slug) {
  return `#/person/${encodeURIComponent(slug)}`;
}

function link(href, text, className, testid) {
  const node = element("a", className, null);
  node.href = href;
  node.append(textIn(text));
  if (testid) node.dataset.testid = testid;
  return node;
}

function workLink(work, testid = "work-link") {
  const node = element("span", "work-ref");
  const anchor = link(workHref(work.slug), work.title, "work-ref-title", testid);
  anchor.dataset.slug = work.slug;
  node.append(anchor);
  if (work.originalTitle) node.append(" ", korean(work.originalTitle, "muted"));
  if (work.year != null) node.append(" ", element("span", "muted", `(${work.year})`));
  return node;
}

function personLink(person, testid = "person-link") {
  const node = element("span", "person-ref");
  const anchor = link(personHref(person.slug), person.name, null, testid);
  anchor.dataset.slug = person.slug;
  node.append(anchor);
  if (person.originalName) node.append(" ", korean(person.originalName, "muted"));
  return node;
}

/** The sources of one statement, as chips: the seed document (no address) or a linked page. */
function sourceList(sources) {
  const items = element("ul", "sources");
  items.dataset.testid = "sources";
  if (!sources || sources.length === 0) {
    items.append(element("li", "source source-none", "no source recorded"));
  }
  for (const source of sources ?? []) {
    const item = element("li", "source");
    item.dataset.testid = "source";
    item.dataset.key = source.key;
    if (source.url) {
      const anchor = element("a", null, source.title);
      anchor.href = source.url;
      anchor.rel = "noopener noreferrer";
      item.append(anchor);
    } else {
      item.append(element("span", null, source.title));
    }
    items.append(item);
  }
  return items;
}

function badge(text, className = "badge") {
  return element("span", className, text);
}

function qualifierBadge(qualifier) {
  return qualifier ? badge(QUALIFIER_LABELS[qualifier] ?? qualifier.toLowerCase(), "badge hedge") : null;
}

function section(title, testid, ...children) {
  const node = element("section", "record-section");
  node.dataset.testid = testid;
  node.append(element("h3", "record-section-title", title), ...children.filter(Boolean));
  return node;
}

function label(value) {
  return String(value).toLowerCase().replaceAll("_", " ");
}

function episodes(range) {
  if (!range) return null;
  return range.first === range.last ? `episode ${range.first}` : `episodes ${range.first}–${range.last}`;
}

// ---------------------------------------------------------------------------------------------
// Views and loading

function show(view, title) {
  for (const node of views) node.hidden = node.dataset.viewName !== view;
  app.dataset.view = view;
  viewName.textContent = { directors: "directors", search: "search", work: "work", person: "person" }[view];
  document.title = `nkcinema · ${title}`;
}

function showErrors(errors) {
  errorList.replaceChildren(
    ...errors.map((e) => {
      const item = element("li", "error-item");
      item.dataset.testid = "error-item";
      item.append(element("span", "error-message", e.message));
      if (e.code) {
        const code = element("code", "error-code", e.code);
        code.dataset.testid = "error-code";
        item.append(" ", code);
      }
      return item;
    }),
  );
  errorBox.hidden = false;
}

function hideErrors() {
  errorBox.hidden = true;
  errorList.replaceChildren();
}

function updateButtons() {
  const atStart = state.previousAfters.length === 0;
  buttons.first.disabled = state.loading || atStart;
  buttons.previous.disabled = state.loading || atStart;
  buttons.next.disabled = state.loading || state.nextAfter == null;
  buttons.retry.disabled = state.loading;
}

function setLoading(loading) {
  state.loading = loading;
  app.setAttribute("aria-busy", String(loading));
  if (loading) app.dataset.state = "loading";
  updateButtons();
}

/** Run one view's load: only the latest may touch the page; its failure shows the errors and
 * makes "Try again" run it once more. */
async function run(load, failedStatus) {
  const serial = ++requestSerial;
  const current = () => serial === requestSerial;
  retry = () => run(load, failedStatus);
  setLoading(true);
  try {
    await load(current);
    if (!current()) return;
    hideErrors();
    app.dataset.state = "ready";
  } catch (error) {
    if (!current()) return;
    const errors =
      error instanceof RequestError ? error.errors : [{ message: String(error), code: null }];
    showErrors(errors);
    failedStatus?.();
    app.dataset.state = "error";
  } finally {
    if (current()) setLoading(false);
  }
}

// ---------------------------------------------------------------------------------------------
// #/ : directors

function renderWork(work) {
  const item = workTemplate.content.firstElementChild.cloneNode(true);
  const title = item.querySelector('[data-testid="work-title"]');
  title.textContent = work.title;
  title.href = workHref(work.slug);
  const year = work.year == null ? "year unknown" : String(work.year);
  item.querySelector('[data-testid="work-year"]').textContent = year;
  const kind = KIND_LABELS[work.kind] ?? String(work.kind).toLowerCase();
  item.querySelector('[data-testid="work-kind"]').textContent = kind;
  const themes = item.querySelector('[data-testid="themes"]');
  if (work.themes.length === 0) {
    themes.append(element("li", "theme theme-none", "no themes recorded"));
  }
  for (const theme of work.themes) {
    const chip = element("li", "theme", theme.name);
    chip.dataset.testid = "theme";
    themes.append(chip);
  }
  return item;
}

function renderDirector(director) {
  const item = directorTemplate.content.firstElementChild.cloneNode(true);
  item.dataset.slug = director.slug;
  const name = item.querySelector('[data-testid="director-name"]');
  name.textContent = director.name;
  name.href = personHref(director.slug);
  const original = item.querySelector('[data-testid="director-original-name"]');
  if (director.originalName) original.textContent = director.originalName;
  else original.remove();
  const { totalCount, nodes } = director.works;
  item.querySelector('[data-testid="director-work-count"]').textContent =
    totalCount > nodes.length
      ? `${nodes.length} of ${totalCount} works as director`
      : `${totalCount} ${totalCount === 1 ? "work" : "works"} as director`;
  const works = item.querySelector('[data-testid="works"]');
  for (const work of nodes) works.append(renderWork(work));
  return item;
}

function renderDirectors(connection) {
  list.replaceChildren(...connection.nodes.map(renderDirector));
  const start = state.previousAfters.length * PAGE_SIZE + 1;
  const end = start + connection.nodes.length - 1;
  status.textContent =
    connection.nodes.length === 0
      ? `No directors on this page (${connection.totalCount} in all)`
      : `Directors ${start}–${end} of ${connection.totalCount}`;
  list.start = start;
}

function loadDirectors(after, previousAfters) {
  return run(
    async (current) => {
      status.textContent = "Loading…";
      const data = await graphql(DIRECTORS_QUERY, { first: PAGE_SIZE, after });
      if (!current()) return;
      const connection = data.directors;
      state.after = after;
      state.previousAfters = previousAfters;
      state.nextAfter = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
      state.shown = true;
      renderDirectors(connection);
    },
    () => {
      status.textContent = "Could not load directors";
    },
  );
}

function showDirectors() {
  show("directors", "Directors");
  if (state.shown) {
    ++requestSerial; // a search or record still loading must not land here
    hideErrors();
    setLoading(false);
    app.dataset.state = "ready";
    retry = () => loadDirectors(state.after, state.previousAfters);
    return;
  }
  loadDirectors(null, []);
}

// ---------------------------------------------------------------------------------------------
// #/search?q=…

function renderHit(hit) {
  const item = element("li", "hit");
  item.dataset.testid = "hit";
  const node = hit.node;
  item.dataset.type = node.__typename;
  item.dataset.slug = node.slug;
  const head = element("div", "hit-line");
  if (node.__typename === "Work") head.append(workLink(node, "hit-link"));
  else if (node.__typename === "Person") head.append(personLink(node, "hit-link"));
  else head.append(withTestId(element("span", "hit-theme", node.name), "hit-link"));
  head.append(badge(label(node.__typename === "Work" ? KIND_LABELS[node.kind] ?? node.kind : node.__typename)));
  item.append(head);
  const why = element("div", "hit-why muted");
  why.append("matched ", textIn(hit.matchedText, "hit-matched", "hit-matched"));
  why.append(` · score ${hit.score.toFixed(2)}`);
  item.append(why);
  return item;
}

function showSearch(text) {
  const query = text.trim();
  show("search", query ? `Search: ${query}` : "Search");
  searchInput.value = query;
  hitList.replaceChildren();
  delete hitList.dataset.query; // set again once this search's results are on the page
  searchTitle.replaceChildren(element("span", null, "Results for "), textIn(`“${query}”`));
  if (!query) {
    searchTitle.textContent = "Type a title or a name above.";
    ++requestSerial;
    hideErrors();
    app.dataset.state = "ready";
    return;
  }
  run(async (current) => {
    const data = await graphql(SEARCH_QUERY, { query, first: SEARCH_RESULTS });
    if (!current()) return;
    const hits = data.searchHits;
    hitList.replaceChildren(...hits.map(renderHit));
    hitList.dataset.query = query;
    if (hits.length === 0) {
      hitList.append(withTestId(element("li", "hit hit-none muted", "Nothing found."), "no-hits"));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// #/work/<slug>

function valueOf(recordData, field) {
  const value = recordData[field];
  if (value == null) return null;
  if (Array.isArray(value)) {
    if (value.length === 0) return null;
    if (field === "forms") return value.map(label).join(" · "); // enum values, as on the badges
    return value
      .map((v) => (typeof v === "string" ? v : (v.name ?? v.title ?? v.work?.title ?? label(v))))
      .join(" · ");
  }
  if (field === "kind") return KIND_LABELS[value] ?? label(value);
  if (field === "audience") return label(value);
  return String(value);
}

/** A table of the record's fields, each with what it says and the sources that say it. */
function statements(recordData) {
  const table = element("table", "statements");
  table.dataset.testid = "statements";
  const head = element("tr");
  head.append(element("th", null, "Field"), element("th", null, "Stated"), element("th", null, "Sources"));
  table.appendChild(element("thead")).append(head);
  const body = element("tbody");
  for (const attribution of recordData.attributions) {
    const row = element("tr");
    row.dataset.testid = "statement";
    row.dataset.field = attribution.field;
    const cell = element("td");
    cell.append(textIn(valueOf(recordData, attribution.field) ?? "—", "statement-value", "statement-value"));
    const sources = element("td");
    sources.append(sourceList(attribution.sources));
    row.append(element("th", "statement-field", FIELD_LABELS[attribution.field] ?? attribution.field), cell, sources);
    body.append(row);
  }
  table.append(body);
  return table;
}

/** The sources behind what the record states for a disputed field: the field's attribution,
 * or for "directors" the sources of the director credits. */
function statedSources(work, field) {
  if (field === "directors") {
    const seen = new Map();
    for (const credit of work.credits.filter((c) => c.role === "DIRECTOR")) {
      for (const source of credit.sources) seen.set(source.key, source);
    }
    return [...seen.values()];
  }
  return work.attributions.find((a) => a.field === field)?.sources ?? [];
}

function renderDispute(work, dispute) {
  const card = element("li", "dispute");
  card.dataset.testid = "dispute";
  card.dataset.field = dispute.field;
  card.append(element("h4", "dispute-field", FIELD_LABELS[dispute.field] ?? dispute.field));
  const sides = element("div", "dispute-sides");

  const stated = element("div", "side side-stated");
  stated.dataset.testid = "dispute-stated";
  stated.append(element("p", "side-label", "The record states"));
  stated.append(textIn(dispute.stated, "side-value", "dispute-stated-value"));
  stated.append(sourceList(statedSources(work, dispute.field)));

  const reported = element("div", "side side-reported");
  reported.dataset.testid = "dispute-reported";
  reported.append(element("p", "side-label", "A reference reports"));
  const value = element("p", "side-value-line");
  value.append(textIn(dispute.reported, "side-value", "dispute-reported-value"));
  const hedge = qualifierBadge(dispute.qualifier);
  if (hedge) value.append(" ", hedge);
  reported.append(value);
  if (dispute.reportedPeople?.length) {
    const people = element("p", "side-people");
    people.append("Who: ");
    dispute.reportedPeople.forEach((person, i) => {
      if (i > 0) people.append(", ");
      people.append(personLink(person, "dispute-person"));
    });
    reported.append(people);
  }
  reported.append(sourceList([dispute.source]));

  sides.append(stated, reported);
  card.append(sides);
  if (dispute.note) card.append(element("p", "dispute-note", dispute.note));
  return card;
}

function renderCredit(credit, subject) {
  const item = element("li", "credit");
  item.dataset.testid = "credit";
  item.dataset.role = credit.role;
  const line = element("div", "credit-line");
  line.append(subject, " ", badge(label(credit.role)));
  const range = episodes(credit.episodes);
  if (range) line.append(" ", badge(range, "badge range"));
  const hedge = qualifierBadge(credit.qualifier);
  if (hedge) line.append(" ", hedge);
  item.append(line);
  if (credit.note) item.append(element("p", "credit-note", credit.note));
  item.append(sourceList(credit.sources));
  return item;
}

/** Typed titles (or, with heading "Name", a person's typed names), each with its sources. */
function renderTitles(titles, heading = "Title") {
  const table = element("table", "titles");
  table.dataset.testid = "titles";
  const head = element("tr");
  for (const name of [heading, "Kind", "Language · script · system", "Sources"]) {
    head.append(element("th", null, name));
  }
  table.appendChild(element("thead")).append(head);
  const body = element("tbody");
  for (const title of titles) {
    const row = element("tr", title.generated ? "generated" : null);
    row.dataset.testid = "title";
    const text = element("td");
    const shown = title.script === "Hang" || HANGUL.test(title.text)
      ? korean(title.text, "title-text", "title-text")
      : textIn(title.text, "title-text", "title-text");
    text.append(shown);
    const hedge = qualifierBadge(title.qualifier);
    if (hedge) text.append(" ", hedge);
    const kind = element("td", null, label(title.kind));
    const typed = [title.language, title.script, title.romanization].filter(Boolean).join(" · ");
    const sources = element("td");
    if (title.generated) {
      sources.append(badge("romanized automatically: no source states it", "badge generated"));
    } else {
      sources.append(sourceList(title.sources));
    }
    row.append(text, kind, element("td", "muted", typed || "—"), sources);
    body.append(row);
  }
  table.append(body);
  return table;
}

function eventLine(event) {
  const item = element("li", "event");
  item.dataset.testid = "event";
  item.dataset.kind = event.kind;
  const line = element("div", "event-line");
  const when = event.until ? `${event.date.text} – ${event.until.text}` : event.date.text;
  line.append(badge(label(event.kind)), " ", element("span", "event-date", when));
  if (event.place) line.append(" ", element("span", "event-place", event.place));
  const hedge = qualifierBadge(event.qualifier);
  if (hedge) line.append(" ", hedge);
  item.append(line);
  if (event.note) item.append(element("p", "note", event.note));
  item.append(sourceList(event.sources));
  return item;
}

function eventList(events) {
  const items = element("ul", "events");
  items.append(...events.map(eventLine));
  return items;
}

function renderParts(parts) {
  const items = element("ol", "parts");
  for (const part of parts) {
    const item = element("li", "part");
    item.dataset.testid = "part";
    const line = element("div", "part-line");
    line.append(element("strong", null, part.label));
    if (part.title) line.append(" ", textIn(part.title, "part-title"));
    item.append(line, sourceList(part.sources));
    if (part.events.length) item.append(eventList(part.events));
    items.append(item);
  }
  return items;
}

function renderStudios(studios) {
  const items = element("ul", "studios");
  for (const credit of studios) {
    const item = element("li", "studio");
    item.dataset.testid = "studio";
    const line = element("div");
    line.append(element("strong", null, credit.studio.name));
    if (credit.studio.originalName) line.append(" ", korean(credit.studio.originalName, "muted"));
    line.append(" ", badge(label(credit.role)));
    item.append(line, sourceList(credit.sources));
    items.append(item);
  }
  return items;
}

function renderOrigins(origins) {
  const items = element("ul", "origins");
  for (const origin of origins) {
    const item = element("li", "origin");
    item.dataset.testid = "origin";
    const line = element("div");
    line.append(element("strong", null, origin.title));
    if (origin.originalTitle) line.append(" ", korean(origin.originalTitle, "muted"));
    line.append(" ", badge(label(origin.form)));
    const hedge = qualifierBadge(origin.qualifier);
    if (hedge) line.append(" ", hedge);
    item.append(line);
    if (origin.note) item.append(element("p", "note", origin.note));
    item.append(sourceList(origin.sources));
    items.append(item);
  }
  return items;
}

function renderExternalIds(ids) {
  if (ids.length === 0) return null;
  const items = element("ul", "external-ids");
  for (const id of ids) {
    const item = element("li");
    const anchor = element("a", null, `${id.system === "IMDB" ? "IMDb" : "Wikidata"} ${id.value}`);
    anchor.href = id.url;
    anchor.rel = "noopener noreferrer";
    item.append(anchor);
    items.append(item);
  }
  return section("Elsewhere", "external-ids", items);
}

function recordHeader(title, original, testid, ...facts) {
  const header = element("header", "record-head");
  header.append(withTestId(element("h2", "record-title", title), `${testid}-title`));
  if (original) header.append(korean(original, "record-original", `${testid}-original`));
  const line = element("p", "record-facts");
  line.append(...facts.filter(Boolean).flatMap((fact, i) => (i > 0 ? [" · ", fact] : [fact])));
  header.append(line);
  return header;
}

function renderWorkPage(work, loaded) {
  const has = (feature) => loaded.includes(feature);
  workPage.dataset.slug = work.slug;
  workPage.dataset.features = loaded.join(" ");
  const facts = [
    withTestId(element("span", null, work.year == null ? "year unknown" : String(work.year)), "work-page-year"),
    withTestId(badge(KIND_LABELS[work.kind] ?? label(work.kind)), "work-page-kind"),
    ...(work.forms ?? []).map((form) => badge(label(form))),
    work.audience ? badge(`for ${label(work.audience)}`) : null,
  ];
  const parts = [recordHeader(work.title, work.originalTitle, "work-page", ...facts)];
  if (work.synopsis) parts.push(element("p", "synopsis", work.synopsis));
  if (work.themes.length) {
    const themes = element("ul", "themes");
    for (const theme of work.themes) themes.append(withTestId(element("li", "theme", theme.name), "theme"));
    parts.push(themes);
  }

  if (has("titles")) {
    parts.push(section("Titles", "titles-section", renderTitles(work.titles)));
  } else if (work.alternativeTitles.length) {
    const others = element("ul", "alternative-titles");
    for (const title of work.alternativeTitles) others.appendChild(withTestId(element("li", null), "alternative-title")).append(textIn(title));
    const sources = work.attributions.find((a) => a.field === "alternativeTitles")?.sources;
    parts.push(section("Other titles", "titles-section", others, sourceList(sources)));
  }

  const credits = element("ul", "credits");
  credits.append(...work.credits.map((c) => renderCredit(c, personLink(c.person))));
  if (work.credits.length === 0) credits.append(element("li", "muted", "No one is credited."));
  parts.push(section("Credits", "credits", credits));

  if (work.disputes.length) {
    const disputes = element("ul", "disputes");
    disputes.append(...work.disputes.map((d) => renderDispute(work, d)));
    parts.push(section("Disputed statements", "disputes", disputes));
  }

  if (has("parts") && work.parts.length) parts.push(section("Parts", "parts", renderParts(work.parts)));
  if (has("events") && work.events.length) parts.push(section("Dated events", "events", eventList(work.events)));
  if (has("studios") && work.studios.length) parts.push(section("Studios", "studios", renderStudios(work.studios)));
  if (has("basedOn") && work.basedOn.length) parts.push(section("Based on", "based-on", renderOrigins(work.basedOn)));

  if (work.related.length) {
    const related = element("ul", "related");
    for (const relation of work.related) {
      const item = withTestId(element("li", "relation"), "relation");
      item.append(badge(label(relation.type)), " ", workLink(relation.work));
      if (relation.sources) item.append(sourceList(relation.sources));
      related.append(item);
    }
    parts.push(section("Related works", "related", related));
  }

  parts.push(section("Statements and their sources", "statements-section", statements(work)));
  parts.push(section("Sources of this record", "record-sources", sourceList(work.sources)));
  parts.push(renderExternalIds(work.externalIds));
  workPage.replaceChildren(...parts.filter(Boolean));
}

function notFound(page, what, slug) {
  page.dataset.slug = slug;
  page.dataset.features = "";
  page.replaceChildren(withTestId(element("p", "not-found", `No ${what} “${slug}” in the catalog.`), "not-found"));
}

function showWork(slug) {
  show("work", "Work");
  workPage.replaceChildren();
  delete workPage.dataset.slug; // set again once this work is on the page
  run(async (current) => {
    const { found, loaded } = await record("work", WORK_QUERY, WORK_FEATURES, slug);
    if (!current()) return;
    if (found == null) return notFound(workPage, "work", slug);
    document.title = `nkcinema · ${found.title}`;
    renderWorkPage(found, loaded);
  });
}

// ---------------------------------------------------------------------------------------------
// #/person/<slug>

function renderNames(names) {
  const table = renderTitles(names, "Name");
  table.dataset.testid = "names";
  return table;
}

function renderReported(reported) {
  const items = element("ul", "reported");
  for (const credit of reported) {
    const item = element("li", "credit reported-credit");
    item.dataset.testid = "reported-work";
    item.dataset.slug = credit.work.slug;
    const line = element("div", "credit-line");
    line.append(workLink(credit.work), " ", badge(label(credit.role)), " ", badge("reported", "badge hedge"));
    item.append(line);
    const dispute = element("p", "reported-dispute note");
    dispute.append(
      `The record states ${FIELD_LABELS[credit.dispute.field]?.toLowerCase() ?? credit.dispute.field} `,
      textIn(credit.dispute.stated),
      "; the reference reports ",
      textIn(credit.dispute.reported),
      ".",
    );
    item.append(dispute, sourceList(credit.sources));
    items.append(item);
  }
  return items;
}

function renderPersonPage(person, loaded) {
  const has = (feature) => loaded.includes(feature);
  personPage.dataset.slug = person.slug;
  personPage.dataset.features = loaded.join(" ");
  const roles = [...new Set(person.credits.map((c) => label(c.role)))];
  const parts = [recordHeader(person.name, person.originalName, "person-page", ...roles.map((r) => badge(r)))];
  if (person.biography) parts.push(element("p", "synopsis", person.biography));

  if (has("names")) {
    parts.push(section("Names", "names-section", renderNames(person.names)));
  } else if (person.alternativeNames.length) {
    const others = element("ul", "alternative-titles");
    for (const name of person.alternativeNames) others.appendChild(withTestId(element("li", null), "alternative-name")).append(textIn(name));
    const sources = person.attributions.find((a) => a.field === "alternativeNames")?.sources;
    parts.push(section("Other names", "names-section", others, sourceList(sources)));
  }

  const credits = element("ul", "credits");
  credits.append(...person.credits.map((c) => renderCredit(c, workLink(c.work))));
  if (person.credits.length === 0) credits.append(element("li", "muted", "No credits on record."));
  parts.push(section("Credited works", "credited-works", credits));

  if (has("reported")) {
    const reported = person.reported.length
      ? renderReported(person.reported)
      : element("p", "muted", "No reference attributes other works to them.");
    parts.push(section("Reported works (a reference attributes them, against the record)", "reported-works", reported));
  }

  parts.push(section("Statements and their sources", "statements-section", statements(person)));
  parts.push(section("Sources of this record", "record-sources", sourceList(person.sources)));
  parts.push(renderExternalIds(person.externalIds));
  personPage.replaceChildren(...parts.filter(Boolean));
}

function showPerson(slug) {
  show("person", "Person");
  personPage.replaceChildren();
  delete personPage.dataset.slug; // set again once this person is on the page
  run(async (current) => {
    const { found, loaded } = await record("person", PERSON_QUERY, PERSON_FEATURES, slug);
    if (!current()) return;
    if (found == null) return notFound(personPage, "person", slug);
    document.title = `nkcinema · ${found.name}`;
    renderPersonPage(found, loaded);
  });
}

// ---------------------------------------------------------------------------------------------
// Routing and controls

function route() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [view, slug] = path.split("/").map((part) => decodeURIComponent(part));
  window.scrollTo(0, 0);
  if (view === "work" && slug) return showWork(slug);
  if (view === "person" && slug) return showPerson(slug);
  if (view === "search") return showSearch(new URLSearchParams(query).get("q") ?? "");
  return showDirectors();
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault(); // the page routes by hash; the form never navigates
  const query = searchInput.value.trim();
  const target = `#/search?${new URLSearchParams({ q: query })}`;
  if (location.hash === target) route(); // the same search again: run it again
  else location.hash = target;
});

buttons.next.addEventListener("click", () => {
  if (state.nextAfter != null) loadDirectors(state.nextAfter, [...state.previousAfters, state.after]);
});
buttons.previous.addEventListener("click", () => {
  const before = state.previousAfters;
  if (before.length > 0) loadDirectors(before.at(-1), before.slice(0, -1));
});
buttons.first.addEventListener("click", () => loadDirectors(null, []));
buttons.retry.addEventListener("click", () => retry());

window.addEventListener("hashchange", route);
route();
