/// The page at `/`: one small upload form in plain HTML and JavaScript (no build step, no
/// CDN). It calls the same API as any client, with the key pasted into it (kept in the
/// browser's localStorage), and shows upload and job progress, renditions, warnings, or the
/// error code with its message.
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
    </style>
    <h1>Kiln</h1>
    <form id="form">
      <fieldset>
        <label>API key <input id="key" size="50" autocomplete="off" placeholder="kiln_..."></label>
      </fieldset>
      <fieldset>
        <label>Files <input id="files" type="file" multiple></label>
        <label>Preset <select id="preset"><option>default</option></select></label>
        <label>Fit <select id="fit"><option>reject</option><option>crop</option><option>pad</option></select></label>
        <label><input id="carousel" type="checkbox"> one carousel</label>
        <button id="send">Upload</button>
      </fieldset>
    </form>
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
        if (body.data.status === "succeeded") { await showData(box, body.data.media); return; }
        if (body.data.error) { showError(box, body.data.error); return; }
      }
    }

    function upload(files, route) {
      const box = document.createElement("div");
      box.className = "item";
      box.append(text("p", Array.from(files).map(f => f.name).join(", ")));
      const bar = document.createElement("progress");
      bar.max = 1; bar.value = 0; box.append(bar);
      $("results").prepend(box);
      const form = new FormData();
      form.append("preset", $("preset").value);
      form.append("fit", $("fit").value);
      for (const f of files) form.append("file", f, f.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", route);
      xhr.setRequestHeader("Authorization", auth().Authorization);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
      // data-done marks the end of every outcome (shown result or error), for people and tests.
      xhr.onload = async () => {
        bar.value = 1;
        try {
          const body = JSON.parse(xhr.responseText);
          if (!body.success) showError(box, body.error);
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

    $("form").addEventListener("submit", (event) => {
      event.preventDefault();
      localStorage.setItem("kiln-key", $("key").value.trim());
      const files = $("files").files;
      if (!files.length) return;
      if ($("carousel").checked) upload(files, "/v1/carousels");
      else for (const f of files) upload([f], "/v1/media");
    });
    </script>
    </html>
    """#
}
