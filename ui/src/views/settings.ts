// Settings: model, vector store (with a connection test), Milvus index,
// thumbnail size and theme. Library settings live in the catalog (the core
// keeps them); display settings in the web view's local storage.

import { api, commandError, onDownload, type IndexConfig, type Overview, type StoreInput } from '../api';

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

export interface Display {
  cellSize: number;
  theme: 'system' | 'light' | 'dark';
  k: number;
  minSimilarity: number;
}

const KEY = 'photofinder.display';

export function loadDisplay(): Display {
  const defaults: Display = { cellSize: 160, theme: 'system', k: 24, minSimilarity: 0 };
  try {
    return { ...defaults, ...JSON.parse(localStorage.getItem(KEY) ?? '{}') };
  } catch {
    return defaults;
  }
}

export function saveDisplay(d: Display): void {
  localStorage.setItem(KEY, JSON.stringify(d));
}

export function applyTheme(theme: Display['theme']): void {
  const dark = theme === 'dark' || (theme === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

/** `a=1, b=2` to {a: '1', b: '2'}. */
export function parseParams(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/[,\s]+/)) {
    const [k, v] = part.split('=');
    if (k && v !== undefined && v !== '') out[k.trim()] = v.trim();
  }
  return out;
}

function formatParams(p: Record<string, string> | undefined): string {
  return Object.entries(p ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
}

export class SettingsView {
  readonly element = document.createElement('div');

  constructor(
    private display: Display,
    private onDisplay: (d: Display) => void,
    private onChanged: () => void,
    private report: (message: string, error?: boolean) => void,
  ) {
    this.element.className = 'settings';
  }

  render(o: Overview): void {
    const e = this.element;
    e.replaceChildren();
    e.append(this.modelSection(o), this.storeSection(o), this.videoSection(o), this.displaySection(), this.aboutSection(o));
  }

  /** The version of photofinder, of ONNX Runtime and of each installed model's weights. */
  private aboutSection(o: Overview): HTMLElement {
    const s = this.section('About', 'To upgrade, install the new package: the library, its settings and downloaded models are kept, and the library is brought up to date when it opens.');
    s.classList.add('about');
    const list = document.createElement('ul');
    list.className = 'versions';
    for (const line of o.about) {
      const li = document.createElement('li');
      li.textContent = line;
      list.append(li);
    }
    s.append(list);
    return s;
  }

  private section(title: string, help: string): HTMLElement {
    const s = document.createElement('section');
    const h = document.createElement('h3');
    h.textContent = title;
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = help;
    s.append(h, p);
    return s;
  }

  private modelSection(o: Overview): HTMLElement {
    const s = this.section('Model', 'The image model that embeds your photos. Switching re-embeds the library in the background; vectors of other models are kept. Models with a text tower also answer typed words.');
    for (const m of o.models) {
      const row = document.createElement('div');
      row.className = 'model-row';
      row.dataset.model = m.name;
      const label = document.createElement('label');
      label.className = 'radio-row';
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'model';
      radio.value = m.name;
      radio.checked = m.name === o.status.model;
      radio.disabled = !m.installed;
      radio.addEventListener('change', async () => {
        try {
          await api.setModel(m.name);
          this.report(`Using ${m.name}; indexing with it in the background.`);
          this.onChanged();
        } catch (err) {
          this.report(String(err), true);
        }
      });
      const text = document.createElement('span');
      const notes = [`${m.dim}-d`];
      if (!m.installed && !m.hub) notes.push('not installed: run models/install.sh (see README)');
      if (m.provenance?.weights === 'random') notes.push('random weights: for testing only');
      if (m.text_installed) notes.push('text search');
      if (m.multilingual) notes.push('many languages');
      text.textContent = `${m.title} (${notes.join(', ')})`;
      label.append(radio, text);
      row.append(label);
      if (m.note) {
        const note = document.createElement('div');
        note.className = 'muted model-note';
        note.textContent = m.note;
        row.append(note);
      }
      const needsDownload = m.hub && (!m.installed || m.text_installed === false);
      if (needsDownload && m.hub) row.append(this.downloadControls(m.name, m.hub.size_mb));
      s.append(row);
    }
    s.append(this.mirrorForm(o));
    return s;
  }

  /** Download button, then a progress bar with Cancel; the list is redrawn once installed. */
  private downloadControls(name: string, sizeMb: number): HTMLElement {
    const box = document.createElement('div');
    box.className = 'download';
    const button = document.createElement('button');
    button.type = 'button';
    const label = `Download (about ${sizeMb >= 1000 ? `${(sizeMb / 1000).toFixed(1)} GB` : `${sizeMb} MB`})`;
    button.textContent = label;
    const bar = document.createElement('progress');
    bar.max = 1;
    bar.value = 0;
    bar.hidden = true;
    const status = document.createElement('span');
    status.className = 'muted download-status';
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.textContent = 'Cancel';
    cancel.hidden = true;
    cancel.addEventListener('click', () => void api.cancelDownload());
    button.addEventListener('click', async () => {
      button.disabled = true;
      bar.hidden = false;
      cancel.hidden = false;
      status.textContent = 'connecting…';
      const stop = await onDownload((p) => {
        if (p.model !== name) return;
        bar.value = p.total > 0 ? p.done / p.total : 0;
        status.textContent = `${megabytes(p.done)} of ${megabytes(p.total)}`;
      });
      try {
        await api.installModel(name);
        this.report(`${name} is installed and verified. Pick it above to embed your photos with it.`);
        this.onChanged();
      } catch (err) {
        const e = commandError(err);
        status.textContent = e.kind === 'cancelled' ? 'cancelled: Download resumes where it stopped' : e.message;
        status.classList.toggle('error', e.kind !== 'cancelled');
        bar.hidden = e.kind !== 'cancelled';
        button.textContent = e.kind === 'cancelled' ? 'Resume download' : label;
        button.disabled = false;
        cancel.hidden = true;
      } finally {
        stop();
      }
    });
    box.append(button, bar, status, cancel);
    return box;
  }

  private mirrorForm(o: Overview): HTMLElement {
    const form = document.createElement('form');
    form.className = 'mirror-form';
    const label = document.createElement('label');
    label.textContent = 'Download models from ';
    const input = document.createElement('input');
    input.name = 'mirror';
    input.placeholder = 'https://huggingface.co';
    input.value = o.model_hub === 'https://huggingface.co' ? '' : o.model_hub;
    input.disabled = o.model_hub_from_env;
    label.append(input);
    const save = document.createElement('button');
    save.type = 'submit';
    save.textContent = 'Save';
    save.disabled = o.model_hub_from_env;
    const help = document.createElement('p');
    help.className = 'muted';
    help.textContent = o.model_hub_from_env
      ? `PHOTOFINDER_MODEL_MIRROR sets it to ${o.model_hub}.`
      : 'Empty for Hugging Face; or a mirror with its API (a company proxy, a local copy).';
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const hub = await api.setModelMirror(input.value.trim());
        this.report(`Models download from ${hub}.`);
      } catch (err) {
        this.report(commandError(err).message, true);
      }
    });
    form.append(label, save, help);
    return form;
  }

  private storeSection(o: Overview): HTMLElement {
    const s = this.section('Vector store', 'Embedded keeps vectors in the library folder and needs nothing else. Milvus uses a server: the one from docker-compose.yml, or any Milvus server or cluster.');
    const milvus = o.store.kind === 'milvus' ? o.store : null;
    const form = document.createElement('form');
    form.className = 'store-form';
    form.innerHTML = `
      <label class="radio-row"><input type="radio" name="store" value="embedded"> Embedded (default)</label>
      <label class="radio-row"><input type="radio" name="store" value="milvus"> Milvus</label>
      <div class="milvus-fields">
        <label>URI <input name="uri" placeholder="http://127.0.0.1:19530"></label>
        <label>Token <input name="token" type="password" autocomplete="off" placeholder="(none)"></label>
        <label>Database <input name="database" placeholder="default"></label>
        <label>Index <select name="kind">
          <option>AUTO</option><option>FLAT</option><option>IVF_FLAT</option><option>IVF_SQ8</option><option>IVF_PQ</option><option>HNSW</option>
        </select></label>
        <label>Build parameters <input name="build" placeholder="nlist=1024  or  M=16, efConstruction=200"></label>
        <label>Search parameters <input name="search" placeholder="nprobe=16  or  ef=64"></label>
      </div>
      <div class="buttons">
        <button type="button" name="test">Test connection</button>
        <button type="button" name="apply-index">Rebuild index</button>
        <button type="submit" class="primary">Save</button>
      </div>
      <div class="store-result muted"></div>`;
    const field = (n: string) => form.elements.namedItem(n) as HTMLInputElement;
    (form.querySelector(`input[value="${milvus ? 'milvus' : 'embedded'}"]`) as HTMLInputElement).checked = true;
    field('uri').value = milvus?.uri ?? 'http://127.0.0.1:19530';
    field('database').value = milvus?.database ?? '';
    (form.elements.namedItem('kind') as HTMLSelectElement).value = milvus?.index?.kind ?? 'AUTO';
    field('build').value = formatParams(milvus?.index?.build);
    field('search').value = formatParams(milvus?.index?.search);
    const result = form.querySelector('.store-result') as HTMLElement;
    const index = (): IndexConfig => ({
      kind: (form.elements.namedItem('kind') as HTMLSelectElement).value,
      build: parseParams(field('build').value),
      search: parseParams(field('search').value),
    });
    const choice = (): StoreInput =>
      (form.querySelector('input[name="store"]:checked') as HTMLInputElement).value === 'embedded'
        ? { kind: 'embedded' }
        : {
            kind: 'milvus',
            uri: field('uri').value.trim(),
            // Empty keeps a stored token: the core reads '***' as "unchanged".
            token: field('token').value || (milvus?.token ? '***' : null),
            database: field('database').value.trim() || null,
            index: index(),
          };
    (form.elements.namedItem('test') as HTMLButtonElement).addEventListener('click', async () => {
      result.textContent = 'Connecting…';
      try {
        const names = await api.testStore(choice());
        result.textContent = choice().kind === 'embedded' ? 'The embedded store needs no connection.' : `Connected: ${names.length} collections on the server.`;
      } catch (err) {
        result.textContent = `Cannot connect: ${err}`;
      }
    });
    (form.elements.namedItem('apply-index') as HTMLButtonElement).addEventListener('click', async () => {
      result.textContent = 'Rebuilding the index…';
      try {
        await api.setIndex(index());
        result.textContent = 'Index rebuilt.';
      } catch (err) {
        result.textContent = String(err);
      }
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api.setStore(choice());
        this.report('Vector store saved; it is filled from the catalog when first used.');
        this.onChanged();
      } catch (err) {
        this.report(String(err), true);
      }
    });
    s.append(form);
    return s;
  }

  private videoSection(o: Overview): HTMLElement {
    const s = this.section('Videos', 'Videos in your folders are searched by their keyframes: one every few seconds, and one at each cut between shots. Changing this indexes the videos again.');
    const form = document.createElement('form');
    form.className = 'video-form';
    form.innerHTML = `
      <label>A keyframe every <input name="interval" type="number" min="0.5" max="3600" step="0.5"> seconds</label>
      <label>and at cuts scoring above <input name="scene" type="number" min="0" max="1" step="0.05"> (0: off)</label>
      <label>At most <input name="max" type="number" min="1" step="1"> keyframes per video</label>
      <div class="buttons"><button type="submit">Save</button></div>`;
    const field = (n: string) => form.elements.namedItem(n) as HTMLInputElement;
    field('interval').value = String(o.videos.interval_secs);
    field('scene').value = String(o.videos.scene_threshold);
    field('max').value = String(o.videos.max_frames);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const n = await api.setVideoOptions({
          interval_secs: Number(field('interval').value),
          scene_threshold: Number(field('scene').value),
          max_frames: Number(field('max').value),
        });
        this.report(n ? `Saved; ${n} videos are indexed again.` : 'Saved.');
        this.onChanged();
      } catch (err) {
        this.report(String(err), true);
      }
    });
    s.append(form);
    return s;
  }

  private displaySection(): HTMLElement {
    const s = this.section('Display', 'How the window looks; kept on this computer.');
    const size = document.createElement('label');
    size.textContent = 'Thumbnail size ';
    const range = document.createElement('input');
    range.type = 'range';
    range.min = '96';
    range.max = '320';
    range.step = '16';
    range.value = String(this.display.cellSize);
    range.name = 'cell-size';
    range.addEventListener('input', () => {
      this.display.cellSize = Number(range.value);
      this.onDisplay(this.display);
    });
    size.append(range);
    const theme = document.createElement('label');
    theme.textContent = 'Theme ';
    const select = document.createElement('select');
    select.name = 'theme';
    for (const t of ['system', 'light', 'dark']) {
      const option = document.createElement('option');
      option.value = option.textContent = t;
      option.selected = t === this.display.theme;
      select.append(option);
    }
    select.addEventListener('change', () => {
      this.display.theme = select.value as Display['theme'];
      this.onDisplay(this.display);
    });
    theme.append(select);
    s.append(size, theme);
    return s;
  }
}
