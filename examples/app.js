// nkcinema example frontend: directors, their works and each work's themes, paged with
// cursors, from the public GraphQL API on the same origin. No dependencies, no build step.
// Every piece of data reaches the page through textContent, never as HTML.

const ENDPOINT = "/graphql";
const PAGE_SIZE = 5;
const WORKS_PER_DIRECTOR = 5;

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
        nodes { title year kind themes { name } }
      }
    }
  }
}`;

const KIND_LABELS = { FILM: "film", SERIES: "series" };

const app = document.querySelector("#app");
const list = app.querySelector('[data-testid="directors"]');
const status = app.querySelector('[data-testid="status"]');
const errorBox = app.querySelector('[data-testid="error"]');
const errorList = app.querySelector('[data-testid="error-list"]');
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
// `pending` is the page being fetched (kept after a failure, so "Try again" refetches it).
const state = { after: null, previousAfters: [], nextAfter: null, pending: null, loading: false };
let requestSerial = 0; // only the latest request may update the page

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

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function renderWork(work) {
  const item = workTemplate.content.firstElementChild.cloneNode(true);
  item.querySelector('[data-testid="work-title"]').textContent = work.title;
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
  item.querySelector('[data-testid="director-name"]').textContent = director.name;
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

function renderPage(connection) {
  list.replaceChildren(...connection.nodes.map(renderDirector));
  const start = state.previousAfters.length * PAGE_SIZE + 1;
  const end = start + connection.nodes.length - 1;
  status.textContent =
    connection.nodes.length === 0
      ? `No directors on this page (${connection.totalCount} in all)`
      : `Directors ${start}–${end} of ${connection.totalCount}`;
  list.start = start;
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

async function load(after, previousAfters) {
  const serial = ++requestSerial;
  state.pending = { after, previousAfters };
  setLoading(true);
  status.textContent = "Loading…";
  try {
    const data = await graphql(DIRECTORS_QUERY, { first: PAGE_SIZE, after });
    if (serial !== requestSerial) return;
    const connection = data.directors;
    state.after = after;
    state.previousAfters = previousAfters;
    state.nextAfter = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
    state.pending = null;
    errorBox.hidden = true;
    errorList.replaceChildren();
    renderPage(connection);
    app.dataset.state = "ready";
  } catch (error) {
    if (serial !== requestSerial) return;
    const errors =
      error instanceof RequestError ? error.errors : [{ message: String(error), code: null }];
    showErrors(errors);
    status.textContent = "Could not load directors";
    app.dataset.state = "error";
  } finally {
    if (serial === requestSerial) setLoading(false);
  }
}

buttons.next.addEventListener("click", () => {
  if (state.nextAfter != null) load(state.nextAfter, [...state.previousAfters, state.after]);
});
buttons.previous.addEventListener("click", () => {
  const before = state.previousAfters;
  if (before.length > 0) load(before.at(-1), before.slice(0, -1));
});
buttons.first.addEventListener("click", () => load(null, []));
// Retry the page that failed: the paging state only changes once a page has loaded.
buttons.retry.addEventListener("click", () => {
  const page = state.pending ?? { after: state.after, previousAfters: state.previousAfters };
  load(page.after, page.previousAfters);
});

load(null, []);
