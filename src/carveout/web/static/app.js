// carveout web UI: a little JS for ledger jobs and charts. Same-origin fetches carry the session cookie.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);

  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  async function api(path, opts) {
    opts = Object.assign({ credentials: "same-origin" }, opts || {});
    opts.headers = Object.assign({ "X-CSRF-Token": csrf }, opts.headers || {});  // every write carries the token
    const r = await fetch(path, opts);
    const ct = r.headers.get("content-type") || "";
    const body = ct.includes("json") ? await r.json() : await r.text();
    if (!r.ok) {
      const msg = body && body.message ? body.message + (body.field ? " (" + body.field + ")" : "") : r.status + " " + r.statusText;
      throw new Error(msg);
    }
    return body;
  }

  function embed(el, spec) {
    if (!window.vegaEmbed) { el.textContent = "chart library not loaded"; return Promise.resolve(); }
    return window.vegaEmbed(el, spec, { actions: false, renderer: "svg" }).then(() => { el.dataset.rendered = "1"; });
  }

  function showJob(id) {
    const box = $("job");
    box.hidden = false;
    box.dataset.job = id;
    $("job-id").textContent = id;
    $("dl-csv").href = "/v1/jobs/" + id + "/results?format=csv";
    $("dl-parquet").href = "/v1/jobs/" + id + "/results?format=parquet";
    poll(id);
  }

  async function poll(id) {
    let j;
    try { j = await api("/v1/jobs/" + id); }
    catch (e) { $("job-status").textContent = "error: " + e.message; return; }
    $("job-status").textContent = j.status;
    const total = j.total_rows || 0;
    $("job-progress").max = Math.max(total, 1);
    $("job-progress").value = j.done_rows;
    $("job-count").textContent = j.done_rows + " / " + total + " rows";
    if (j.error_rows) {
      $("job-errors").hidden = false;
      $("job-errors").textContent = j.error_rows + " input problem(s); first: " +
        j.errors.slice(0, 3).map((e) => e.line ? e.message : "row " + e.row + (e.column ? ", " + e.column : "") + ": " + e.message).join("; ");
    }
    if (j.status === "running" || j.status === "queued") { setTimeout(() => poll(id), 400); return; }
    $("job-links").hidden = false;
    const tb = $("job-summary").querySelector("tbody");
    tb.innerHTML = "";
    for (const [k, v] of Object.entries((j.summary || {}).by_verdict || {})) {
      const tr = document.createElement("tr");
      tr.innerHTML = "<td></td><td></td>";
      tr.children[0].textContent = k; tr.children[1].textContent = v;
      tr.dataset.verdict = k;
      tb.appendChild(tr);
    }
    $("job-summary").hidden = false;
    const spec = await api("/v1/jobs/" + id + "/chart");
    await embed($("chart"), spec);
  }

  function ledgerPage() {
    const form = $("upload-form");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("upload-error").hidden = true;
      const fd = new FormData();
      fd.append("file", $("file").files[0]);
      if ($("as_of").value) fd.append("as_of", $("as_of").value);
      try {
        const j = await api("/v1/batch", { method: "POST", body: fd });
        history.replaceState(null, "", "/ledger?job=" + j.id);
        showJob(j.id);
      } catch (e) {
        $("upload-error").hidden = false;
        $("upload-error").textContent = e.message;
      }
    });
    const existing = $("job").dataset.job;
    if (existing) showJob(existing);
  }

  const usd = (v) => "$" + Math.round(v || 0).toLocaleString("en-US");

  function fillTable(table, rows, cells) {
    const tb = table.querySelector("tbody");
    tb.innerHTML = "";
    for (const r of rows) {
      const tr = document.createElement("tr");
      for (const c of cells(r)) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
      tb.appendChild(tr);
    }
    table.hidden = rows.length === 0;
  }

  function scenarioRequest() {
    return { scenario: $("sc-builtin").value || $("sc-text").value, job_id: $("sc-job").value };
  }

  function scenariosPage() {
    const form = $("scenario-form");
    if (!form) return;
    // A shipped scenario's YAML is shown when it is picked; once edited, the edited text is what runs.
    const shipped = JSON.parse(($("sc-yaml") || {}).textContent || "{}");
    $("sc-builtin").addEventListener("change", () => {
      const name = $("sc-builtin").value;
      if (name && shipped[name] !== undefined) $("sc-text").value = shipped[name];
    });
    $("sc-text").addEventListener("input", () => {
      const name = $("sc-builtin").value;
      if (name && $("sc-text").value !== shipped[name]) $("sc-builtin").value = "";
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("sc-error").hidden = true;
      try {
        const res = await api("/v1/scenario/diff", {
          method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(scenarioRequest()),
        });
        $("sc-out").textContent = JSON.stringify(res, null, 2).slice(0, 50000);
        $("sc-result").hidden = false;
        $("sc-summary").classList.remove("muted");
        const s = res.summary || {};
        $("sc-summary").textContent = (s.rows_changed || 0) + " rows change; " + (s.newly_licensed_rows || 0) +
          " newly licensed (" + usd(s.newly_licensed_value_usd) + "), " +
          (s.cleared_rows || 0) + " cleared (" + usd(s.cleared_value_usd) + ").";
        const c = res.charts || {};
        for (const id of ["sc-chart", "sc-chart-company", "sc-chart2"]) { $(id).textContent = ""; delete $(id).dataset.rendered; }
        if (c.exposure_by_fab) await embed($("sc-chart"), c.exposure_by_fab);
        else $("sc-chart").textContent = "No shipment to a known fab changes under this scenario.";
        $("sc-chart-company").hidden = !c.exposure_by_company;
        if (c.exposure_by_company) await embed($("sc-chart-company"), c.exposure_by_company);
        if (c.by_destination) await embed($("sc-chart2"), c.by_destination);
        const rows = res.rows || [];
        fillTable($("sc-rows"), rows.slice(0, 15), (r) => [r.row, r.date, r.exporter, r.item_name || r.eccn,
          r.facility_id || "", r.end_user_name || "", usd(r.value_usd), r.from + " → " + r.to]);
        $("sc-rows-caption").textContent = "First " + Math.min(rows.length, 15) + " of " + (s.rows_changed || rows.length) + " changed rows";
      } catch (e) { $("sc-error").hidden = false; $("sc-error").textContent = e.message; }
    });
    const fr = $("fr-run");
    if (fr) fr.addEventListener("click", async () => {
      $("sc-error").hidden = true;
      fr.disabled = true;
      $("fr-chart").textContent = ""; delete $("fr-chart").dataset.rendered;
      $("fr-table").hidden = true;
      const body = scenarioRequest();
      if ($("fr-max").value) body.max_combinations = Number($("fr-max").value);
      try {
        let j = await api("/v1/frontier/jobs", {
          method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
        });
        $("fr").dataset.job = j.id;
        $("fr-status-line").hidden = false;
        for (;;) {
          $("fr-progress").max = Math.max(j.total_combinations || 0, 1);
          $("fr-progress").value = j.done_combinations;
          $("fr-status").textContent = j.status + (j.stage && j.stage !== j.status ? " — " + j.stage : "") + ": " +
            j.done_combinations + " / " + (j.total_combinations || "?") + " designs";
          if (j.status === "done" || j.status === "failed") break;
          await new Promise((ok) => setTimeout(ok, 400));
          j = await api("/v1/frontier/jobs/" + j.id);
        }
        if (j.status === "failed") throw new Error("frontier failed: " + (j.stage || "see the server log"));
        const res = j.result || {};
        const st = res.stats || {};
        $("fr-status").textContent += " in " + (st.total_s || 0).toFixed(1) + " s (" + (st.rows || 0) + " rows, " +
          (st.signatures || 0) + " distinct signatures)";
        $("fr-chart").hidden = false;
        if (res.chart) await embed($("fr-chart"), res.chart);
        else $("fr-chart").textContent = "No design could be scored on this ledger.";
        fillTable($("fr-table"), res.frontier || [], (p) => [(p.exemptions || []).join(", ") || "(none)",
          usd(p.security_kept_usd), usd(p.relief_usd)]);
      } catch (e) { $("sc-error").hidden = false; $("sc-error").textContent = e.message; }
      finally { fr.disabled = false; }
    });
  }

  window.carveout = { ledgerPage, scenariosPage, embed, api };
})();
