// A virtualised thumbnail grid: only the rows in view exist in the DOM, so a
// library of 100k photos scrolls like one of 100. Items come from a source
// that may load them page by page.

import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from '@tanstack/virtual-core';
import { thumbUrl, type Photo, type Hit, type Item } from '../api';
import { barPercent, basename, clock, columnsFor, formatBytes } from '../format';

export type { Item };

export interface GridSource {
  count(): number;
  /** The item at `index`, or undefined while its page loads (then `load` is called). */
  get(index: number): Item | undefined;
  load?(index: number): Promise<void>;
}

export interface GridOptions {
  cellSize: () => number;
  selectable: boolean;
  onOpen: (item: Item, index: number) => void;
  onSelectionChange?: (ids: number[]) => void;
  emptyText: string;
  /** Good/bad marks on results ("more like this" that learns): the mark
   * an item has, and what to do when the person changes it. */
  marks?: {
    get: (id: number) => Mark | undefined;
    set: (item: Item, mark: Mark | undefined) => void;
  };
}

export type Mark = 'good' | 'bad';

/** The film badge of a video or of a moment in one: its time, or its length. */
export function filmBadge(item: Item): HTMLElement | null {
  const at = item.frame?.at_ms;
  const length = item.duration_ms;
  if (at == null && length == null) return null;
  const badge = document.createElement('span');
  badge.className = 'film';
  badge.textContent = `▶ ${clock(at ?? length ?? 0)}`;
  badge.title = at != null ? `A moment of a video, at ${clock(at)}` : `A video, ${clock(length ?? 0)} long`;
  return badge;
}

/** The badges of a photo that is more than one file: "LIVE" (a Live Photo
 * or a motion photo) and "RAW" (a RAW shot with its JPEG), or null. */
export function kindBadges(item: Item): HTMLElement | null {
  const raw = item.also.find((p) => RAW_NAME.test(p));
  if (!item.live && !raw && item.format !== 'raw') return null;
  const box = document.createElement('span');
  box.className = 'kinds';
  if (item.live) {
    const live = document.createElement('span');
    live.className = 'kind live';
    live.textContent = 'LIVE';
    live.title = item.live === item.path ? 'A motion photo: it carries a video of the moment' : `A Live Photo: its moment is ${basename(item.live)}`;
    box.append(live);
  }
  if (raw || item.format === 'raw') {
    const tag = document.createElement('span');
    tag.className = 'kind raw';
    tag.textContent = raw ? 'RAW+JPEG' : 'RAW';
    tag.title = raw ? `Shot as RAW too: ${basename(raw)}` : 'A camera RAW';
    box.append(tag);
  }
  return box;
}

/** File names of camera RAWs (as the core's decode::RAW_EXTENSIONS). */
export const RAW_NAME = /\.(dng|cr2|cr3|crw|nef|nrw|arw|srf|sr2|orf|raf|rw2|rwl|pef|srw|erf|3fr|iiq|mos|mef|mrw|x3f|kdc|dcr)$/i;

const CAPTION = 46;
const GAP = 8;

export class Grid {
  readonly element: HTMLElement;
  private inner: HTMLElement;
  private virtualizer: Virtualizer<HTMLElement, HTMLElement>;
  private columns = 1;
  private focused = -1;
  private selected = new Set<number>();
  private cleanup: () => void;
  private pending = new Set<number>();

  constructor(private source: GridSource, private options: GridOptions) {
    this.element = document.createElement('div');
    this.element.className = 'grid';
    this.element.tabIndex = 0;
    this.element.setAttribute('role', 'grid');
    this.inner = document.createElement('div');
    this.inner.className = 'grid-inner';
    this.element.append(this.inner);
    this.virtualizer = new Virtualizer<HTMLElement, HTMLElement>({
      count: 0,
      getScrollElement: () => this.element,
      estimateSize: () => this.rowHeight(),
      overscan: 3,
      observeElementRect,
      observeElementOffset,
      scrollToFn: elementScroll,
      onChange: () => this.render(),
    });
    this.cleanup = this.virtualizer._didMount();
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.refresh()).observe(this.element);
  }

  destroy(): void {
    this.cleanup();
  }

  selection(): number[] {
    return [...this.selected];
  }

  clearSelection(): void {
    this.selected.clear();
    this.options.onSelectionChange?.([]);
    this.render();
  }

  /** The source changed (new results, more photos): lay out again. */
  refresh(): void {
    const width = this.element.clientWidth || 800;
    this.columns = columnsFor(width - GAP * 2, this.options.cellSize(), GAP);
    const rows = Math.ceil(this.source.count() / this.columns);
    this.virtualizer.setOptions({ ...this.virtualizer.options, count: rows, estimateSize: () => this.rowHeight() });
    this.virtualizer.measure();
    this.virtualizer._willUpdate();
    this.render();
  }

  private rowHeight(): number {
    return this.options.cellSize() + CAPTION + GAP;
  }

  /** What an empty grid says (a search that found nothing says why). */
  setEmptyText(text: string): void {
    this.options.emptyText = text;
  }

  private render(): void {
    const count = this.source.count();
    this.inner.style.height = `${this.virtualizer.getTotalSize()}px`;
    this.inner.replaceChildren();
    if (count === 0) {
      const empty = document.createElement('div');
      empty.className = 'grid-empty';
      empty.textContent = this.options.emptyText;
      this.inner.append(empty);
      return;
    }
    const cell = this.options.cellSize();
    for (const row of this.virtualizer.getVirtualItems()) {
      for (let c = 0; c < this.columns; c++) {
        const index = row.index * this.columns + c;
        if (index >= count) break;
        const el = this.cell(index, cell);
        el.style.transform = `translate(${GAP + c * (cell + GAP)}px, ${row.start + GAP}px)`;
        this.inner.append(el);
      }
    }
  }

  private cell(index: number, size: number): HTMLElement {
    const item = this.source.get(index);
    const el = document.createElement('figure');
    el.className = 'cell';
    el.style.width = `${size}px`;
    el.dataset.index = String(index);
    el.setAttribute('role', 'gridcell');
    if (index === this.focused) el.classList.add('focused');
    if (!item) {
      el.classList.add('loading');
      el.style.height = `${size}px`;
      if (this.source.load && !this.pending.has(index)) {
        this.pending.add(index);
        this.source.load(index).finally(() => {
          this.pending.delete(index);
          this.render();
        });
      }
      return el;
    }
    el.dataset.id = String(item.id);
    if (this.selected.has(item.id)) el.classList.add('selected');
    const img = document.createElement('img');
    img.src = thumbUrl(item.hash);
    img.alt = basename(item.path);
    img.loading = 'lazy';
    img.style.width = img.style.height = `${size}px`;
    img.draggable = false;
    const caption = document.createElement('figcaption');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = basename(item.path);
    caption.append(name);
    const hit = 'distance' in item ? (item as Hit) : null;
    if (hit) {
      const line = document.createElement('span');
      line.className = 'distance';
      line.textContent = `${hit.distance.toFixed(3)}${hit.is_query ? ' · query' : ''}`;
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('span');
      fill.style.width = `${barPercent(hit.similarity)}%`;
      bar.append(fill);
      caption.append(line, bar);
    }
    const dims = item.width && item.height ? `${item.width}×${item.height}` : '';
    el.title = [item.path, dims, 'size' in item ? formatBytes(item.size) : '', hit ? `distance ${hit.distance.toFixed(4)}, similarity ${hit.similarity.toFixed(3)}` : '']
      .filter(Boolean)
      .join('\n');
    el.append(img, caption);
    const film = filmBadge(item);
    if (film) {
      el.append(film);
      el.classList.add('video');
    }
    const kinds = kindBadges(item);
    if (kinds) el.append(kinds);
    const marks = this.options.marks;
    if (marks) {
      const current = marks.get(item.id);
      if (current) el.classList.add(`marked-${current}`);
      const box = document.createElement('span');
      box.className = 'marks';
      for (const [mark, symbol, label] of [['good', '+', 'More like this'], ['bad', '−', 'Less like this']] as const) {
        const b = document.createElement('button');
        b.className = `mark ${mark}${current === mark ? ' on' : ''}`;
        b.textContent = symbol;
        b.title = label;
        b.setAttribute('aria-pressed', String(current === mark));
        b.addEventListener('click', (e) => {
          e.stopPropagation();
          marks.set(item, current === mark ? undefined : mark);
        });
        box.append(b);
      }
      el.append(box);
    }
    if (this.options.selectable) {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.className = 'pick';
      box.checked = this.selected.has(item.id);
      box.title = 'Select for "more like these"';
      box.addEventListener('click', (e) => {
        e.stopPropagation();
        this.toggle(item.id);
      });
      el.append(box);
    }
    el.addEventListener('click', (e) => {
      this.focused = index;
      if (this.options.selectable && (e.ctrlKey || e.metaKey)) this.toggle(item.id);
      else this.options.onOpen(item, index);
    });
    return el;
  }

  private toggle(id: number): void {
    if (this.selected.has(id)) this.selected.delete(id);
    else this.selected.add(id);
    this.options.onSelectionChange?.(this.selection());
    this.render();
  }

  private onKey(e: KeyboardEvent): void {
    const count = this.source.count();
    if (count === 0) return;
    const moves: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: this.columns,
      ArrowUp: -this.columns,
      PageDown: this.columns * 4,
      PageUp: -this.columns * 4,
    };
    if (e.key in moves) {
      this.focused = Math.min(count - 1, Math.max(0, (this.focused < 0 ? 0 : this.focused + moves[e.key])));
      this.virtualizer.scrollToIndex(Math.floor(this.focused / this.columns));
      this.render();
      e.preventDefault();
    } else if (e.key === 'Home' || e.key === 'End') {
      this.focused = e.key === 'Home' ? 0 : count - 1;
      this.virtualizer.scrollToIndex(Math.floor(this.focused / this.columns));
      this.render();
      e.preventDefault();
    } else if (e.key === 'Enter' && this.focused >= 0) {
      const item = this.source.get(this.focused);
      if (item) this.options.onOpen(item, this.focused);
    } else if (e.key === ' ' && this.options.selectable && this.focused >= 0) {
      const item = this.source.get(this.focused);
      if (item) this.toggle(item.id);
      e.preventDefault();
    }
  }
}

/** A grid source over a list already in memory (search results, a selection). */
export class ListSource implements GridSource {
  constructor(public items: Item[] = []) {}
  count(): number {
    return this.items.length;
  }
  get(index: number): Item | undefined {
    return this.items[index];
  }
}

/** The library's photos, loaded a page at a time as they scroll into view. */
export class LibrarySource implements GridSource {
  private pages = new Map<number, Photo[]>();
  private total = 0;
  static PAGE = 200;

  constructor(private fetch: (offset: number, limit: number) => Promise<Photo[]>) {}

  setTotal(total: number): void {
    this.total = total;
  }

  /** Forget loaded pages (the library changed). */
  invalidate(): void {
    this.pages.clear();
  }

  count(): number {
    return this.total;
  }

  get(index: number): Item | undefined {
    return this.pages.get(Math.floor(index / LibrarySource.PAGE))?.[index % LibrarySource.PAGE];
  }

  private inflight = new Map<number, Promise<void>>();

  load(index: number): Promise<void> {
    const page = Math.floor(index / LibrarySource.PAGE);
    if (this.pages.has(page)) return Promise.resolve();
    let p = this.inflight.get(page);
    if (!p) {
      p = this.fetch(page * LibrarySource.PAGE, LibrarySource.PAGE)
        .then((items) => void this.pages.set(page, items))
        .finally(() => this.inflight.delete(page));
      this.inflight.set(page, p);
    }
    return p;
  }
}
