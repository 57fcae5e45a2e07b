/// The page at `/`: one small upload form in plain HTML and JavaScript (no build step, no
/// CDN). It calls the same API as any client, with the key pasted into it (kept in the
/// browser's localStorage): single files through its own small tus client (resumable, each
/// chunk checked by SHA-256), carousels in one multipart request. It shows upload and job
/// progress, renditions, warnings, or the error code with its message. With targets picked, a
/// file is preflighted as soon as it is chosen, and both the preflight and the upload's outcomes
/// show one column per target (the renditions with their fetch URLs). Each chosen file is shown
/// with every target's crop window over it (its first frame for a video); a click on the
/// picture sets `focus` there for the preflight and the upload.
enum UploadPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Kiln</title>
    <style>
      body { font: 15px/1.4 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
      fieldset { border: 1px solid #ccc; padding: .8rem; margin-bottom: 1rem; }
      label { display: inline-block; margin-right: 1rem; }
      progress { width: 100%; }
      .item { border-top: 1px solid #ddd; padding: .6rem 0; }
      .error { color: #a00; }
      img { max-width: 200px; max-height: 200px; margin: .3rem; border: 1px solid #eee; }
      code { background: #f4f4f4; padding: 0 .2rem; }
      table.targets { border-collapse: collapse; margin: .4rem 0; }
      table.targets th, table.targets td { border: 1px solid #ddd; padding: .3rem .5rem; vertical-align: top; text-align: left; }
      td.accepted { background: #eef8ee; } td.changed { background: #fff8e6; } td.rejected { background: #fbeeee; }
      #targets label { margin-right: .6rem; }
      figure.frame { position: relative; display: inline-block; margin: .4rem 0; cursor: crosshair; line-height: 0; }
      figure.frame img, figure.frame video { max-width: 360px; max-height: 360px; margin: 0; border: 0; }
      figure.frame .window { position: absolute; box-sizing: border-box; border: 2px solid; pointer-events: none; }
      figure.frame .window span { position: absolute; top: 0; left: 0; font-size: 11px; line-height: 1.2; color: #fff; padding: 0 .2rem; }
      figure.frame .dot { position: absolute; width: 10px; height: 10px; margin: -5px; border-radius: 50%; background: #fff; border: 2px solid #000; pointer-events: none; }
    </style>
    <h1>Kiln</h1>
    <form id="form">
      <fieldset>
        <label>API key <input id="key" size="50" autocomplete="off" placeholder="kiln_..."></label>
      </fieldset>
      <fieldset>
        <label>Files <input id="files" type="file" multiple></label>
        <label>Preset <select id="preset"><option>default</option></select></label>
        <label>Fit <select id="fit"><option>reject</option><option>crop</option><option>pad</option><option>blur</option></select></label>
        <label><input id="carousel" type="checkbox"> one carousel</label>
        <button id="send">Upload</button>
      </fieldset>
      <fieldset>
        <legend>Targets (several networks at once: the preset above is then not used)</legend>
        <span id="targets"></span>
      </fieldset>
      <fieldset>
        <legend>Focus: where the subject is, kept when a shape change crops (click a picture below)</legend>
        <span id="focus">auto</span> <button id="focus-auto" type="button">auto</button>
        <button id="focus-center" type="button">center</button>
      </fieldset>
    </form>
    <div id="preflight"></div>
    <div id="results"></div>
    <script>
    const $ = (id) => document.getElementById(id);
    $("key").value = localStorage.getItem("kiln-key") || "";
    const auth = () => ({ "Authorization": "Bearer " + $("key").value.trim() });
    const text = (tag, value, cls) => { const e = document.createElement(tag); e.textContent = value; if (cls) e.className = cls; return e; };

    async function loadPresets() {
      const r = await fetch("/v1/presets", { headers: auth() });
      if (!r.ok) return;
      const body = await r.json();
      // Replaced only when the list changed, keeping the choice made (a blur of the key field
      // fires "change" again while the person is picking a preset).
      const names = body.data.presets.map(p => p.name), select = $("preset"), kept = select.value;
      if (names.join("\n") === Array.from(select.options, o => o.value).join("\n")) return;
      select.replaceChildren(...names.map(name => text("option", name)));
      if (names.includes(kept)) select.value = kept;
      $("targets").replaceChildren(...names.map(name => {
        const label = document.createElement("label"), box = document.createElement("input");
        box.type = "checkbox"; box.name = "target"; box.value = name;
        label.append(box, " " + name);
        return label;
      }));
    }
    const chosenTargets = () => Array.from(document.querySelectorAll("input[name=target]:checked"), c => c.value);
    const focus = () => $("focus").textContent;
    function setFocus(value) { $("focus").textContent = value; preflight(); }
    $("focus-auto").addEventListener("click", () => setFocus("auto"));
    $("focus-center").addEventListener("click", () => setFocus("center"));
    // The file's picture (a video's first frame) with each target's crop window drawn over it, in
    // the preflight's own numbers (pixels of the picture as shown); a click sets the focus there.
    const colours = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"];
    function framePicture(file, targets) {
      const framed = targets.filter(t => t.frame);
      if (!framed.length || !/^(image|video)\//.test(file.type)) return null;
      const figure = document.createElement("figure"), source = framed[0].frame;
      figure.className = "frame";
      const picture = document.createElement(file.type.startsWith("video/") ? "video" : "img");
      picture.src = URL.createObjectURL(file);
      if (picture.tagName === "VIDEO") { picture.muted = true; picture.preload = "auto"; }
      figure.append(picture);
      const percent = (value, side) => (100 * value / side) + "%";
      framed.forEach((t, index) => {
        if (!t.frame.window) return;
        const w = t.frame.window, box = document.createElement("div");
        box.className = "window";
        box.dataset.target = t.target;
        box.dataset.window = [w.x, w.y, w.width, w.height].join(",");
        box.style.borderColor = colours[index % colours.length];
        Object.assign(box.style, { left: percent(w.x, source.source_width), top: percent(w.y, source.source_height),
                                   width: percent(w.width, source.source_width), height: percent(w.height, source.source_height) });
        const label = text("span", t.target);
        label.style.background = colours[index % colours.length];
        box.append(label);
        figure.append(box);
      });
      const [x, y] = focus().split(",").map(Number);
      if (!Number.isNaN(x) && !Number.isNaN(y)) {
        const dot = document.createElement("div");
        dot.className = "dot";
        Object.assign(dot.style, { left: (100 * x) + "%", top: (100 * y) + "%" });
        figure.append(dot);
      }
      figure.addEventListener("click", (event) => {
        const area = picture.getBoundingClientRect(), round = (v) => Math.min(1, Math.max(0, v)).toFixed(3).replace(/\.?0+$/, "");
        setFocus(round((event.clientX - area.left) / area.width) + "," + round((event.clientY - area.top) / area.height));
      });
      const caption = document.createElement("figcaption");
      caption.style.lineHeight = "1.4";
      for (const t of framed.filter(t => !t.frame.window)) caption.append(text("p", t.target + ": " + t.frame.width + "x" + t.frame.height + ", " + (t.frame.fit === "within" ? "the whole picture" : t.frame.fit)));
      if (focus() === "auto" && framed.some(t => t.frame.window)) caption.append(text("p", "focus auto: the windows are drawn centred; Kiln keeps faces, else the busiest part, and a video's window follows the subject"));
      const wrap = document.createElement("div");
      wrap.append(figure, caption);
      return wrap;
    }

    // One column per target: its status, then what it said (`describe` fills the cell).
    function targetTable(outcomes, describe) {
      const table = document.createElement("table"), head = table.insertRow(), row = table.insertRow();
      table.className = "targets";
      for (const outcome of outcomes) {
        head.append(text("th", outcome.target));
        const cell = row.insertCell();
        cell.className = outcome.status;
        cell.dataset.target = outcome.target;
        cell.dataset.status = outcome.status;
        cell.append(text("strong", outcome.status));
        if (outcome.error) {
          const place = outcome.failed_item ? " (item " + outcome.failed_item.index + ": " + outcome.failed_item.name + ")" : "";
          cell.append(text("p", outcome.error.code + ": " + outcome.error.message + place, "error"));
        }
        describe(cell, outcome);
      }
      return table;
    }

    // The preflight: as soon as a file is chosen (or the targets or the fit change), its first MiB
    // and its size; the whole file when that was not enough (a video whose moov is at its end).
    async function askPreflight(file, targets, bytes) {
      const query = new URLSearchParams({ targets: targets.join(","), fit: $("fit").value, focus: focus(), size: String(file.size), name: file.name });
      const r = await fetch("/v1/preflight?" + query, { method: "POST", body: bytes,
        headers: { ...auth(), "Content-Type": "application/octet-stream" } });
      return r.json();
    }

    async function preflight() {
      const targets = chosenTargets(), files = Array.from($("files").files);
      $("preflight").replaceChildren();
      if (!targets.length) return;
      for (const file of files) {
        const box = document.createElement("div");
        box.className = "preflight";
        box.append(text("p", "preflight: " + file.name));
        $("preflight").append(box);
        try {
          let body = await askPreflight(file, targets, file.slice(0, 1 << 20));
          const cut = body.success && body.data.targets.some(t => t.error && ["FILE_005", "MEDIA_006"].includes(t.error.code));
          if (cut && file.size > (1 << 20)) body = await askPreflight(file, targets, file);
          if (!body.success) showError(box, body.error);
          else {
            box.append(targetTable(body.data.targets, (cell, t) => { for (const c of t.changes) cell.append(text("p", c)); }));
            const picture = framePicture(file, body.data.targets);
            if (picture) box.append(picture);
          }
        } catch (e) {
          box.append(text("p", "the preflight failed: " + e, "error"));
        } finally {
          box.dataset.done = "true";
        }
      }
    }
    $("files").addEventListener("change", preflight);
    $("targets").addEventListener("change", preflight);
    $("fit").addEventListener("change", preflight);

    // An upload's outcomes: per target its warnings, renditions and their keyless fetch URLs.
    function showTargets(box, outcomes) {
      box.append(targetTable(outcomes, (cell, outcome) => {
        for (const w of outcome.warnings || []) cell.append(text("p", "warning: " + w));
        const items = outcome.items || (outcome.item ? [outcome.item] : []);
        for (const item of items) {
          for (const r of item.renditions || []) {
            const line = text("p", r.name + ": " + r.format + " " + r.width + "x" + r.height + " ");
            if (r.fetch_url) {
              const link = text("a", "fetch URL");
              link.href = r.fetch_url;
              link.className = "fetch";
              line.append(link);
            }
            cell.append(line);
          }
        }
      }));
    }
    $("key").addEventListener("change", () => { localStorage.setItem("kiln-key", $("key").value.trim()); loadPresets(); });
    if ($("key").value) loadPresets();

    function showError(box, error) {
      box.append(text("p", error.code + ": " + error.message, "error"));
    }

    async function showItem(box, item) {
      box.append(text("p", item.kind + " " + item.mime + " " + (item.id || "")));
      for (const w of item.warnings || []) box.append(text("p", "warning: " + w));
      for (const r of item.renditions || []) {
        box.append(text("p", r.name + ": " + r.format + " " + r.width + "x" + r.height + ", " + r.bytes + " bytes"));
        if (r.format !== "mp4" && r.url) {
          const response = await fetch(r.url, { headers: r.url.startsWith("/") ? auth() : {} });
          const img = document.createElement("img");
          img.alt = r.name;
          img.src = URL.createObjectURL(await response.blob());
          box.append(img);
        }
      }
    }

    async function showData(box, data) {
      if (data.items) { for (const item of data.items) await showItem(box, item); }
      else await showItem(box, data);
    }

    async function followJob(box, job) {
      const bar = document.createElement("progress");
      bar.max = 1; box.append(text("p", "job " + job.id + ": processing"), bar);
      while (true) {
        const r = await fetch("/v1/jobs/" + job.id + "?wait=true", { headers: auth() });
        const body = await r.json();
        if (!body.success) { showError(box, body.error); return; }
        bar.value = body.data.progress;
        if (body.data.targets) { showTargets(box, body.data.targets); return; }
        if (body.data.status === "succeeded") { await showData(box, body.data.media); return; }
        if (body.data.error) { showError(box, body.data.error); return; }
      }
    }

    // A box per upload, with its bar; data-done marks the end of every outcome (shown result or
    // error), for people and tests.
    function resultBox(files) {
      const box = document.createElement("div");
      box.className = "item";
      box.append(text("p", Array.from(files).map(f => f.name).join(", ")));
      const bar = document.createElement("progress");
      bar.max = 1; bar.value = 0; box.append(bar);
      $("results").prepend(box);
      return [box, bar];
    }

    // Carousels: one multipart request (all items or none).
    function uploadCarousel(files) {
      const [box, bar] = resultBox(files);
      const form = new FormData(), targets = chosenTargets();
      if (targets.length) form.append("targets", targets.join(",")); else form.append("preset", $("preset").value);
      form.append("fit", $("fit").value);
      form.append("focus", focus());
      for (const f of files) form.append("file", f, f.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/v1/carousels");
      xhr.setRequestHeader("Authorization", auth().Authorization);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
      xhr.onload = async () => {
        bar.value = 1;
        try {
          const body = JSON.parse(xhr.responseText);
          if (body.data && body.data.targets) showTargets(box, body.data.targets);
          else if (!body.success) showError(box, body.error);
          else if (xhr.status === 202) await followJob(box, body.data.job);
          else await showData(box, body.data);
        } catch (e) {
          box.append(text("p", "HTTP " + xhr.status + ": " + e, "error"));
        } finally {
          box.dataset.done = "true";
        }
      };
      xhr.onerror = () => { box.append(text("p", "the upload failed (network)", "error")); box.dataset.done = "true"; };
      xhr.send(form);
    }

    // Single files: tus 1.0 at /v1/uploads, in chunks each checked by its SHA-256. A chunk that
    // fails (network, server restart, bad checksum) is retried from the offset the server kept,
    // with growing pauses; the upload's address is kept per file, so a reload resumes it too.
    const tusHeaders = () => ({ ...auth(), "Tus-Resumable": "1.0.0" });
    const b64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
    const pause = (ms) => new Promise(resolve => setTimeout(resolve, ms));
    const base64Of = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));

    function sendChunk(url, offset, bytes, checksum, onProgress) {
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("PATCH", url);
        for (const [name, value] of Object.entries(tusHeaders())) xhr.setRequestHeader(name, value);
        xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
        xhr.setRequestHeader("Upload-Offset", String(offset));
        if (checksum) xhr.setRequestHeader("Upload-Checksum", "sha256 " + checksum);
        xhr.upload.onprogress = (e) => onProgress(e.loaded);
        xhr.onload = () => resolve(xhr);
        xhr.onerror = () => reject(new Error("network"));
        xhr.send(bytes);
      });
    }

    async function serverOffset(url) {
      const r = await fetch(url, { method: "HEAD", headers: tusHeaders() });
      return r.ok ? Number(r.headers.get("Upload-Offset")) : null;
    }

    async function uploadFile(file) {
      const [box, bar] = resultBox([file]);
      const status = text("p", "");
      box.append(status);
      const chunkSize = Number(localStorage.getItem("kiln-chunk-bytes")) || 8 << 20;
      const preset = $("preset").value, fit = $("fit").value, targets = chosenTargets().join(","), focused = focus();
      const remembered = "kiln-upload:" + [file.name, file.size, file.lastModified, targets || preset, fit, focused].join(":");
      const options = targets ? "targets " + b64(targets) : "preset " + b64(preset);
      try {
        let url = localStorage.getItem(remembered), offset = url ? await serverOffset(url).catch(() => null) : null;
        if (offset === null) {
          const r = await fetch("/v1/uploads", { method: "POST", headers: { ...tusHeaders(),
            "Upload-Length": String(file.size),
            "Upload-Metadata": "filename " + b64(file.name) + "," + options + ",fit " + b64(fit) + ",focus " + b64(focused) } });
          if (r.status !== 201) { showError(box, (await r.json()).error); return; }
          url = r.headers.get("Location");
          offset = 0;
          localStorage.setItem(remembered, url);
        } else if (offset > 0) {
          status.textContent = "resumed at " + offset;
        }
        let failures = 0, answer = null;
        while (answer === null) {
          const bytes = await file.slice(offset, offset + chunkSize).arrayBuffer();
          // crypto.subtle exists on https and on localhost; elsewhere chunks go unchecked.
          const checksum = crypto.subtle ? base64Of(await crypto.subtle.digest("SHA-256", bytes)) : null;
          let xhr = null;
          try {
            xhr = await sendChunk(url, offset, bytes, checksum, (sent) => { bar.value = (offset + sent) / Math.max(file.size, 1); });
          } catch (e) {}
          const last = offset + bytes.byteLength >= file.size;
          if (xhr && xhr.status === 204) {
            offset = Number(xhr.getResponseHeader("Upload-Offset"));
            failures = 0;
            if (offset >= file.size) answer = { location: xhr.getResponseHeader("Kiln-Location") };
            continue;
          }
          const final = xhr && ((xhr.status >= 400 && xhr.status < 500 && ![409, 429, 460].includes(xhr.status))
                                || (last && xhr.status === 500));
          if (final) {
            // Refused for good: the file (its format, size, dimensions) or the upload (gone).
            const refused = JSON.parse(xhr.responseText);
            answer = { error: refused.error, targets: refused.data && refused.data.targets };
            continue;
          }
          // Cut off, refused for its offset or checksum, or the server away: ask where to resume.
          failures += 1;
          box.dataset.retries = String(failures);
          status.textContent = "interrupted at " + offset + " (" + (xhr ? "HTTP " + xhr.status : "network") + "), retrying";
          // Nothing more is sent until the server says what it kept (the link may still be down).
          let kept = null;
          while (kept === null) {
            if (failures > 30) { box.append(text("p", "the upload failed after " + failures + " tries", "error")); return; }
            await pause(Math.min(250 * failures, 3000));
            // Refused (the upload gone): the next chunk's answer says so, and the page shows it.
            kept = await fetch(url, { method: "HEAD", headers: tusHeaders() }).then((r) => r.ok
              ? Number(r.headers.get("Upload-Offset")) : r.status >= 400 && r.status < 500 && r.status !== 429 ? offset : null, () => null);
            if (kept === null) failures += 1;
          }
          offset = kept;
          status.textContent = "resumed at " + offset;
        }
        bar.value = 1;
        localStorage.removeItem(remembered);
        if (answer.targets) { showTargets(box, answer.targets); return; }
        if (answer.error) { showError(box, answer.error); return; }
        if (!answer.location && targets) {
          // Made for several targets: the upload's view holds their outcomes.
          const body = await (await fetch(url, { headers: auth() })).json();
          if (body.success && body.data.targets) showTargets(box, body.data.targets); else showError(box, body.error || body.data.error);
          return;
        }
        if (answer.location && answer.location.startsWith("/v1/jobs/")) {
          await followJob(box, { id: answer.location.slice("/v1/jobs/".length) });
        } else if (answer.location) {
          const body = await (await fetch(answer.location, { headers: auth() })).json();
          if (body.success) await showData(box, body.data); else showError(box, body.error);
        }
      } catch (e) {
        box.append(text("p", "the upload failed: " + e, "error"));
      } finally {
        box.dataset.done = "true";
      }
    }

    $("form").addEventListener("submit", (event) => {
      event.preventDefault();
      localStorage.setItem("kiln-key", $("key").value.trim());
      const files = $("files").files;
      if (!files.length) return;
      if ($("carousel").checked) uploadCarousel(files);
      else for (const f of files) uploadFile(f);
    });
    </script>
    </html>
    """#
}
