// The library as a 2-D PCA scatter, coloured by cluster (regl-scatterplot:
// WebGL, smooth with hundreds of thousands of points). Hover shows the
// thumbnail, a click picks a photo and shows its neighbours, shift-drag
// lassoes a set of photos.

import createScatterplot from 'regl-scatterplot';
import { thumbUrl, type ExploreMap, type MapPoint } from '../api';
import { CLUSTER_COLORS, basename, normalise } from '../format';

export interface ExploreHandlers {
  onPick: (point: MapPoint) => void;
  onLasso: (points: MapPoint[]) => void;
}

type Scatterplot = ReturnType<typeof createScatterplot>;

export class ExploreView {
  readonly element: HTMLElement;
  private canvas: HTMLCanvasElement;
  private tooltip: HTMLElement;
  private legend: HTMLElement;
  private info: HTMLElement;
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
    this.info.textContent = 'Drag to pan, scroll to zoom, click a point to see its neighbours, hold Shift and drag to lasso.';
    this.element.append(this.canvas, this.tooltip, this.legend, this.info);
    this.canvas.addEventListener('mousemove', (e) => {
      const r = this.element.getBoundingClientRect();
      this.mouse = { x: e.clientX - r.left, y: e.clientY - r.top };
    });
  }

  /** Draw `map`; the points become clickable once drawn. */
  async show(map: ExploreMap): Promise<void> {
    this.map = map;
    this.index = new Map(map.points.map((p, i) => [p.id, i]));
    if (!this.plot) this.plot = this.create();
    if (!this.plot) return;
    const { x, y } = normalise(
      map.points.map((p) => p.x),
      map.points.map((p) => p.y),
    );
    const pointSize = map.points.length > 20000 ? 2 : map.points.length > 2000 ? 4 : 7;
    this.plot.set({ pointSize, pointColor: CLUSTER_COLORS, colorBy: 'valueA' });
    await this.plot.draw({ x, y, valueA: map.points.map((p) => p.cluster % CLUSTER_COLORS.length) }, { zDataType: 'categorical' });
    this.element.dataset.points = String(map.points.length);
    this.renderLegend(map);
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
      plot.subscribe('pointOut', () => this.tooltip.classList.add('hidden'));
      plot.subscribe('select', ({ points }: { points: number[] }) => {
        if (this.highlighting || !this.map) return;
        const picked = points.map((i) => this.map!.points[i]).filter(Boolean);
        if (picked.length === 1) this.handlers.onPick(picked[0]);
        else if (picked.length > 1) this.handlers.onLasso(picked);
      });
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
    const cluster = this.map?.clusters.find((c) => c.cluster === p.cluster);
    name.textContent = `${basename(p.path)} · ${cluster?.name ?? ''}`;
    this.tooltip.append(img, name);
    this.tooltip.style.left = `${this.mouse.x + 14}px`;
    this.tooltip.style.top = `${this.mouse.y + 14}px`;
    this.tooltip.classList.remove('hidden');
  }

  private renderLegend(map: ExploreMap): void {
    this.legend.replaceChildren();
    const title = document.createElement('div');
    title.className = 'legend-title';
    title.textContent = `${map.points.length} photos · ${map.model} · PCA ${(map.explained[0] * 100).toFixed(0)}% + ${(map.explained[1] * 100).toFixed(0)}%`;
    this.legend.append(title);
    for (const c of map.clusters) {
      const row = document.createElement('div');
      row.className = 'legend-row';
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.style.background = CLUSTER_COLORS[c.cluster % CLUSTER_COLORS.length];
      const label = document.createElement('span');
      label.textContent = `${c.name} (${c.size})`;
      row.append(dot, label);
      this.legend.append(row);
    }
  }
}
