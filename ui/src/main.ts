// The window: top bar (text search, find by photo, views), folders and
// progress on the left, and one of four views: the library, results, the
// map, settings. Every piece of work is a core command; this file only
// wires views to commands and notices.

import { getCurrentWebview } from '@tauri-apps/api/webview';
import { api, onMapReady, onNotice, onQueries, onWork, thumbUrl, type Item, type MapPoint, type Overview, type ExploreMap, type Photo } from './api';
import { text } from './dom';
import { basename } from './format';
import { DuplicatesView } from './views/duplicates';
import { ExploreView } from './views/explore';
import { Grid, LibrarySource } from './views/grid';
import { Preview } from './views/preview';
import { ResultsView } from './views/results';
import { SettingsView, applyTheme, loadDisplay, saveDisplay } from './views/settings';
import { Sidebar } from './views/sidebar';

type ViewName = 'library' | 'results' | 'explore' | 'duplicates' | 'settings';

const display = loadDisplay();
applyTheme(display.theme);

const app = document.getElementById('app')!;
app.innerHTML = `
  <header class="topbar">
    <div class="brand"><img src="/icon.png" alt="" width="24" height="24"> photofinder</div>
    <form class="text-search" role="search">
      <input id="text-query" type="search" placeholder="Describe a photo: a beach at sunset, kitten, dog -grass, flowers 2023…  ( / )" autocomplete="off">
    </form>
    <button id="pick-photo" title="Choose a photo and find similar ones (or drop / paste one anywhere)">Find by photo…</button>
    <nav class="tabs">
      <button data-view="library">Library</button>
      <button data-view="results">Results</button>
      <button data-view="explore">Map</button>
      <button data-view="duplicates">Duplicates</button>
      <button data-view="settings">Settings</button>
    </nav>
  </header>
  <div class="body">
    <div class="sidebar-slot"></div>
    <main>
      <section class="view" data-view="library"><div class="empty-state hidden" id="welcome">
        <h1>Find photos by what they show</h1>
        <p>Add a folder of photos. photofinder indexes it on this computer, keeps watching it, and then finds similar photos: drop one onto this window, paste one, or type what you are looking for.</p>
        <button class="primary big" id="welcome-add">Add folder…</button>
        <p class="welcome-model" id="welcome-model"></p>
      </div></section>
      <section class="view" data-view="results">
        <div class="results-layout">
          <aside class="query-panel" id="query-panel"><p class="muted">Drop a photo anywhere on the window, paste one, choose one with “Find by photo…”, or type a description above.</p></aside>
          <div class="results-main">
            <div class="results-bar">
              <label>Results <select id="k">${[12, 24, 48, 96, 200].map((k) => `<option ${k === display.k ? 'selected' : ''}>${k}</option>`).join('')}</select></label>
              <label>Minimum similarity <input id="min-sim" type="range" min="0" max="1" step="0.05" value="${display.minSimilarity}"><span id="min-sim-value"></span></label>
              <button id="more-like" disabled>More like these</button>
              <span class="muted" id="results-info"></span>
            </div>
            <div class="results-grid"></div>
          </div>
        </div>
      </section>
      <section class="view" data-view="explore"><div class="explore-layout"><div class="explore-slot"></div><aside class="explore-side"><p class="muted">Click a point to see the photo and its neighbours; Shift-drag to lasso a group.</p></aside></div></section>
      <section class="view" data-view="duplicates"></section>
      <section class="view" data-view="settings"></section>
    </main>
  </div>
  <div class="drop-overlay hidden" id="drop-overlay"><div>Drop a photo to find similar ones</div></div>
  <div class="toast hidden" id="toast"></div>`;

const $ = <T extends HTMLElement>(sel: string) => app.querySelector(sel) as T;
let overview: Overview | null = null;
let current: ViewName = 'library';

// ---- messages

let toastTimer: number | undefined;
function report(message: string, error = false): void {
  const t = $('#toast');
  t.textContent = message;
  t.classList.toggle('error', error);
  t.classList.remove('hidden');
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => t.classList.add('hidden'), error ? 8000 : 3500);
}

// ---- views

const preview = new Preview({
  open: (id) => api.openPhoto(id).catch((e) => report(String(e), true)),
  reveal: (id) => api.revealPhoto(id).catch((e) => report(String(e), true)),
  similar: (id) => resultsView.run(api.searchPhoto(id, display.k), { kind: 'photo', id }),
  similarPart: (id, part) => resultsView.run(api.searchPhotoRegion(id, display.k, part), { kind: 'photo', id }),
});
document.body.append(preview.element);

const library = new LibrarySource((offset, limit) => api.photos(offset, limit));
const libraryGrid = new Grid(library, {
  cellSize: () => display.cellSize,
  selectable: false,
  emptyText: 'No photos indexed yet.',
  onOpen: (_item, index) => {
    const items: Item[] = [];
    for (let i = Math.max(0, index - 100); i < Math.min(library.count(), index + 100); i++) {
      const it = library.get(i);
      if (it) items.push(it);
    }
    preview.open(items, items.findIndex((i) => i.id === library.get(index)?.id));
  },
});
$('section[data-view="library"]').append(libraryGrid.element);

const resultsView = new ResultsView($('section[data-view="results"]'), display, {
  report,
  show: () => show('results'),
  // Words typed for an earlier query would read as this one's.
  newQuery: (from) => {
    if (from?.kind !== 'text') $<HTMLInputElement>('#text-query').value = '';
  },
  highlight: (ids) => explore.highlight(ids),
  openPreview: (items, index) => preview.open(items, index),
  canCombine: () => overview?.models.some((m) => m.text_installed && m.installed) ?? false,
});

const explore = new ExploreView({
  onPick: async (point) => {
    const side = $('.explore-side');
    side.replaceChildren(text('h3', basename(point.path)));
    const img = document.createElement('img');
    img.className = 'explore-photo';
    img.src = thumbUrl(point.hash);
    side.append(img);
    try {
      const r = await api.searchPhoto(point.id, 13);
      explore.highlight([point.id, ...r.hits.map((h) => h.id)]);
      side.append(text('p', 'Nearest photos', 'muted'));
      side.append(miniGrid(r.hits.filter((h) => h.id !== point.id)));
    } catch (e) {
      side.append(text('p', String(e), 'error'));
    }
  },
  onLasso: (points) => {
    const side = $('.explore-side');
    side.replaceChildren(text('h3', `${points.length} photos selected`));
    const ids = points.map((p) => p.id);
    const more = document.createElement('button');
    more.textContent = 'More like these';
    more.addEventListener('click', () => resultsView.run(api.searchMany(ids.slice(0, 200), display.k), null));
    side.append(more, miniGrid(points.slice(0, 300).map(photoOfPoint)));
  },
});
$('.explore-slot').append(explore.element);

const settings = new SettingsView(
  display,
  (d) => {
    saveDisplay(d);
    applyTheme(d.theme);
    libraryGrid.refresh();
    resultsView.refresh();
  },
  () => void refresh(),
  report,
);
$('section[data-view="settings"]').append(settings.element);

const duplicates = new DuplicatesView({
  find: (d) => api.duplicates(d),
  cancel: () => void api.cancelWork(),
  trash: async (ids) => {
    const r = await api.trash(ids);
    await refresh();
    return r;
  },
  open: (items, index) => preview.open(items, index),
  confirm: (message) => confirm(message),
  report,
});
$('section[data-view="duplicates"]').append(duplicates.element);
void onWork((p) => {
  duplicates.setProgress(p);
  explore.setProgress(p);
});

const sidebar = new Sidebar({
  addFolder: () => addFolder(),
  removeFolder: async (path) => {
    if (!confirm(`Stop watching ${path}?\nThe photos stay on disk; they leave the library.`)) return;
    try {
      await api.removeFolder(path);
      await refresh();
    } catch (e) {
      report(String(e), true);
    }
  },
  pause: () => void api.pause(),
  resume: () => void api.resume(),
  stop: () => void api.stop(),
  rescan: () => void api.rescan(),
});
$('.sidebar-slot').replaceWith(sidebar.element);

/** A point of the map as a photo to show (its thumbnail and path). */
function photoOfPoint(p: MapPoint): Photo {
  return { id: p.id, path: p.path, hash: p.hash, size: 0, modified: 0, duration_ms: null, frame: null, width: null, height: null, format: null, taken_at: null, camera: null, lens: null, also: [], live: null };
}

function miniGrid(items: Item[]): HTMLElement {
  const box = document.createElement('div');
  box.className = 'mini-grid';
  items.forEach((item, i) => {
    const img = document.createElement('img');
    img.src = thumbUrl(item.hash);
    img.title = item.path + ('distance' in item ? `\ndistance ${item.distance.toFixed(4)}` : '');
    img.addEventListener('click', () => preview.open(items, i));
    box.append(img);
  });
  return box;
}

function show(view: ViewName): void {
  current = view;
  app.querySelectorAll<HTMLElement>('.view').forEach((v) => v.classList.toggle('active', v.dataset.view === view));
  app.querySelectorAll<HTMLElement>('.tabs button').forEach((b) => b.classList.toggle('active', b.dataset.view === view));
  document.body.dataset.view = view;
  if (view === 'library') libraryGrid.refresh();
  if (view === 'results') resultsView.refresh();
  if (view === 'explore') void loadMap();
  if (view === 'settings' && overview) settings.render(overview);
}
app.querySelectorAll<HTMLElement>('.tabs button').forEach((b) => b.addEventListener('click', () => show(b.dataset.view as ViewName)));

// ---- library state

let refreshing: Promise<void> | null = null;
async function refresh(): Promise<void> {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      overview = await api.overview();
      const s = overview.status;
      sidebar.setFolders(s.folders);
      sidebar.setProblems(s.problems);
      sidebar.setPending(s.pending);
      sidebar.setState(overview.engine);
      $('#welcome').classList.toggle('hidden', s.folders.length > 0);
      showReadiness(overview);
      libraryGrid.element.classList.toggle('hidden', s.folders.length === 0);
      // A RAW beside its JPEG is one photo of the grid.
      library.setTotal(s.shown);
      library.invalidate();
      document.body.dataset.indexed = String(s.indexed);
      if (current === 'library') libraryGrid.refresh();
      if (current === 'settings') settings.render(overview);
    } catch (e) {
      report(`Cannot read the library: ${e}`, true);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Whether photos can be indexed here: the model that will be used, or what is missing and what to do. */
let reportedProblem: string | null = null;
function showReadiness(o: Overview): void {
  const line = $('#welcome-model');
  const model = o.models.find((m) => m.name === o.status.model);
  line.classList.toggle('error', o.setup_problem != null);
  if (o.setup_problem) {
    line.textContent = `Photos cannot be indexed yet: ${o.setup_problem}`;
    // Past the welcome, said once (refresh runs on every change).
    if (o.status.folders.length > 0 && reportedProblem !== o.setup_problem) report(line.textContent, true);
    reportedProblem = o.setup_problem;
  } else {
    line.textContent = `Ready, offline: ${model?.title ?? o.status.model}${model?.bundled ? ', installed with the app' : ''}.`;
  }
}

async function addFolder(): Promise<void> {
  try {
    const folder = await api.pickFolder();
    if (folder) {
      report(`Watching ${folder}; indexing starts now.`);
      await refresh();
      show('library');
    }
  } catch (e) {
    report(String(e), true);
  }
}
$('#welcome-add').addEventListener('click', () => addFolder());

// ---- searching

/** The drop handler's path: search with dropped files (the first image). Exposed for the end-to-end tests. */
async function searchDropped(paths: string[]): Promise<void> {
  const path = paths.find((p) => /\.(jpe?g|png|webp|gif|bmp|tiff?|heic|heif|avif|jxl|dng|cr[23]|nef|arw|orf|raf|rw2)$/i.test(p)) ?? paths[0];
  if (path) await resultsView.run(api.searchPath(path, display.k), { kind: 'photo', path });
}
/** Zoom the map in on its first photo (for the end-to-end tests). */
const zoomMap = (distance: number) => explore.zoomTo(0, distance);
/** The photos drawn on the map (for the end-to-end tests). */
const mapPhotos = () => explore.drawnPhotos();
/** Draw a map made elsewhere (the window test's 100k-point map, for frame times). */
const showMap = (map: ExploreMap) => explore.show(map);
(window as unknown as { photofinder: object }).photofinder = { searchDropped, zoomMap, mapPhotos, showMap, mapNow: () => explore.current(), zoomMapTo: (i: number, d: number) => explore.zoomTo(i, d) };

/** Photos handed to the app from outside (`--query FILE`, "Open with", a second launch): searched as if dropped. */
async function searchHandedOver(): Promise<void> {
  const paths = await api.takeQueries().catch(() => []);
  if (paths.length) await searchDropped(paths);
}
void onQueries(() => void searchHandedOver());

$('#pick-photo').addEventListener('click', async () => {
  const r = api.pickAndSearch(display.k);
  const picked = await r.catch(() => null);
  await resultsView.run(r, picked ? { kind: 'photo', path: picked.query } : null);
});
$('.text-search').addEventListener('submit', (e) => {
  e.preventDefault();
  const q = $<HTMLInputElement>('#text-query').value.trim();
  if (q) void resultsView.run(api.searchText(q, display.k), { kind: 'text', query: q });
});
$('#k').addEventListener('change', () => {
  display.k = Number($<HTMLSelectElement>('#k').value);
  saveDisplay(display);
});
const minSim = $<HTMLInputElement>('#min-sim');
const showMinSim = () => ($('#min-sim-value').textContent = Number(minSim.value).toFixed(2));
showMinSim();
minSim.addEventListener('input', () => {
  display.minSimilarity = Number(minSim.value);
  saveDisplay(display);
  showMinSim();
  resultsView.render();
});

document.addEventListener('paste', (e) => {
  const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
  if (!file) return;
  e.preventDefault();
  void file.arrayBuffer().then((b) => resultsView.searchPasted(new Uint8Array(b)));
});

document.addEventListener('keydown', (e) => {
  const typing = (e.target as HTMLElement).closest('input, select, textarea');
  if (e.key === '/' && !typing) {
    e.preventDefault();
    $<HTMLInputElement>('#text-query').focus();
  }
});

// A drop's files come as handed-over photos (`onQueries`): the app reads
// their names exactly, where this event's paths would lose the bytes of a
// name that is not UTF-8.
const overlay = $('#drop-overlay');
void getCurrentWebview().onDragDropEvent((e) => {
  const p = e.payload;
  if (p.type === 'enter' || p.type === 'over') overlay.classList.remove('hidden');
  else overlay.classList.add('hidden');
});

// ---- the map

let mapLoadedAt = -1;
async function loadMap(): Promise<void> {
  const indexed = overview?.status.indexed ?? 0;
  if (indexed === mapLoadedAt) return;
  if (indexed < 2) {
    $('.explore-side').replaceChildren(text('p', 'The map needs at least two indexed photos.', 'muted'));
    return;
  }
  try {
    const map = await api.explore();
    // A pending map is shown, but asked for again when the new layout is in place.
    mapLoadedAt = map.pending ? -1 : indexed;
    await explore.show(map);
    resultsView.render();
  } catch (e) {
    report(`Cannot draw the map: ${e}`, true);
  }
}

void onMapReady((error) => {
  if (error) {
    explore.layoutEnded();
    report(error.kind === 'cancelled' ? 'The new map was not laid out (stopped).' : `Cannot lay out the map: ${error}`, error.kind !== 'cancelled');
    return;
  }
  mapLoadedAt = -1;
  if (current === 'explore') void loadMap();
});

// ---- notices from the core

let refreshTimer: number | undefined;
function refreshSoon(): void {
  clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(() => void refresh(), 300);
}

void onNotice((n) => {
  switch (n.kind) {
    case 'progress':
      sidebar.setProgress(n.progress);
      break;
    case 'state':
      sidebar.setState(n.state);
      refreshSoon();
      break;
    case 'changed':
      refreshSoon();
      break;
    case 'event':
      // Broken files are listed in the sidebar; these need attention now.
      if (n.event.event === 'unreadable' || n.event.event === 'store_behind') {
        const where = 'path' in n.event ? basename(n.event.path) + ': ' : '';
        report(`${where}${n.event.error}`, true);
      } else if (n.event.event === 'waiting_for_writer') {
        // Another photofinder (a `watch`, a script) is changing the library.
        report(`Waiting for ${n.event.holder}`, false);
      }
      refreshSoon();
      break;
  }
});

show('library');
void refresh();
void searchHandedOver();
