// Dragging a rectangle on a photo to search with that part of it: used on
// the query photo of the results and on the preview.

import type { Region } from '../api';

/** The smallest part worth searching with, as a fraction of each side: less is a click. */
const MIN_PART = 0.03;

/**
 * Make `img` (inside `frame`, which gets the rectangle) markable: a drag
 * draws a rectangle and, on release, calls `onPart` with it in fractions of
 * the picture. `shown` is a part to draw from the start (the one searched
 * with); with `onPart` null, that is all.
 */
export function markableRegion(frame: HTMLElement, img: HTMLImageElement, onPart: ((part: Region) => void) | null, shown: Region | null = null): void {
  let box = frame.querySelector<HTMLElement>('.region-box');
  if (!box) {
    box = document.createElement('div');
    box.className = 'region-box hidden';
    frame.append(box);
  }
  const rect = box;
  // The frame wraps the picture exactly (see .query-frame, .preview-frame),
  // so fractions of the picture are percentages of the frame: right before
  // the frame is laid out, and whatever size it is drawn at later.
  const place = (p: Region) => {
    Object.assign(rect.style, { left: `${p.x * 100}%`, top: `${p.y * 100}%`, width: `${p.width * 100}%`, height: `${p.height * 100}%` });
    rect.classList.remove('hidden');
  };
  if (shown) place(shown);
  if (!onPart) return;
  const chosen = onPart;
  frame.classList.add('can-mark');
  const at = (e: MouseEvent) => {
    const b = img.getBoundingClientRect();
    return { x: Math.min(1, Math.max(0, (e.clientX - b.left) / b.width)), y: Math.min(1, Math.max(0, (e.clientY - b.top) / b.height)) };
  };
  frame.addEventListener('mousedown', (down) => {
    if (down.button !== 0) return;
    down.preventDefault();
    const from = at(down);
    let part: Region | null = null;
    const move = (e: MouseEvent) => {
      const to = at(e);
      part = { x: Math.min(from.x, to.x), y: Math.min(from.y, to.y), width: Math.abs(to.x - from.x), height: Math.abs(to.y - from.y) };
      place(part);
    };
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      if (part && part.width > MIN_PART && part.height > MIN_PART) chosen(part);
      else if (shown) place(shown);
      else rect.classList.add('hidden');
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  });
}
