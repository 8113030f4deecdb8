// The left column: watched folders, indexing progress with pause and stop,
// and the files that could not be indexed.

import type { EngineState, Folder, Problem, Progress } from '../api';
import { basename, formatDuration } from '../format';

/** How the problem list is split, in this order. */
const PROBLEM_KINDS: [string, string][] = [
  ['failed', 'Broken'],
  ['unsupported', 'Unsupported'],
  ['skipped', 'Not images'],
];

export interface SidebarHandlers {
  addFolder: () => void;
  removeFolder: (path: string) => void;
  pause: () => void;
  resume: () => void;
  stop: () => void;
  rescan: () => void;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class Sidebar {
  readonly element = el('aside', 'sidebar');
  private folders = el('ul', 'folders');
  private progress = el('section', 'progress');
  private problems = el('details', 'problems');
  private state: EngineState = { state: 'idle' };
  private last: Progress | null = null;
  private pending = 0;

  constructor(private h: SidebarHandlers) {
    const head = el('div', 'side-head');
    head.append(el('h2', '', 'Folders'));
    const add = el('button', 'primary', 'Add folder…');
    add.id = 'add-folder';
    add.addEventListener('click', () => h.addFolder());
    head.append(add);
    this.element.append(head, this.folders, this.progress, this.problems);
    this.renderProgress();
  }

  setFolders(folders: Folder[]): void {
    this.folders.replaceChildren();
    for (const f of folders) {
      const li = el('li', `folder ${f.state}`);
      li.title = f.path;
      const name = el('span', 'folder-name', basename(f.path));
      const count = el('span', 'folder-count', f.state === 'missing' ? 'missing' : `${f.indexed} / ${f.files}`);
      const remove = el('button', 'icon', '✕');
      remove.title = `Stop watching ${f.path} (the photos stay on disk)`;
      remove.setAttribute('aria-label', `remove ${f.path}`);
      remove.addEventListener('click', () => this.h.removeFolder(f.path));
      li.append(name, count, remove);
      this.folders.append(li);
    }
  }

  setPending(pending: number): void {
    this.pending = pending;
    this.renderProgress();
  }

  setState(state: EngineState): void {
    this.state = state;
    if (state.state === 'idle') this.last = null;
    this.renderProgress();
  }

  setProgress(p: Progress): void {
    this.last = p;
    this.renderProgress();
  }

  setProblems(problems: Problem[]): void {
    this.problems.replaceChildren();
    this.problems.hidden = problems.length === 0;
    const summary = el('summary', '', `${problems.length} file${problems.length === 1 ? '' : 's'} not indexed`);
    this.problems.append(summary);
    // Broken files and valid ones using a feature not decoded here call for
    // different things from the user (replace the file / wait for support).
    for (const [state, title] of PROBLEM_KINDS) {
      const kind = problems.filter((p) => p.state === state);
      if (kind.length === 0) continue;
      const list = el('ul');
      list.dataset.kind = state;
      for (const p of kind.slice(0, 500)) {
        const li = el('li');
        li.append(el('span', 'problem-name', basename(p.path)), el('span', 'problem-error', p.error ?? p.state));
        li.title = p.path;
        list.append(li);
      }
      this.problems.append(el('div', 'problem-kind', `${title} (${kind.length})`), list);
    }
  }

  private renderProgress(): void {
    const box = this.progress;
    box.replaceChildren();
    box.dataset.state = this.state.state;
    const p = this.last;
    if (this.state.state === 'failed') {
      box.append(el('div', 'error', `Indexing stopped: ${this.state.error}`));
      box.append(this.button('Try again', () => this.h.resume()));
      return;
    }
    if (this.state.state === 'idle' && !p) {
      if (this.pending > 0) {
        box.append(el('div', 'muted', `${this.pending} photos waiting to be indexed`));
        box.append(this.button('Index now', () => this.h.rescan()));
      } else {
        box.append(el('div', 'muted', 'Up to date. New photos in watched folders are added by themselves.'));
      }
      return;
    }
    const title = this.state.state === 'paused' ? 'Paused' : p?.phase === 'scanning' ? 'Looking for photos…' : 'Indexing…';
    box.append(el('div', 'progress-title', title));
    if (p) {
      const bar = el('progress');
      bar.max = Math.max(1, p.total);
      bar.value = p.done;
      box.append(bar);
      const line = `${p.done} / ${p.total}` + (p.phase === 'embedding' ? ` · ${p.rate.toFixed(1)} photos/s · ${formatDuration(p.eta_secs)} left` : '');
      box.append(el('div', 'progress-line', line));
      if (p.current) {
        const cur = el('div', 'progress-current', basename(p.current));
        cur.title = p.current;
        box.append(cur);
      }
      if (p.errors > 0) box.append(el('div', 'error', `${p.errors} could not be read`));
    }
    const buttons = el('div', 'buttons');
    if (this.state.state === 'paused') buttons.append(this.button('Resume', () => this.h.resume()));
    else buttons.append(this.button('Pause', () => this.h.pause()));
    buttons.append(this.button('Stop', () => this.h.stop()));
    box.append(buttons);
  }

  private button(text: string, onClick: () => void): HTMLButtonElement {
    const b = el('button', '', text);
    b.addEventListener('click', onClick);
    return b;
  }
}
