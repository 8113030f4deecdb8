// The results view: the answers to a query (photo, text, photo + text, more
// like these), the query panel beside them, and the person's marks, which
// ask again with the query moved toward the good and away from the bad.
// It owns the results section of the page (`#query-panel`, `.results-grid`,
// `#results-info`, `#more-like`); what to search comes from outside.

import { api, thumbUrl, type Feedback, type Item, type Region, type SearchResults, type Seed, type TextResults } from '../api';
import { text } from '../dom';
import { basename } from '../format';
import { Grid, ListSource, type Mark } from './grid';
import { markableRegion } from './region';
import type { Display } from './settings';

export interface ResultsHandlers {
  report(message: string, error?: boolean): void;
  /** Bring the results view to the front. */
  show(): void;
  /** The results of a new query are shown (not the last query refined): `from` is what asked. */
  newQuery(from: Seed | null): void;
  /** Mark these photos on the map. */
  highlight(ids: number[]): void;
  openPreview(items: Item[], index: number): void;
  /** Whether CLIP with its text tower is installed (photo + words). */
  canCombine(): boolean;
}

export class ResultsView {
  private readonly source = new ListSource();
  private readonly grid: Grid;
  private last: SearchResults | TextResults | null = null;
  /** What the results came from: marks refine it. */
  private seed: Seed | null = null;
  /** The image a pasted query was, to ask again with a part of it. */
  private pasted: Uint8Array | null = null;
  private readonly marks = new Map<number, Mark>();

  constructor(
    private readonly section: HTMLElement,
    private readonly display: Display,
    private readonly h: ResultsHandlers,
  ) {
    this.grid = new Grid(this.source, {
      cellSize: () => display.cellSize,
      selectable: true,
      emptyText: 'No results yet.',
      onOpen: (_item, index) => h.openPreview(this.source.items, index),
      marks: {
        get: (id) => this.marks.get(id),
        set: (item, mark) => {
          if (!this.seed) return h.report('This query cannot be refined (a pasted image): drop or choose the photo instead.', true);
          if (mark) this.marks.set(item.id, mark);
          else this.marks.delete(item.id);
          void this.refine();
        },
      },
      onSelectionChange: (ids) => {
        const b = this.$<HTMLButtonElement>('#more-like');
        b.disabled = ids.length === 0;
        b.textContent = ids.length ? `More like these (${ids.length})` : 'More like these';
      },
    });
    this.$('.results-grid').append(this.grid.element);
    this.$('#more-like').addEventListener('click', () => this.run(api.searchMany(this.grid.selection(), display.k), null));
  }

  private $<T extends HTMLElement>(sel: string): T {
    return this.section.querySelector(sel) as T;
  }

  /** An image pasted into the window: searched with, and kept to search with a part of it. */
  searchPasted(bytes: Uint8Array): Promise<void> {
    return this.run(api.searchPasted(bytes, this.display.k), null, bytes);
  }

  /**
   * Show what `search` answers; a new `from` starts a new query (marks
   * cleared), `undefined` keeps the current one. `pasted` is the image a
   * new query was pasted as.
   */
  async run(search: Promise<SearchResults | TextResults | null>, from?: Seed | null, pasted: Uint8Array | null = null): Promise<void> {
    document.body.classList.add('busy');
    try {
      const r = await search;
      if (!r) return;
      if (from !== undefined) {
        this.seed = from;
        this.pasted = pasted;
        this.marks.clear();
        this.h.newQuery(from);
      }
      this.last = r;
      this.h.show();
      this.render();
    } catch (e) {
      this.h.report(String(e), true);
    } finally {
      document.body.classList.remove('busy');
    }
  }

  /** Lay out again (the cell size or the grid's size changed). */
  refresh(): void {
    this.grid.refresh();
  }

  /** Draw the last results again (the minimum similarity changed, the map was reloaded). */
  render(): void {
    const r = this.last;
    if (!r) return;
    this.source.items = r.hits.filter((hit) => hit.is_query || hit.similarity >= this.display.minSimilarity);
    this.grid.setEmptyText('method' in r ? noMatch(r) : 'No photo is that close: lower the minimum similarity.');
    this.grid.clearSelection();
    this.grid.refresh();
    const panel = this.$('#query-panel');
    panel.replaceChildren();
    panel.append(this.marksPanel());
    if ('method' in r) {
      panel.append(text('h3', `“${r.query}”`));
      const answered = r.matched.slice(0, 6).map((m) => `${m.name} ${m.weight.toFixed(2)}`).join(', ');
      const more = r.matched.length > 6 ? ` and ${r.matched.length - 6} more` : '';
      panel.append(text('p', r.method === 'clip' ? `Searched with CLIP (${r.model}).` : `Searched by labels (${r.model})${answered ? `: ${answered}${more}` : ''}.`, 'search-method'));
      if (r.understood.length) panel.append(text('p', `Also: ${r.understood.join(' · ')}.`, 'search-understood'));
      if (r.note) panel.append(text('p', r.note, 'muted'));
    } else {
      panel.append(this.queryPhoto(r), text('h3', basename(r.query)), text('p', r.query, 'muted path'));
      const search = this.searchWith();
      if (r.region && search) {
        const whole = document.createElement('button');
        whole.textContent = 'Search with the whole photo';
        whole.addEventListener('click', () => void this.run(search(null), undefined));
        panel.append(text('p', 'Searched with the marked part.', 'muted'), whole);
      } else if (search) {
        panel.append(text('p', 'Drag on the photo to search with a part of it.', 'muted hint'));
      }
      panel.append(text('p', `${r.model} · ${r.store} store · ${r.metric}`, 'muted'));
      if (this.seed && this.seed.kind !== 'text') panel.append(this.combineForm(this.seed));
    }
    this.$('#results-info').textContent = `${this.source.items.length} of ${r.hits.length} shown · ${r.millis.toFixed(0)} ms`;
    document.body.dataset.results = String(this.source.items.length);
    this.h.highlight([...('query_id' in r && r.query_id != null ? [r.query_id] : []), ...r.hits.map((hit) => hit.id)]);
  }

  /**
   * How the current photo query is asked again, whole (`null`) or for a
   * part: a dropped or chosen file by its path, a library photo by its id,
   * a pasted image by its bytes; `null` where there is no photo to go back to.
   */
  private searchWith(): ((part: Region | null) => Promise<SearchResults>) | null {
    const k = this.display.k;
    const seed = this.seed;
    if (this.pasted) {
      const bytes = this.pasted;
      return (part) => api.searchPasted(bytes, k, part);
    }
    if (seed?.kind !== 'photo') return null;
    if (seed.path) {
      const path = seed.path;
      return (part) => api.searchPath(path, k, part);
    }
    if (seed.id != null) {
      const id = seed.id;
      return (part) => (part ? api.searchPhotoRegion(id, k, part) : api.searchPhoto(id, k));
    }
    return null;
  }

  /**
   * The query photo, with the part searched with marked on it; where the
   * query can be asked again (a file dropped or chosen, a library photo, a
   * pasted image), dragging a rectangle on it searches with that part only.
   */
  private queryPhoto(r: SearchResults): HTMLElement {
    const frame = document.createElement('div');
    frame.className = 'query-frame';
    const img = document.createElement('img');
    img.className = 'query-photo';
    img.src = thumbUrl(r.query_hash);
    img.alt = basename(r.query);
    img.draggable = false;
    frame.append(img);
    const search = this.searchWith();
    markableRegion(frame, img, search ? (part) => void this.run(search(part), undefined) : null, r.region);
    return frame;
  }

  /** "Learning from your marks": what is marked, and a way to start over. */
  private marksPanel(): HTMLElement {
    const box = document.createElement('div');
    box.className = 'marks-panel';
    if (!this.seed) return box;
    const good = [...this.marks.values()].filter((m) => m === 'good').length;
    const bad = this.marks.size - good;
    if (this.marks.size === 0) {
      box.append(text('p', 'Mark results with + (more like this) or − (less like this): the results learn from your marks.', 'muted'));
      return box;
    }
    box.append(text('p', `Learning from your marks: ${good} more like, ${bad} less like.`));
    const clear = document.createElement('button');
    clear.textContent = 'Clear marks';
    clear.addEventListener('click', () => {
      this.marks.clear();
      void this.refine();
    });
    box.append(clear);
    return box;
  }

  /** "Like this photo, but …": the photo and words together (CLIP). */
  private combineForm(from: Seed): HTMLElement {
    const form = document.createElement('form');
    form.className = 'combine';
    const clip = this.h.canCombine();
    form.innerHTML = `<label>…and <input name="text" placeholder="at night, in snow, in black and white" ${clip ? '' : 'disabled'}></label><button ${clip ? '' : 'disabled'}>Combine</button>`;
    if (!clip) form.title = 'Needs CLIP with its text tower (see README: Models)';
    const input = form.querySelector('input') as HTMLInputElement;
    if (from.kind === 'combined') input.value = from.text;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const words = input.value.trim();
      if (!words) return;
      const base = from.kind === 'combined' || from.kind === 'photo' ? { id: from.id ?? null, path: from.path ?? null } : {};
      const next: Seed = { kind: 'combined', ...base, text: words, weight: 1 };
      void this.run(api.refine(next, { good: [], bad: [] }, this.display.k), next);
    });
    return form;
  }

  private feedback(): Feedback {
    const out: Feedback = { good: [], bad: [] };
    this.marks.forEach((m, id) => out[m].push(id));
    return out;
  }

  /** Ask again with the marks (the seed stays, the marks are kept). */
  private async refine(): Promise<void> {
    if (this.seed) await this.run(api.refine(this.seed, this.feedback(), this.display.k), undefined);
  }
}

/** What a text search that found nothing says: why, and what would work. */
export function noMatch(r: TextResults): string {
  const asked = `No photo matched “${r.query}”.`;
  if (r.hits.length > 0) return 'No photo is that close: lower the minimum similarity.';
  if (r.method === 'clip') return `${asked} Try other words, or fewer of the limits (dates, types, folders).`;
  if (r.matched.length > 0) {
    const names = r.matched.slice(0, 4).map((m) => m.name).join(', ');
    return `${asked} It means ${names}, but no photo in the library shows ${r.matched.length > 1 ? 'them' : 'it'}${r.understood.length ? ` with ${r.understood.join(', ')}` : ''}.`;
  }
  return `${asked} Searching by labels knows the 1000 ImageNet kinds of things and their families: try words such as dog, bird, car, beach, flower or food. Install CLIP (models/install.sh --download) to search by any words.`;
}
