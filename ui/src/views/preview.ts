// A larger view of one photo with what can be done with it.

import { photoUrl, type Item } from '../api';
import { basename, formatBytes } from '../format';

export interface PreviewHandlers {
  open: (id: number) => void;
  reveal: (id: number) => void;
  similar: (id: number) => void;
}

export class Preview {
  readonly element: HTMLElement;
  private items: Item[] = [];
  private index = 0;

  constructor(private h: PreviewHandlers) {
    this.element = document.createElement('div');
    this.element.className = 'preview hidden';
    this.element.setAttribute('role', 'dialog');
    this.element.addEventListener('click', (e) => {
      if (e.target === this.element) this.close();
    });
    document.addEventListener('keydown', (e) => {
      if (this.element.classList.contains('hidden')) return;
      if (e.key === 'Escape') this.close();
      else if (e.key === 'ArrowRight') this.show(this.index + 1);
      else if (e.key === 'ArrowLeft') this.show(this.index - 1);
      else return;
      e.preventDefault();
      e.stopPropagation();
    }, true);
  }

  /** Show `items[index]`; arrows step through the list. */
  open(items: Item[], index: number): void {
    this.items = items;
    this.element.classList.remove('hidden');
    this.show(index);
  }

  close(): void {
    this.element.classList.add('hidden');
    this.element.replaceChildren();
  }

  private show(index: number): void {
    if (index < 0 || index >= this.items.length) return;
    this.index = index;
    const item = this.items[index];
    const box = document.createElement('div');
    box.className = 'preview-box';
    const img = document.createElement('img');
    img.src = photoUrl(item.id);
    img.alt = basename(item.path);
    const meta = document.createElement('div');
    meta.className = 'preview-meta';
    const title = document.createElement('div');
    title.className = 'preview-title';
    title.textContent = basename(item.path);
    const path = document.createElement('div');
    path.className = 'muted';
    path.textContent = [item.path, item.width && item.height ? `${item.width}×${item.height}` : '', formatBytes(item.size)].filter(Boolean).join(' · ');
    meta.append(title, path);
    if ('distance' in item) {
      const d = document.createElement('div');
      d.textContent = `distance ${item.distance.toFixed(4)} · similarity ${item.similarity.toFixed(3)}`;
      meta.append(d);
    }
    const actions = document.createElement('div');
    actions.className = 'buttons';
    const button = (text: string, f: () => void, primary = false) => {
      const b = document.createElement('button');
      b.textContent = text;
      if (primary) b.className = 'primary';
      b.addEventListener('click', f);
      actions.append(b);
    };
    button('Find similar to this one', () => {
      this.close();
      this.h.similar(item.id);
    }, true);
    button('Open file', () => this.h.open(item.id));
    button('Show in folder', () => this.h.reveal(item.id));
    button('Close', () => this.close());
    meta.append(actions);
    box.append(img, meta);
    this.element.replaceChildren(box);
  }
}
