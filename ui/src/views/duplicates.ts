// Near-duplicate groups side by side, with sizes and dates, and a way to
// move the unwanted ones to the system trash (undo is the trash).

import { commandError, thumbUrl, type Duplicates, type DuplicatePhoto, type Item, type Progress, type TrashReport } from '../api';
import { basename, formatBytes, formatDate } from '../format';
import { filmBadge, kindBadges } from './grid';

export interface DuplicatesHandlers {
  find: (maxDistance: number) => Promise<Duplicates>;
  cancel: () => void;
  trash: (ids: number[]) => Promise<TrashReport>;
  open: (items: Item[], index: number) => void;
  confirm: (message: string) => boolean;
  report: (message: string, error?: boolean) => void;
}

/** The library's default strictness (cosine distance), from BENCHMARKS.md. */
export const DEFAULT_MAX_DISTANCE = 0.12;
/** Groups drawn at a time. */
const PAGE = 100;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function among(d: Duplicates): string {
  return d.videos ? `${plural(d.photos, 'photo')} and ${plural(d.videos, 'video')}` : plural(d.photos, 'photo');
}

export class DuplicatesView {
  readonly element = document.createElement('div');
  private list = document.createElement('div');
  private status = document.createElement('span');
  private chosen = new Set<number>();
  private result: Duplicates | null = null;
  private running = false;
  /** Groups drawn so far: a big library can have thousands. */
  private shown = PAGE;

  constructor(private h: DuplicatesHandlers) {
    this.element.className = 'duplicates';
    this.list.className = 'dup-groups';
    const bar = document.createElement('div');
    bar.className = 'results-bar dup-bar';
    bar.innerHTML = `
      <label title="Largest distance between near copies: lower is stricter; 0 finds only byte-for-byte copies">Strictness
        <input name="max-distance" type="range" min="0" max="0.3" step="0.01" value="${DEFAULT_MAX_DISTANCE}">
        <span class="value"></span></label>
      <button name="find" class="primary">Find duplicates</button>
      <button name="cancel" class="hidden">Cancel</button>
      <button name="select-copies" disabled>Select all but the first of each group</button>
      <button name="trash" disabled>Move to trash</button>`;
    this.status.className = 'muted dup-status';
    bar.append(this.status);
    this.element.append(bar, this.list);
    const range = bar.querySelector('input') as HTMLInputElement;
    const value = bar.querySelector('.value') as HTMLElement;
    const showValue = () => (value.textContent = Number(range.value).toFixed(2));
    showValue();
    range.addEventListener('input', showValue);
    const button = (n: string) => bar.querySelector(`button[name="${n}"]`) as HTMLButtonElement;
    button('find').addEventListener('click', () => void this.find(Number(range.value)));
    button('cancel').addEventListener('click', () => this.h.cancel());
    button('select-copies').addEventListener('click', () => {
      for (const g of this.result?.groups ?? []) g.photos.slice(1).forEach((p) => this.chosen.add(p.id));
      this.draw();
    });
    button('trash').addEventListener('click', () => void this.trash(Number(range.value)));
  }

  private button(name: string): HTMLButtonElement {
    return this.element.querySelector(`button[name="${name}"]`) as HTMLButtonElement;
  }

  setProgress(p: Progress): void {
    if (this.running && p.phase === 'comparing') this.status.textContent = `Comparing ${p.done} of ${p.total} photos…`;
  }

  async find(maxDistance: number): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.button('find').disabled = true;
    this.button('cancel').classList.remove('hidden');
    this.status.textContent = 'Comparing…';
    try {
      this.show(await this.h.find(maxDistance));
    } catch (e) {
      const cancelled = commandError(e).kind === 'cancelled';
      this.status.textContent = cancelled ? 'Cancelled.' : '';
      if (!cancelled) this.h.report(String(e), true);
    } finally {
      this.running = false;
      this.button('find').disabled = false;
      this.button('cancel').classList.add('hidden');
    }
  }

  show(d: Duplicates): void {
    this.result = d;
    this.chosen.clear();
    this.shown = PAGE;
    const copies = d.groups.reduce((n, g) => n + g.photos.length - 1, 0);
    this.status.textContent = d.groups.length
      ? `${plural(d.groups.length, 'group')}, ${plural(copies, 'copy', 'copies')} among ${among(d)} (${d.model}).`
      : `No duplicates among ${among(d)} at this strictness.`;
    document.body.dataset.dupGroups = String(d.groups.length);
    this.draw();
  }

  private draw(): void {
    const d = this.result;
    this.list.replaceChildren();
    this.button('select-copies').disabled = !d?.groups.length;
    const trash = this.button('trash');
    trash.disabled = this.chosen.size === 0;
    trash.textContent = this.chosen.size ? `Move ${this.chosen.size} to trash` : 'Move to trash';
    for (const group of d?.groups.slice(0, this.shown) ?? []) {
      const section = document.createElement('section');
      section.className = 'dup-group';
      const exact = group.photos.slice(1).every((p) => p.exact);
      const head = document.createElement('h4');
      const kind = group.photos.every((p) => p.duration_ms != null) ? 'videos' : 'photos';
      head.textContent = `${group.photos.length} ${kind} · ${exact ? 'exact copies' : 'near copies'}`;
      const row = document.createElement('div');
      row.className = 'dup-row';
      group.photos.forEach((p, i) => row.append(this.card(p, i, group.photos)));
      section.append(head, row);
      this.list.append(section);
    }
    const rest = (d?.groups.length ?? 0) - this.shown;
    if (rest > 0) {
      const more = document.createElement('button');
      more.className = 'dup-more';
      more.textContent = `Show ${Math.min(rest, PAGE)} more groups (${rest} not shown)`;
      more.addEventListener('click', () => {
        this.shown += PAGE;
        this.draw();
      });
      this.list.append(more);
    }
  }

  private card(p: DuplicatePhoto, index: number, photos: DuplicatePhoto[]): HTMLElement {
    const card = document.createElement('figure');
    card.className = 'dup-card';
    card.dataset.id = String(p.id);
    if (this.chosen.has(p.id)) card.classList.add('chosen');
    const img = document.createElement('img');
    img.src = thumbUrl(p.hash);
    img.alt = basename(p.path);
    img.addEventListener('click', () => this.h.open(photos, index));
    const caption = document.createElement('figcaption');
    const line = (text: string, cls = '') => {
      const span = document.createElement('span');
      span.textContent = text;
      if (cls) span.className = cls;
      caption.append(span);
    };
    line(basename(p.path), 'name');
    line([p.width && p.height ? `${p.width}×${p.height}` : '', formatBytes(p.size)].filter(Boolean).join(' · '));
    line(formatDate(p.taken_at ?? p.modified) + (p.taken_at ? ' taken' : ' modified'), 'muted');
    const pixels = p.hash_bits != null ? ` · pixels ${p.hash_bits}/64` : '';
    line(index === 0 ? 'keep (largest)' : p.exact ? 'exact copy' : `distance ${p.distance.toFixed(3)}${pixels}`, index === 0 ? 'keep' : 'badge');
    const pick = document.createElement('label');
    pick.className = 'dup-pick';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = this.chosen.has(p.id);
    box.addEventListener('change', () => {
      if (box.checked) this.chosen.add(p.id);
      else this.chosen.delete(p.id);
      this.draw();
    });
    pick.append(box, ' trash');
    card.title = p.path;
    card.append(img, caption, pick);
    const film = filmBadge(p);
    if (film) card.append(film);
    const kinds = kindBadges(p);
    if (kinds) card.append(kinds);
    return card;
  }

  private async trash(maxDistance: number): Promise<void> {
    const ids = [...this.chosen];
    if (!ids.length) return;
    if (!this.h.confirm(`Move ${ids.length} photo${ids.length > 1 ? 's' : ''} to the trash?\nYou can restore them from the system trash.`)) return;
    try {
      const r = await this.h.trash(ids);
      this.h.report(
        r.failed.length
          ? `${r.trashed.length} moved to the trash; ${r.failed.length} could not be: ${r.failed[0][1]}`
          : `${r.trashed.length} moved to the trash.`,
        r.failed.length > 0,
      );
    } catch (e) {
      this.h.report(String(e), true);
    }
    await this.find(maxDistance);
  }
}
