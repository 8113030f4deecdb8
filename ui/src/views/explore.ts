// The library as a map (regl-scatterplot: WebGL, smooth with hundreds of
// thousands of points), coloured by island, with the islands' names on them
// (their parts' names once zoomed in) and, zoomed in further, the photos'
// own thumbnails drawn over their points (`map-photos`: a texture atlas).
// Hover shows the thumbnail, a click picks a photo and shows its
// neighbours, shift-drag lassoes a set of photos. When a new layout
// arrives, the points move from their old places to their new ones.

import createScatterplot from 'regl-scatterplot';
import { thumbUrl, type ClusterSummary, type ExploreMap, type MapPoint, type Progress } from '../api';
import { CLUSTER_COLORS, basename, normalise } from '../format';
import { PhotoLayer, type PlacedPhoto } from './map-photos';

export interface ExploreHandlers {
  onPick: (point: MapPoint) => void;
  onLasso: (points: MapPoint[]) => void;
}

type Scatterplot = ReturnType<typeof createScatterplot>;

const INFO = 'Drag to pan, scroll to zoom (photos show when close), click a point to see its neighbours, hold Shift and drag to lasso.';
const LAYING_OUT = 'Laying out the map';
/** How long points take to move to a new layout (ms). */
const MOVE_MS = 1200;
/** Points between islands are drawn in this colour. */
const UNCLUSTERED = '#9ca3af';
/** Zoom (the view's scale) from which parts are named instead of islands, and from which photos are drawn. */
const PART_ZOOM = 2.5;
const PHOTO_ZOOM = 6;
/** A photo's side on screen (px) at PHOTO_ZOOM; it grows as the map is zoomed in further, up to MAX_PHOTO_SIDE. */
const PHOTO_SIDE = 40;
const MAX_PHOTO_SIDE = 128;

export class ExploreView {
  readonly element: HTMLElement;
  private canvas: HTMLCanvasElement;
  private photoCanvas: HTMLCanvasElement;
  private photoLayer: PhotoLayer | null = null;
  /** The photos drawn now, in screen coordinates relative to the map (for the tests). */
  private placed: PlacedPhoto[] = [];
  private photoSide = 0;
  private tooltip: HTMLElement;
  private legend: HTMLElement;
  private info: HTMLElement;
  /** Cluster names and photos laid over the map, in screen coordinates. */
  private overlay: HTMLElement;
  /** Per cluster: the point drawn nearest its centre, where its name goes. */
  private anchors = new Map<number, number>();
  /** Each point where it is drawn (normalised coordinates). */
  private drawn: Array<[number, number]> = [];
  /** Indices of the leftmost, rightmost, lowest and highest points: they give the view's scale. */
  private extremes: [number, number, number, number] = [0, 0, 0, 0];
  private zoom = 1;
  private overlayQueued = false;
  private drawing: Promise<void> = Promise.resolve();
  private plot: Scatterplot | null = null;
  private map: ExploreMap | null = null;
  private index = new Map<number, number>();
  /** Set while the app itself selects points, so its own select event is not taken for a click. */
  private highlighting = false;
  private mouse = { x: 0, y: 0 };

  constructor(private handlers: ExploreHandlers) {
    this.element = document.createElement('div');
    this.element.className = 'explore';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'scatter';
    this.tooltip = document.createElement('div');
    this.tooltip.className = 'tooltip hidden';
    this.legend = document.createElement('div');
    this.legend.className = 'legend';
    this.info = document.createElement('div');
    this.info.className = 'explore-info';
    this.info.textContent = INFO;
    this.photoCanvas = document.createElement('canvas');
    this.photoCanvas.className = 'map-photos';
    this.overlay = document.createElement('div');
    this.overlay.className = 'map-overlay';
    this.element.append(this.canvas, this.photoCanvas, this.overlay, this.tooltip, this.legend, this.info);
    this.canvas.addEventListener('mousemove', (e) => {
      const r = this.element.getBoundingClientRect();
      this.mouse = { x: e.clientX - r.left, y: e.clientY - r.top };
    });
  }

  /**
   * Draw `map`; the points become clickable once drawn. A map that is
   * `pending` is the old one while a new layout is made (or nothing yet);
   * when the new one comes, points move from their old places.
   */
  show(map: ExploreMap): Promise<void> {
    // One draw at a time (regl-scatterplot ignores a draw while one runs):
    // a map that comes while another is drawn waits its turn.
    this.drawing = this.drawing.then(() => this.draw(map)).catch(() => this.draw(map));
    return this.drawing;
  }

  private async draw(map: ExploreMap): Promise<void> {
    if (map.pending) this.info.textContent = `${LAYING_OUT}…`;
    else if (this.info.textContent?.startsWith(LAYING_OUT)) this.info.textContent = INFO;
    this.element.dataset.pending = String(map.pending);
    if (map.points.length === 0 && this.map) return; // keep what is drawn until the new layout comes
    const before = this.map;
    const beforeAt = new Map(before ? before.points.map((p, i) => [p.id, this.drawn[i]] as const) : []);
    this.map = map;
    this.index = new Map(map.points.map((p, i) => [p.id, i]));
    if (!this.plot) this.plot = this.create();
    if (!this.plot) return;
    const { x, y } = normalise(
      map.points.map((p) => p.x),
      map.points.map((p) => p.y),
    );
    const pointSize = map.points.length > 20000 ? 2 : map.points.length > 2000 ? 4 : 7;
    this.plot.set({ pointSize, pointColor: [...CLUSTER_COLORS, UNCLUSTERED], colorBy: 'valueA' });
    const colour = (p: MapPoint) => (p.cluster == null ? CLUSTER_COLORS.length : p.cluster % CLUSTER_COLORS.length);
    const valueA = map.points.map(colour);
    const moved = map.points.some((p, i) => {
      const was = beforeAt.get(p.id);
      return was !== undefined && (was[0] !== x[i] || was[1] !== y[i]);
    });
    if (moved) {
      // From where each photo was (new photos from where they will be) to the new layout.
      const from = map.points.map((p, i) => beforeAt.get(p.id) ?? [x[i], y[i]]);
      await this.plot.draw({ x: from.map((f) => f[0]), y: from.map((f) => f[1]), valueA }, { zDataType: 'categorical' });
      await this.plot.draw({ x, y, valueA }, { zDataType: 'categorical', transition: true, transitionDuration: MOVE_MS });
    } else {
      await this.plot.draw({ x, y, valueA }, { zDataType: 'categorical' });
    }
    this.element.dataset.points = String(map.points.length);
    this.element.dataset.moved = String(moved);
    this.anchors = anchors(map, x, y);
    this.drawn = x.map((xi, i) => [xi, y[i]]);
    this.extremes = extremes(x, y);
    this.renderLegend(map);
    this.queueOverlay();
  }

  /** The map drawn now. */
  current(): ExploreMap | null {
    return this.map;
  }

  /** The photos drawn on the map now: centres relative to the viewport and their side (px). */
  drawnPhotos(): Array<{ x: number; y: number; side: number }> {
    const r = this.element.getBoundingClientRect();
    return this.placed.map((p) => ({ x: r.left + p.x, y: r.top + p.y, side: this.photoSide }));
  }

  /** Redraw the names and photos over the map after the view moved (once a frame). */
  private queueOverlay(): void {
    if (this.overlayQueued) return;
    this.overlayQueued = true;
    requestAnimationFrame(() => {
      this.overlayQueued = false;
      this.drawOverlay();
    });
  }

  private drawOverlay(): void {
    const plot = this.plot;
    const map = this.map;
    this.overlay.replaceChildren();
    if (!plot || !map) return;
    const r = this.element.getBoundingClientRect();
    const onScreen = ([sx, sy]: [number, number]) => sx >= 0 && sy >= 0 && sx <= r.width && sy <= r.height;
    this.drawPhotos(plot, map, r);
    // Names: the islands when zoomed out, their parts (and islands without parts) when zoomed in.
    const parts = this.zoom >= PART_ZOOM;
    const hasParts = new Set(map.clusters.filter((c) => c.parent != null).map((c) => c.parent));
    const names = new NamePlacer(r.width, r.height);
    // Names under the legend could not be read.
    const legend = this.legend.getBoundingClientRect();
    if (legend.width > 0) names.reserve({ x: legend.left - r.left, y: legend.top - r.top, w: legend.width, h: legend.height });
    // The biggest first: where names would cover each other, theirs stay.
    for (const c of [...map.clusters].sort((a, b) => b.size - a.size)) {
      const shown = parts ? c.parent != null || !hasParts.has(c.cluster) : c.parent == null;
      const anchor = this.anchors.get(c.cluster);
      if (!shown || anchor === undefined) continue;
      const at = plot.getScreenPosition(anchor);
      if (!at || !onScreen(at)) continue;
      const name = document.createElement('div');
      name.className = 'map-name';
      name.textContent = `${c.name} (${c.size})`;
      this.overlay.append(name);
      if (!names.place(name, at)) name.remove(); // the legend still names it
    }
    this.element.dataset.zoom = this.zoom.toFixed(2);
  }

  /**
   * Zoomed in: the photos on screen over their points, one per square of
   * the map's own grid (so panning does not change which are shown), the
   * squares growing as the map is zoomed in.
   */
  private drawPhotos(plot: Scatterplot, map: ExploreMap, r: DOMRect): void {
    const layer = this.photoLayer;
    this.placed = [];
    if (!layer) return;
    if (this.zoom < PHOTO_ZOOM) {
      layer.clear();
      this.element.dataset.photos = '0';
      return;
    }
    const side = Math.min(MAX_PHOTO_SIDE, (PHOTO_SIDE * this.zoom) / PHOTO_ZOOM);
    // Pixels per unit of the drawn coordinates, from the points farthest apart.
    const [left, right, low, high] = this.extremes;
    const [l, rt, lo, hi] = [left, right, low, high].map((i) => plot.getScreenPosition(i));
    if (!l || !rt || !lo || !hi) return;
    const scaleX = (rt[0] - l[0]) / (this.drawn[right][0] - this.drawn[left][0] || 1);
    const scaleY = (hi[1] - lo[1]) / (this.drawn[high][1] - this.drawn[low][1] || 1);
    const taken = new Set<string>();
    for (const i of plot.get('pointsInView') as number[]) {
      const hash = map.points[i]?.hash;
      if (!hash) continue;
      const [dx, dy] = this.drawn[i];
      const cell = `${Math.floor((dx * scaleX) / side)},${Math.floor((dy * scaleY) / side)}`;
      if (taken.has(cell)) continue;
      const at = plot.getScreenPosition(i);
      if (!at || at[0] < -side || at[1] < -side || at[0] > r.width + side || at[1] > r.height + side) continue;
      taken.add(cell);
      this.placed.push({ hash, x: at[0], y: at[1] });
    }
    this.photoSide = side;
    const shown = layer.draw(this.placed, side);
    this.element.dataset.photos = String(shown);
  }

  /** Zoom in on the `index`-th photo until the map is `distance` across (1: all of it). */
  async zoomTo(index: number, distance: number): Promise<void> {
    const at = this.drawn[index];
    if (this.plot && at) await this.plot.zoomToLocation(at, distance, { transition: false });
  }

  /** While a map is laid out: how far it is. */
  setProgress(p: Progress): void {
    if (p.phase !== 'mapping') return;
    this.info.textContent = p.done < p.total ? `${LAYING_OUT}… ${p.done}%` : INFO;
  }

  /** The layout being made stopped or failed: the map drawn stays. */
  layoutEnded(): void {
    this.info.textContent = INFO;
    this.element.dataset.pending = 'false';
  }

  /** Mark a query's photo and its results (after a search elsewhere). */
  highlight(ids: number[]): void {
    if (!this.plot || !this.map) return;
    const indices = ids.map((id) => this.index.get(id)).filter((i): i is number => i !== undefined);
    this.highlighting = true;
    this.plot.select(indices, { preventEvent: true });
    this.highlighting = false;
    this.element.dataset.highlighted = String(indices.length);
  }

  resize(): void {
    const r = this.element.getBoundingClientRect();
    this.plot?.set({ width: Math.max(1, r.width), height: Math.max(1, r.height) });
    this.photoLayer?.resize(r.width, r.height);
    this.queueOverlay();
  }

  private create(): Scatterplot | null {
    const r = this.element.getBoundingClientRect();
    try {
      const dark = document.documentElement.dataset.theme === 'dark';
      const plot = createScatterplot({
        canvas: this.canvas,
        width: Math.max(1, r.width || 800),
        height: Math.max(1, r.height || 600),
        backgroundColor: dark ? '#14161a' : '#ffffff',
        pointColorActive: dark ? '#ffffff' : '#000000',
        opacityInactiveMax: 0.5,
        lassoColor: '#2563eb',
        deselectOnEscape: true,
      });
      plot.subscribe('pointOver', (i: number) => this.showTooltip(i));
      plot.subscribe('view', ({ view }: { view: Float32Array }) => {
        this.zoom = view[0];
        this.queueOverlay();
      });
      plot.subscribe('pointOut', () => this.tooltip.classList.add('hidden'));
      plot.subscribe('select', ({ points }: { points: number[] }) => {
        if (this.highlighting || !this.map) return;
        const picked = points.map((i) => this.map!.points[i]).filter(Boolean);
        if (picked.length === 1) this.handlers.onPick(picked[0]);
        else if (picked.length > 1) this.handlers.onLasso(picked);
      });
      this.photoLayer = new PhotoLayer(this.photoCanvas);
      this.photoLayer.onLoaded = () => this.queueOverlay();
      this.photoLayer.resize(Math.max(1, r.width || 800), Math.max(1, r.height || 600));
      new ResizeObserver(() => this.resize()).observe(this.element);
      return plot;
    } catch (e) {
      this.info.textContent = `The map needs WebGL, which this window cannot provide: ${e}`;
      this.element.classList.add('no-webgl');
      return null;
    }
  }

  private showTooltip(i: number): void {
    const p = this.map?.points[i];
    if (!p) return;
    this.tooltip.replaceChildren();
    const img = document.createElement('img');
    img.src = thumbUrl(p.hash);
    const name = document.createElement('div');
    const cluster = this.map?.clusters[p.part ?? p.cluster ?? -1];
    name.textContent = `${basename(p.path)} · ${cluster?.name ?? 'between islands'}`;
    this.tooltip.append(img, name);
    this.tooltip.style.left = `${this.mouse.x + 14}px`;
    this.tooltip.style.top = `${this.mouse.y + 14}px`;
    this.tooltip.classList.remove('hidden');
  }

  private renderLegend(map: ExploreMap): void {
    this.legend.replaceChildren();
    const title = document.createElement('div');
    title.className = 'legend-title';
    const how =
      map.layout === 'pca'
        ? `PCA ${(map.explained[0] * 100).toFixed(0)}% + ${(map.explained[1] * 100).toFixed(0)}%`
        : 'alike photos together';
    // Narrow, on two lines: a wide legend hides the islands beneath it.
    title.textContent = `${map.points.length} photos`;
    const about = document.createElement('div');
    about.className = 'legend-about';
    about.textContent = `${map.model} · ${how}`;
    this.legend.append(title, about);
    // The parts of islands are listed on request: listed always, they made
    // the legend tall enough to hide the islands beneath it.
    const parts = map.clusters.filter((c) => c.parent != null).length;
    let toggle: HTMLButtonElement | null = null;
    if (parts > 0) {
      toggle = document.createElement('button');
      toggle.className = 'legend-toggle';
      const label = () => (this.legend.classList.contains('open') ? 'hide their parts' : `show their parts (${parts})`);
      toggle.textContent = label();
      toggle.addEventListener('click', () => {
        this.legend.classList.toggle('open');
        if (toggle) toggle.textContent = label();
        this.queueOverlay(); // the names the legend now covers move
      });
    }
    const row = (c: ClusterSummary | null, colour: string, text: string, part: boolean) => {
      const el = document.createElement('div');
      el.className = part ? 'legend-row legend-part' : 'legend-row';
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.style.background = colour;
      const label = document.createElement('span');
      label.textContent = text;
      el.append(dot, label);
      if (c) el.dataset.cluster = c.label_path;
      this.legend.append(el);
    };
    for (const c of map.clusters.filter((c) => c.parent == null)) {
      const colour = CLUSTER_COLORS[c.cluster % CLUSTER_COLORS.length];
      row(c, colour, `${c.name} (${c.size})`, false);
      for (const part of map.clusters.filter((p) => p.parent === c.cluster)) row(part, colour, `${part.name} (${part.size})`, true);
    }
    if (map.unclustered > 0) row(null, UNCLUSTERED, `between islands (${map.unclustered})`, false);
    if (toggle) this.legend.append(toggle);
  }
}

/** Per cluster, the point (index) nearest its centre in drawn coordinates. */
function anchors(map: ExploreMap, x: number[], y: number[]): Map<number, number> {
  const sums = new Map<number, [number, number, number]>();
  const members = (p: MapPoint) => [p.cluster, p.part].filter((c): c is number => c != null);
  map.points.forEach((p, i) => {
    for (const c of members(p)) {
      const s = sums.get(c) ?? [0, 0, 0];
      sums.set(c, [s[0] + x[i], s[1] + y[i], s[2] + 1]);
    }
  });
  const best = new Map<number, [number, number]>();
  map.points.forEach((p, i) => {
    for (const c of members(p)) {
      const [sx, sy, n] = sums.get(c)!;
      const d = (x[i] - sx / n) ** 2 + (y[i] - sy / n) ** 2;
      const b = best.get(c);
      if (!b || d < b[1]) best.set(c, [i, d]);
    }
  });
  return new Map([...best].map(([c, [i]]) => [c, i]));
}

/** Indices of the points with the smallest and largest x, then y. */
function extremes(x: number[], y: number[]): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < x.length; i++) {
    if (x[i] < x[out[0]]) out[0] = i;
    if (x[i] > x[out[1]]) out[1] = i;
    if (y[i] < y[out[2]]) out[2] = i;
    if (y[i] > y[out[3]]) out[3] = i;
  }
  return out;
}

/**
 * Puts island names on the map: centred on their island, else beside, above
 * or below it where that would cover a name already placed or the legend,
 * always inside the map; a name with no free place is not shown.
 */
class NamePlacer {
  private taken: Array<{ x: number; y: number; w: number; h: number }> = [];

  constructor(private readonly width: number, private readonly height: number) {}

  /** Keep names off this box (relative to the map). */
  reserve(box: { x: number; y: number; w: number; h: number }): void {
    this.taken.push(box);
  }

  /** Place `name` (already in the overlay, to be measured) for an island at `at`; false if there is no room. */
  place(name: HTMLElement, at: [number, number]): boolean {
    const w = name.offsetWidth;
    const h = name.offsetHeight;
    const clamp = (v: number, max: number) => Math.max(2, Math.min(v, max - 2));
    // Centred on the island, then starting or ending at it (the island stays under its name).
    const lefts = [at[0] - w / 2, at[0] - 8, at[0] - w + 8];
    for (const dy of [0, -(h + 2), h + 2]) {
      for (const left of lefts) {
        const box = { x: clamp(left, this.width - w), y: clamp(at[1] + dy - h / 2, this.height - h), w, h };
        const covers = this.taken.some((t) => box.x < t.x + t.w && t.x < box.x + box.w && box.y < t.y + t.h && t.y < box.y + box.h);
        if (covers) continue;
        this.taken.push(box);
        name.style.left = `${box.x}px`;
        name.style.top = `${box.y}px`;
        return true;
      }
    }
    return false;
  }
}
