// The photos drawn on the map when it is zoomed in: one WebGL draw of
// textured squares over the points, their pictures packed into a texture
// atlas filled from the thumbnail cache as photos come into view. Whatever
// the library's size, only the photos on screen are drawn or loaded; a
// photo whose picture has not arrived yet stays a point until it does.

import createREGL from 'regl';
import { thumbUrl } from '../api';

/** One photo to draw: its thumbnail's hash and its centre on screen (CSS px). */
export interface PlacedPhoto {
  hash: string;
  x: number;
  y: number;
}

/** The atlas: CELLS x CELLS pictures of CELL px each (2048 px square: a size every WebGL has). */
const CELL = 64;
const CELLS = 32;
const ATLAS = CELL * CELLS;
/** Thumbnails fetched at once; the rest wait their turn. */
const LOADING_AT_ONCE = 12;

interface Slot {
  /** Index in the atlas. */
  cell: number;
  loaded: boolean;
  /** When it was last drawn (frame number): the least recent make way. */
  used: number;
}

export class PhotoLayer {
  private regl: createREGL.Regl;
  private atlas: createREGL.Texture2D;
  private drawQuads: createREGL.DrawCommand;
  private slots = new Map<string, Slot>();
  private freeCells: number[] = Array.from({ length: CELLS * CELLS }, (_, i) => CELLS * CELLS - 1 - i);
  private queue: string[] = [];
  private loading = 0;
  private frame = 0;
  /** Cuts a thumbnail to its centre square at the atlas's cell size. */
  private scratch: HTMLCanvasElement;
  private last: { photos: PlacedPhoto[]; side: number } = { photos: [], side: 0 };
  private buffers: { position: createREGL.Buffer; uv: createREGL.Buffer; local: createREGL.Buffer };

  /** Called when a picture arrived, so the owner can draw again. */
  onLoaded: () => void = () => {};

  constructor(private canvas: HTMLCanvasElement) {
    this.regl = createREGL({ canvas, attributes: { alpha: true, premultipliedAlpha: false, antialias: false } });
    this.atlas = this.regl.texture({ width: ATLAS, height: ATLAS, min: 'linear', mag: 'linear' });
    this.scratch = document.createElement('canvas');
    this.scratch.width = CELL;
    this.scratch.height = CELL;
    this.buffers = {
      position: this.regl.buffer({ usage: 'dynamic', type: 'float' }),
      uv: this.regl.buffer({ usage: 'dynamic', type: 'float' }),
      local: this.regl.buffer({ usage: 'dynamic', type: 'float' }),
    };
    this.drawQuads = this.regl({
      vert: `
        precision mediump float;
        attribute vec2 position, uv, local;
        uniform vec2 viewport;
        varying vec2 vUv, vLocal;
        void main() {
          vUv = uv;
          vLocal = local;
          vec2 clip = position / viewport * 2.0 - 1.0;
          gl_Position = vec4(clip.x, -clip.y, 0.0, 1.0);
        }`,
      frag: `
        precision mediump float;
        uniform sampler2D atlas;
        uniform float border;
        varying vec2 vUv, vLocal;
        void main() {
          // A thin white frame, as printed photos have: it keeps neighbours apart.
          bool edge = min(min(vLocal.x, vLocal.y), min(1.0 - vLocal.x, 1.0 - vLocal.y)) < border;
          gl_FragColor = edge ? vec4(1.0) : texture2D(atlas, vUv);
        }`,
      attributes: { position: this.buffers.position, uv: this.buffers.uv, local: this.buffers.local },
      uniforms: {
        atlas: this.atlas,
        viewport: this.regl.prop<{ viewport: [number, number] }, 'viewport'>('viewport'),
        border: this.regl.prop<{ border: number }, 'border'>('border'),
      },
      count: this.regl.prop<{ count: number }, 'count'>('count'),
      depth: { enable: false },
    });
  }

  /** Match the canvas to its box (CSS px) at the screen's pixel density. */
  resize(width: number, height: number): void {
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(width * ratio));
    this.canvas.height = Math.max(1, Math.round(height * ratio));
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.draw(this.last.photos, this.last.side);
  }

  /** Draw `photos` as squares of `side` px; returns how many have their picture (the rest wait for it). */
  draw(photos: PlacedPhoto[], side: number): number {
    this.last = { photos, side };
    this.frame++;
    const ratio = this.canvas.width / Math.max(1, this.canvas.clientWidth || this.canvas.width);
    const position: number[] = [];
    const uv: number[] = [];
    const local: number[] = [];
    for (const p of photos) {
      const slot = this.slot(p.hash);
      if (!slot?.loaded) continue;
      slot.used = this.frame;
      const [u0, v0] = [(slot.cell % CELLS) / CELLS, Math.floor(slot.cell / CELLS) / CELLS];
      const [u1, v1] = [u0 + 1 / CELLS, v0 + 1 / CELLS];
      const [x0, y0, x1, y1] = [p.x - side / 2, p.y - side / 2, p.x + side / 2, p.y + side / 2].map((c) => c * ratio);
      // Two triangles a photo.
      position.push(x0, y0, x1, y0, x1, y1, x0, y0, x1, y1, x0, y1);
      uv.push(u0, v0, u1, v0, u1, v1, u0, v0, u1, v1, u0, v1);
      local.push(0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1);
    }
    this.regl.poll();
    this.regl.clear({ color: [0, 0, 0, 0] });
    const count = position.length / 2;
    if (count > 0) {
      this.buffers.position(position);
      this.buffers.uv(uv);
      this.buffers.local(local);
      this.drawQuads({ viewport: [this.canvas.width, this.canvas.height], border: 1.5 / Math.max(side, 1), count });
    }
    this.pump();
    return count / 6;
  }

  /** Stop drawing photos (zoomed out). */
  clear(): void {
    this.last = { photos: [], side: 0 };
    this.queue = [];
    this.regl.poll();
    this.regl.clear({ color: [0, 0, 0, 0] });
  }

  /** The photo's place in the atlas, asked for if it has none; none while the atlas is full of photos on screen. */
  private slot(hash: string): Slot | undefined {
    let slot = this.slots.get(hash);
    if (slot) return slot;
    const cell = this.freeCells.pop() ?? this.evict();
    if (cell === undefined) return undefined;
    slot = { cell, loaded: false, used: this.frame };
    this.slots.set(hash, slot);
    this.queue.push(hash);
    return slot;
  }

  /** Free the cell of the photo drawn longest ago (never one drawn in this frame). */
  private evict(): number | undefined {
    let oldest: [string, Slot] | undefined;
    for (const entry of this.slots) {
      if (entry[1].loaded && entry[1].used < this.frame && (!oldest || entry[1].used < oldest[1].used)) oldest = entry;
    }
    if (!oldest) return undefined;
    this.slots.delete(oldest[0]);
    return oldest[1].cell;
  }

  /** Fetch waiting thumbnails, a few at a time, newest requests first. */
  private pump(): void {
    while (this.loading < LOADING_AT_ONCE && this.queue.length > 0) {
      const hash = this.queue.pop()!;
      const slot = this.slots.get(hash);
      if (!slot || slot.loaded) continue;
      this.loading++;
      const img = new Image();
      // The thumbnail protocol allows it, and WebGL needs it: a picture
      // from another origin can only be uploaded when fetched with CORS.
      img.crossOrigin = 'anonymous';
      img.onload = () => {
        this.loading--;
        if (this.slots.get(hash) === slot) {
          this.upload(img, slot.cell);
          slot.loaded = true;
          this.onLoaded();
        }
        this.pump();
      };
      img.onerror = () => {
        this.loading--;
        // Keep the cell taken but never loaded: a missing thumbnail stays a point.
        this.pump();
      };
      img.src = thumbUrl(hash);
    }
  }

  private upload(img: HTMLImageElement, cell: number): void {
    const ctx = this.scratch.getContext('2d')!;
    const s = Math.min(img.naturalWidth, img.naturalHeight);
    ctx.clearRect(0, 0, CELL, CELL);
    ctx.drawImage(img, (img.naturalWidth - s) / 2, (img.naturalHeight - s) / 2, s, s, 0, 0, CELL, CELL);
    this.atlas.subimage(this.scratch, (cell % CELLS) * CELL, Math.floor(cell / CELLS) * CELL);
  }
}
