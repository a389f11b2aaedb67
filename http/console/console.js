// The CameoDB web console: plain JavaScript over the HTTP API, no framework and no build step
// (a page this small does not need one, and the server serves these files as they are).

const PAGE_SIZE = 10;
const BATCH_SIZE = 500;
const SEARCH_DELAY_MS = 150;

const $ = (id) => document.getElementById(id);
const state = {
  index: "",
  offset: 0,
  total: 0,
  schema: undefined,
  timer: undefined,
  seq: 0,
  filters: [],
  // Highlights are asked for until the server says it does not know the parameter.
  highlight: true,
};

// The API key, when the server needs one: kept for this tab only (sessionStorage), sent as
// `Authorization: Bearer`. A 401 opens the key form; a 403 says what the key lacks.
const KEY_STORAGE = "cameodb.api_key";

function keyHeaders() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      ...keyHeaders(),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) askForKey(answer.details ?? "this server needs an API key");
  if (!response.ok) {
    throw new Error(
      `${answer.error ?? response.status}${answer.details ? `: ${answer.details}` : ""}`,
    );
  }
  return answer;
}

function askForKey(reason) {
  $("key-form").hidden = false;
  $("key-status").textContent = reason;
}

async function useKey(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (key === "") sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
  $("api-key").value = "";
  $("key-form").hidden = true;
  $("error").hidden = true;
  await load();
}

async function load() {
  await showHealth().catch((error) => ($("health").textContent = error.message));
  await showIndexes().catch((error) => {
    $("error").hidden = false;
    $("error").textContent = error.message;
  });
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function showHealth() {
  const health = await api("GET", "/_cluster/health");
  $("health").textContent = health.status;
  $("health").className = `badge ${health.status}`;
  $("node").textContent = `node ${health.node_name} · ${health.active_shards} shards`;
  $("nodes").textContent = health.cluster_enabled
    ? `${health.connected_nodes}/${health.total_nodes} nodes: ${
      (health.nodes ?? []).map((n) => `${n.name}${n.connected ? "" : " (down)"}`).join(", ")
    }`
    : "single node";
}

async function showIndexes() {
  const { indexes } = await api("GET", "/_indexes");
  $("indexes").replaceChildren(...indexes.map((index) =>
    element(
      "li",
      {
        "data-index": index.name,
        class: index.name === state.index ? "selected" : "",
        onclick: () => selectIndex(index.name),
      },
      element("span", {}, index.name),
      element("span", { class: "count" }, `${index.document_count} docs · ${index.engine}`),
    )
  ));
  $("index-select").replaceChildren(
    ...indexes.map((index) => element("option", { value: index.name }, index.name)),
  );
  if (state.index === "" && indexes.length > 0) await selectIndex(indexes[0].name);
  else $("index-select").value = state.index;
}

async function selectIndex(name) {
  state.index = name;
  state.offset = 0;
  state.filters = [];
  $("index-select").value = name;
  for (const li of $("indexes").children) {
    li.classList.toggle("selected", li.dataset.index === name);
  }
  state.schema = await api("GET", `/api/${encodeURIComponent(name)}/_config`);
  $("schema").replaceChildren(
    element("h2", {}, `${name} — schema v${state.schema.version}`),
    element(
      "table",
      {},
      ...state.schema.fields.map((f) =>
        element("tr", {}, element("td", {}, f.name), element("td", {}, f.type))
      ),
    ),
  );
  await search();
}

/** Facets over the fields that take value counts: strings, booleans and arrays. */
function facetFields() {
  return (state.schema?.fields ?? [])
    .filter((f) => /^(string|boolean)$|\[\]$/.test(f.type))
    .slice(0, 4)
    .map((f) => f.name);
}

/** The fields whose matched words are marked: text and exact strings (at most 32). */
function highlightFields() {
  return (state.schema?.fields ?? [])
    .filter((f) => /^(text|string)(\[\])?$/.test(f.type))
    .slice(0, 32)
    .map((f) => f.name);
}

/** Marks the server puts around matched words; never in stored text, so escaping is simple. */
const MARK_OPEN = "\u0001";
const MARK_CLOSE = "\u0002";

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A highlight fragment (asked unencoded): escaped, then the server's marks become <mark>. */
function highlighted(fragment) {
  return escapeHtml(fragment).replaceAll(MARK_OPEN, "<mark>").replaceAll(MARK_CLOSE, "</mark>");
}

function renderHit(hit) {
  const { id, _score, _highlights, ...fields } = hit;
  const body = element("div", { class: "hit-fields" });
  if (_highlights !== undefined && Object.keys(_highlights).length > 0) {
    body.innerHTML = Object.entries(_highlights)
      .map(([field, fragments]) =>
        `${escapeHtml(field)}: ${[].concat(fragments).map(highlighted).join(" … ")}`
      )
      .join("<br>");
  } else {
    body.textContent = JSON.stringify(fields);
  }
  return element(
    "li",
    { "data-id": id, onclick: () => openDocument(id) },
    element("span", { class: "hit-id" }, id),
    " ",
    element("span", { class: "hit-score" }, Number(_score).toFixed(3)),
    body,
  );
}

function renderFacets(facets) {
  $("facets").replaceChildren(
    ...Object.entries(facets ?? {}).map(([field, facet]) =>
      element(
        "div",
        { class: "facet" },
        element("strong", {}, field),
        element("br"),
        ...facet.buckets.map((bucket) =>
          element("button", {
            type: "button",
            onclick: () => {
              state.filters.push(`${field}:${JSON.stringify(String(bucket.value))}`);
              state.offset = 0;
              search();
            },
          }, `${bucket.value} (${bucket.count})`)
        ),
      )
    ),
  );
}

/** The query with the facet filters ANDed in before its inline modifiers (sort, limit…). */
function withFilters(query) {
  if (state.filters.length === 0) return query;
  const modifiers = query.search(/\s(sort|limit|offset|return)\s/);
  const clauses = modifiers < 0 ? query : query.slice(0, modifiers);
  const rest = modifiers < 0 ? "" : query.slice(modifiers);
  return `(${clauses}) AND ${state.filters.join(" AND ")}${rest}`;
}

function renderFilters() {
  $("filters").replaceChildren(...state.filters.map((filter, k) =>
    element("button", {
      type: "button",
      title: "remove this filter",
      onclick: () => (state.filters.splice(k, 1), state.offset = 0, search()),
    }, `${filter} ×`)
  ));
}

async function search() {
  if (state.index === "") return;
  const seq = ++state.seq;
  const query = withFilters($("query").value.trim() || "*");
  renderFilters();
  const facets = Object.fromEntries(facetFields().map((name) => [name, {}]));
  const marked = highlightFields();
  const highlight = marked.length === 0
    ? undefined
    : { fields: marked, pre_tag: MARK_OPEN, post_tag: MARK_CLOSE, encoder: "none" };
  const ask = () =>
    api("POST", `/api/${encodeURIComponent(state.index)}/search`, {
      query,
      limit: PAGE_SIZE,
      offset: state.offset,
      facets,
      ...(state.highlight && highlight !== undefined ? { highlight } : {}),
    });
  try {
    const answer = await ask().catch((error) => {
      if (!state.highlight || !/parameter "highlight"/.test(error.message)) throw error;
      state.highlight = false;
      return ask();
    });
    if (seq !== state.seq) return; // a newer search is on its way
    $("error").hidden = true;
    state.total = answer.total_hits;
    const last = state.offset + answer.hits_returned;
    $("summary").textContent = answer.total_hits === 0
      ? `no hits (${answer.took_ms} ms)`
      : `${state.offset + 1}–${last} of ${answer.total_hits} hits (${answer.took_ms} ms)`;
    $("hits").start = state.offset + 1;
    $("hits").replaceChildren(...answer.hits.map(renderHit));
    renderFacets(answer.facets);
    $("prev").disabled = state.offset === 0;
    $("next").disabled = last >= answer.total_hits;
  } catch (error) {
    if (seq !== state.seq) return;
    $("error").hidden = false;
    $("error").textContent = error.message;
  }
}

async function openDocument(id) {
  const found = await api(
    "GET",
    `/api/${encodeURIComponent(state.index)}/document/${encodeURIComponent(id)}`,
  );
  $("document").hidden = false;
  $("document-title").textContent = `${state.index} / ${found.id} (version ${found.version})`;
  $("document-body").textContent = JSON.stringify(found.doc, null, 2);
}

/** CSV with a header row: quoted fields, doubled quotes; numbers and booleans typed. */
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"', i++);
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") (row.push(field), field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field), rows.push(row), row = [], field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) (row.push(field), rows.push(row));
  const [header = [], ...data] = rows.filter((r) => r.some((cell) => cell !== ""));
  const typed = (v) =>
    /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === "true" ? true : v === "false" ? false : v;
  return data.map((r) => Object.fromEntries(header.map((name, k) => [name, typed(r[k] ?? "")])));
}

function records(name, text) {
  const trimmed = text.trimStart();
  if (/\.csv$/i.test(name)) return parseCsv(text);
  if (trimmed.startsWith("[")) return JSON.parse(trimmed);
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}

async function upload(event) {
  event.preventDefault();
  const index = $("upload-index").value;
  const file = $("upload-file").files[0];
  const idField = $("upload-id").value || "id";
  const status = $("upload-status");
  const progress = $("upload-progress");
  try {
    const items = records(file.name, await file.text()).map((record, n) => {
      if ("doc" in record && "id" in record) return record;
      const { [idField]: id, ...doc } = record;
      return { id: String(id ?? `${file.name}-${n + 1}`), doc };
    });
    progress.hidden = false;
    progress.max = items.length;
    let written = 0, errors = 0;
    for (let at = 0; at < items.length; at += BATCH_SIZE) {
      const answer = await api(
        "POST",
        `/api/${encodeURIComponent(index)}/_bulk`,
        items.slice(at, at + BATCH_SIZE),
      );
      written += answer.items_written;
      errors += answer.errors.length;
      progress.value = Math.min(at + BATCH_SIZE, items.length);
      status.textContent = `${progress.value} of ${items.length} sent…`;
    }
    status.textContent =
      `loaded ${written} of ${items.length} documents into ${index} (${errors} errors)`;
    state.index = index;
    $("query").value = "";
    await showIndexes();
    await selectIndex(index);
  } catch (error) {
    status.textContent = `upload failed: ${error.message}`;
  }
}

$("query").addEventListener("input", () => {
  clearTimeout(state.timer);
  state.offset = 0;
  state.timer = setTimeout(search, SEARCH_DELAY_MS);
});
$("search").addEventListener("submit", (event) => (event.preventDefault(), search()));
$("index-select").addEventListener("change", () => selectIndex($("index-select").value));
$("prev").addEventListener(
  "click",
  () => (state.offset = Math.max(0, state.offset - PAGE_SIZE), search()),
);
$("next").addEventListener("click", () => (state.offset += PAGE_SIZE, search()));
$("document-close").addEventListener("click", () => ($("document").hidden = true));
$("upload").addEventListener("submit", upload);
$("key-form").addEventListener("submit", useKey);

await load();
